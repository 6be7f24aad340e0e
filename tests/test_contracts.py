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


def _independent_tab_packages(pyproject: Path) -> set[str]:
    import tomllib

    contracts = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    independence, = [c for c in contracts if c["name"] == "tab packages are independent of each other"]
    return set(independence["modules"])


def _tab_packages(qt: Path) -> set[str]:
    """Every tab package: a folder under playground/qt/ with a panel.py."""
    return {f"playground.qt.{p.parent.name}" for p in qt.glob("*/panel.py")}


def _tabs_missing_from_the_contract(root: Path) -> set[str]:
    return _tab_packages(root / "playground" / "qt") - _independent_tab_packages(root / "pyproject.toml")


def test_every_tab_package_is_in_the_independence_contract():
    assert len(_tab_packages(ROOT / "playground" / "qt")) >= 8
    assert _tabs_missing_from_the_contract(ROOT) == set(), "add the tab package to the contract in pyproject.toml"


def test_a_new_tab_left_out_of_the_contract_is_caught(tmp_path):
    """The check can fail: a new tab package (a folder with a panel.py) not listed in the contract."""
    import shutil

    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    for panel in (ROOT / "playground" / "qt").glob("*/panel.py"):
        (tmp_path / "playground" / "qt" / panel.parent.name).mkdir(parents=True)
        (tmp_path / "playground" / "qt" / panel.parent.name / "panel.py").write_text("")
    assert _tabs_missing_from_the_contract(tmp_path) == set()
    (tmp_path / "playground" / "qt" / "agents").mkdir()
    (tmp_path / "playground" / "qt" / "agents" / "panel.py").write_text("")
    assert _tabs_missing_from_the_contract(tmp_path) == {"playground.qt.agents"}
