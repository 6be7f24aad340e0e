"""Issue 29 item 15: the tabs appear at once; only model-dependent work waits for torch and the model.

Building every tab must not import torch, transformers or peft (seconds on a quiet machine, minutes
on a busy one, and while a model loads in the background the import waits for it)."""

import os
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import sys
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow
    context = AppContext()
    window = MainWindow(context)
    window.build_tabs()
    assert window.tabs.count() >= 8, window.tabs.count()
    print("HEAVY", sorted(m for m in ("torch", "transformers", "peft", "trl") if m in sys.modules))
    context.runner.shutdown(wait=True)
""")


def test_building_every_tab_imports_no_torch(tmp_path):
    env = {**os.environ, "PLAYGROUND_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "HEAVY []" in proc.stdout, proc.stdout
