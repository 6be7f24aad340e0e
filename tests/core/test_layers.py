import pkgutil
import subprocess
import sys

import playground.core


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_core_never_imports_qt():
    mods = [m.name for m in pkgutil.walk_packages(playground.core.__path__, "playground.core.")]
    assert "playground.core.models.loading" in mods
    code = ("import importlib, sys\n"
            f"for m in {mods!r}: importlib.import_module(m)\n"
            "print(sorted(k for k in sys.modules if k.startswith('PySide6')))")
    assert _run(code) == "[]"


def test_window_modules_do_not_import_torch():
    # The window must paint before torch loads: building it may not import torch.
    code = ("import os, sys; os.environ['QT_QPA_PLATFORM']='offscreen'\n"
            "import playground.qt.app, playground.qt.main_window, playground.qt.context, playground.cli.main\n"
            "print('torch' in sys.modules, 'transformers' in sys.modules, 'matplotlib' in sys.modules)")
    assert _run(code) == "False False False"
