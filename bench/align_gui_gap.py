"""Largest gap between ticks of a 10 ms QTimer on the GUI thread while the Align tab optimizes
(target <= 50 ms), with an idle baseline measured in the same run.

The whole window is built (every tab), the bundled model is loaded, then the Optimize step runs
GRPO through the tab's own Start, as a person would, with the curves, the group table and the
filmstrip drawing as events arrive.

Run: python bench/align_gui_gap.py [--steps 3] [--group 4] [--tokens 40] [--method grpo]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=40)
    ap.add_argument("--method", default="grpo", choices=["grpo", "rloo", "ppo", "dpo"])
    args = ap.parse_args()
    from _common import GapRecorder, gap_summary, main_window

    app, ctx, win = main_window()
    from PySide6.QtCore import QTimer

    from playground.core.models.sources import ModelSource

    align = win.panel("AlignPanel")
    win.tabs.setCurrentIndex(win.panels.index(align))
    page = align.optimize
    rec = GapRecorder()
    steps = {"n": 0}

    def on_event(ev) -> None:
        rec.event(type(ev).__name__)
        if type(ev).__name__ == "AlignStepEvent":
            steps["n"] = ev.step

    def finished(busy: bool) -> None:
        if not busy and rec.phase == "optimizing":
            rec.phase = "done"
            QTimer.singleShot(300, app.quit)

    def start() -> None:
        rec.phase = "optimizing"
        page.draft.set("method.name", args.method)
        page.draft.set("training.max_steps", args.steps)
        page.draft.set("method.group_size", args.group)
        page.draft.set("method.max_new_tokens", args.tokens)
        align.slot.sig_busy_changed.connect(finished)
        page.start_btn.click()
        if align.slot.task is None:
            print("optimizing did not start")
            app.quit()
            return
        align.slot.task.sig_item.connect(on_event)

    def loaded(_loaded) -> None:
        rec.phase = "idle"  # baseline: the window, every tab and the model, nothing running
        QTimer.singleShot(3000, start)

    ctx.sig_model_changed.connect(loaded)
    ctx.sig_model_load_failed.connect(lambda m, h: (print("load failed:", m), app.quit()))
    QTimer.singleShot(200, lambda: ctx.load_model(ModelSource("bundled"), device="cpu"))
    t0 = time.perf_counter()
    app.exec()
    ctx.runner.shutdown(wait=True)
    print(f"Align tab, {args.method}, {steps['n']} steps of {args.group} completions x {args.tokens} tokens; "
          f"total {time.perf_counter() - t0:.0f} s; load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print("10 ms QTimer on the GUI thread, gap between ticks (target <= 50 ms):")
    for name in ("idle", "optimizing"):
        if name in rec.gaps:
            print(f"  {name:12s} {gap_summary(rec.gaps[name])}")
    rec.print_big()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
