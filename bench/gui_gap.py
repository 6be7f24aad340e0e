"""Largest gap between ticks of a 10 ms QTimer on the GUI thread while the bundled model loads
and while the Generate tab streams a completion (target <= 50 ms).

Run: python bench/gui_gap.py [--fresh] [--tokens 64]
  --fresh  use an empty cache, so the load includes the one-time GGUF conversion
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--tokens", type=int, default=64)
    args = ap.parse_args()
    if args.fresh:
        os.environ["PLAYGROUND_HOME"] = tempfile.mkdtemp(prefix="pg-bench-gap-")
    from _common import main_window

    app, ctx, win = main_window()
    from PySide6.QtCore import QTimer

    from playground.core.models.sources import ModelSource
    phase = {"name": "idle"}
    gaps: dict[str, list[float]] = {"load": [], "generate": []}
    last = [time.perf_counter()]

    def tick() -> None:
        now = time.perf_counter()
        if phase["name"] in gaps:
            gaps[phase["name"]].append((now - last[0]) * 1000)
        last[0] = now

    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(tick)
    timer.start()
    gen = win.panel("GeneratePanel")

    def start_generation(_loaded) -> None:
        phase["name"] = "generate"
        last[0] = time.perf_counter()
        gen.prompt_edit.setPlainText("Write a short story about a lighthouse keeper.")
        gen.max_tokens.setValue(args.tokens)
        gen.mode.setCurrentIndex(1)
        gen.generate()

    def finished(_text) -> None:
        phase["name"] = "done"
        app.quit()

    ctx.sig_model_changed.connect(start_generation)
    gen.sig_generation_finished.connect(finished)
    ctx.sig_model_load_failed.connect(lambda m, h: (print("load failed:", m), app.quit()))

    def start_load() -> None:
        phase["name"] = "load"
        last[0] = time.perf_counter()
        ctx.load_model(ModelSource("bundled"))

    QTimer.singleShot(200, start_load)
    t0 = time.perf_counter()
    app.exec()
    ctx.runner.shutdown(wait=True)
    print(f"fresh cache (includes GGUF conversion): {args.fresh}; total {time.perf_counter() - t0:.1f} s; "
          f"tokens generated: {gen.tokens}")
    for name, values in gaps.items():
        if not values:
            print(f"{name}: no ticks recorded")
            continue
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(f"{name:9s}: {len(values)} ticks, median {statistics.median(values):.1f} ms, p99 {p99:.1f} ms, "
              f"largest gap {values[-1]:.1f} ms (target <= 50)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
