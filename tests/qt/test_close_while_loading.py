"""Issue 29 item 12: the process ends within seconds of its window closing, whatever is still loading."""

import os
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent("""
    import threading, time
    import playground.core.models.loading as loading

    release = threading.Event()

    def stuck_load(*args, **kwargs):
        # A model load that takes minutes (a slow disk, a busy machine): it does not look at Stop.
        release.wait(60)
        raise RuntimeError("never reached in the test")

    loading.load_model = stuck_load

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    import playground.qt.app as app_module

    def close_soon():
        def close():
            for w in QApplication.topLevelWidgets():
                if w.isVisible():
                    w.close()
            print("CLOSED", time.monotonic(), flush=True)
        QTimer.singleShot(1500, close)

    QTimer.singleShot(0, close_soon)
    code = app_module.main([])
    print("MAIN RETURNED", code, flush=True)
""")


def test_the_process_ends_soon_after_the_window_closes_during_a_load(tmp_path):
    env = {**os.environ, "PLAYGROUND_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=90)
    ended = time.monotonic()
    out = proc.stdout
    assert "CLOSED" in out, out + proc.stderr
    closed_at = float(out.split("CLOSED", 1)[1].split()[0])
    # the window closed; the process was gone within a few seconds although the load never ended
    assert ended - closed_at < 6.0, (ended - closed_at, out, proc.stderr[-2000:])
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ended - start < 60
