"""Time from process start to the first painted window: the app vs a bare PySide6 window.

Prints both medians, their ratio (target <= 2) and whether torch was imported before first paint.
Run: python bench/startup.py [--runs 7]

With ``--to-model``: time from process start to a ready bundled model (the window built, the tabs
built, the model loaded), as a newcomer waits for it: a first start in a fresh PLAYGROUND_HOME (the
GGUF is de-quantized and cached as safetensors) and second starts that read the cache.
Run: python bench/startup.py --to-model [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

BARE = r"""
import sys, time
from PySide6.QtWidgets import QApplication, QMainWindow, QLabel
from PySide6.QtCore import QTimer
class W(QMainWindow):
    done = False
    def paintEvent(self, e):
        super().paintEvent(e)
        if not W.done:
            W.done = True
            print(f"PAINT {time.time():.6f} torch={'torch' in sys.modules}", flush=True)
            QTimer.singleShot(0, app.quit)
app = QApplication(sys.argv[:1])
w = W(); w.setCentralWidget(QLabel("hello")); w.resize(1200, 800); w.show()
app.exec()
"""

# The app's window, built as the app builds it; APP and TO_MODEL go on from here.
WINDOW = r"""
import sys, time
from playground.qt.app import create_app
app = create_app()
from playground.qt.context import AppContext
from playground.qt.main_window import MainWindow
ctx = AppContext()
w = MainWindow(ctx)
"""

APP = WINDOW + r"""
def painted():
    print(f"PAINT {time.time():.6f} torch={'torch' in sys.modules}", flush=True)
    app.quit()
w.sig_first_paint.connect(painted)
w.show()
app.exec()
ctx.runner.shutdown(wait=True)
"""

TO_MODEL = WINDOW + r"""
from playground.core.models.sources import ModelSource
def painted():
    print(f"PAINT {time.time():.6f} torch={'torch' in sys.modules}", flush=True)
    w.build_tabs()
    ctx.load_model(ModelSource("bundled"))
def ready(loaded):
    print(f"READY {time.time():.6f} {loaded.info.name}", flush=True)
    app.quit()
w.sig_first_paint.connect(painted)
ctx.sig_model_changed.connect(ready)
ctx.sig_model_load_failed.connect(lambda m, h: (print("FAILED", m, h, flush=True), app.quit()))
w.show()
app.exec()
ctx.runner.shutdown(wait=True)
"""


def to_model(env: dict) -> tuple[float, float]:
    """(seconds to first paint, seconds to a ready model) of one start."""
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", TO_MODEL], capture_output=True, text=True, env=env, timeout=900)
    stamps = {l.split()[0]: float(l.split()[1]) for l in out.stdout.splitlines() if l.startswith(("PAINT", "READY"))}
    if "READY" not in stamps:
        raise SystemExit(f"the model did not load:\n{out.stdout}\n{out.stderr[-2000:]}")
    return stamps["PAINT"] - t0, stamps["READY"] - t0


def main_to_model(runs: int) -> None:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PLAYGROUND_HOME"] = tempfile.mkdtemp(prefix="pg-bench-first-start-")
    print(f"platform: {env['QT_QPA_PLATFORM']}, fresh PLAYGROUND_HOME {env['PLAYGROUND_HOME']}, "
          f"OMP_NUM_THREADS={env.get('OMP_NUM_THREADS', 'unset')}")
    paint, ready = to_model(env)
    print(f"first start (GGUF converted and cached): first paint {paint:.1f} s, model ready {ready:.1f} s")
    for i in range(runs):
        paint, ready = to_model(env)
        print(f"second start #{i + 1} (cache read): first paint {paint:.1f} s, model ready {ready:.1f} s")


def one(code: str, env: dict) -> tuple[float, bool]:
    t0 = time.time()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    line = next(l for l in out.stdout.splitlines() if l.startswith("PAINT"))
    _, stamp, torch_flag = line.split()
    return float(stamp) - t0, torch_flag == "torch=True"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--to-model", action="store_true", help="time first and second starts to a ready model")
    args = ap.parse_args()
    if args.to_model:
        main_to_model(min(args.runs, 3))
        return
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PLAYGROUND_HOME"] = tempfile.mkdtemp(prefix="pg-bench-startup-")
    one(BARE, env), one(APP, env)  # warm the disk cache for both
    bare, app, torch_seen = [], [], False
    for _ in range(args.runs):  # interleaved so both see the same machine load
        bare.append(one(BARE, env)[0])
        t, flag = one(APP, env)
        app.append(t)
        torch_seen |= flag
    b, a = statistics.median(bare), statistics.median(app)
    print(f"platform: {env['QT_QPA_PLATFORM']}, runs: {args.runs}")
    print(f"bare PySide6 window, start to first paint: median {b * 1000:.0f} ms (min {min(bare) * 1000:.0f})")
    print(f"LLM Playground window, start to first paint: median {a * 1000:.0f} ms (min {min(app) * 1000:.0f})")
    print(f"ratio app / bare: {a / b:.2f} (target <= 2)")
    print(f"torch imported before first paint: {torch_seen}")


if __name__ == "__main__":
    main()
