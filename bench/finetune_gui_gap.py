"""Largest gap between ticks of a 10 ms QTimer on the GUI thread while the Fine-tune tab trains
(target <= 50 ms), per phase of the job, with an idle baseline measured in the same run.

The whole window is built (every tab), the bundled model is loaded, then the wizard trains a
LoRA adapter on a few training dialogues through the app's task runner, exactly as a person
would start it.

Run: python bench/finetune_gui_gap.py [--examples 16] [--accumulation 4] [--max-length 256]
     [--test 2] [--method lora]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))



def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=16)
    ap.add_argument("--accumulation", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--validation", type=int, default=4)
    ap.add_argument("--test", type=int, default=2)
    ap.add_argument("--method", default="lora", choices=["lora", "prompt_tuning", "full"])
    args = ap.parse_args()
    from _common import GapRecorder, gap_summary, main_window

    app, ctx, win = main_window()
    from PySide6.QtCore import QTimer

    from playground.core.models.sources import ModelSource

    wizard = win.panel("FinetunePanel")
    win.tabs.setCurrentIndex(win.panels.index(wizard))
    rec = GapRecorder()
    train = wizard.train_page
    steps = {"n": 0}

    def on_event(ev) -> None:
        from playground.core.finetune import events as E

        rec.event(type(ev).__name__)
        if isinstance(ev, E.StageEvent):
            rec.phase = "train" if ev.stage == "train" else ev.stage
        elif isinstance(ev, E.StepEvent):
            steps["n"] = ev.step
        elif isinstance(ev, (E.DoneEvent, E.StoppedEvent)):
            rec.phase = "done"

    def start_training() -> None:
        if wizard.data_page.preview is None or wizard.data_page.task is not None:
            QTimer.singleShot(200, start_training)
            return
        rec.phase = "job start"
        wizard.go_to(3)
        train.start()
        if train.task is None:
            print("training did not start:", train.error.text())
            app.quit()
            return
        train.task.sig_item.connect(on_event)
        train.task.sig_finished.connect(lambda: QTimer.singleShot(300, app.quit))

    def configure(_loaded) -> None:
        rec.phase = "idle"  # baseline: the window, every tab and the model, nothing running
        d, m, t = wizard.data_page, wizard.method_page, train
        d.limit_spin.setValue(args.examples)
        d.val_limit_spin.setValue(args.validation)
        d.max_spin.setValue(args.max_length)
        m.method_buttons[args.method].setChecked(True)
        m.accum_spin.setValue(args.accumulation)
        t.eval_spin.setValue(2)
        t.save_spin.setValue(2)
        t.test_spin.setValue(args.test)
        t.tokens_spin.setValue(32)
        QTimer.singleShot(3000, start_training)

    ctx.sig_model_changed.connect(configure)
    ctx.sig_model_load_failed.connect(lambda m, h: (print("load failed:", m), app.quit()))
    QTimer.singleShot(200, lambda: ctx.load_model(ModelSource("bundled"), device="cpu"))
    t0 = time.perf_counter()
    app.exec()
    ctx.runner.shutdown(wait=True)
    print(f"Fine-tune tab, {args.method}, {args.examples} training dialogues, {steps['n']} optimizer steps, "
          f"max length {args.max_length}, {args.test} test dialogues; total {time.perf_counter() - t0:.0f} s")
    print("10 ms QTimer on the GUI thread, gap between ticks (target <= 50 ms):")
    order = ["idle", "job start", "model", "data", "rouge_before", "train", "save", "rouge_after", "report"]
    for name in order + [n for n in rec.gaps if n not in order and n not in ("loading", "done")]:
        if name in rec.gaps:
            print(f"  {name:12s} {gap_summary(rec.gaps[name])}")
    during = [g for n, v in rec.gaps.items() if n not in ("loading", "idle", "done") for g in v]
    print(f"  {'whole job':12s} {gap_summary(during)}")
    rec.print_big()
    sys.stdout.flush()


if __name__ == "__main__":
    main()
