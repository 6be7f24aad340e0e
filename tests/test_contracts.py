"""The architecture contracts in pyproject.toml ([tool.importlinter]) hold: core never imports Qt,
tab packages never import each other, qt and cli sit above core."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint(root: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "lint-imports"
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(exe), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=300)


def test_import_contracts_are_kept():
    out = _lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 kept, 0 broken" in out.stdout


def test_a_broken_contract_is_caught(tmp_path):
    """The check can fail: a copy of the package whose core imports PySide6 breaks the first contract."""
    import shutil

    shutil.copytree(ROOT / "playground", tmp_path / "playground", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "playground" / "core" / "bad_gui.py").write_text("import PySide6.QtWidgets\n")
    out = _lint(tmp_path)
    assert out.returncode != 0
    assert "core never imports Qt, the GUI or the CLI BROKEN" in out.stdout
