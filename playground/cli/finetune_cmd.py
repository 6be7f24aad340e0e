"""`playground finetune JOB.toml`: run a fine-tuning job headless, with a progress bar.

Runs the same on several processes or GPUs with
``accelerate launch -m playground finetune JOB.toml``. Ctrl+C once stops after the current step
and writes a checkpoint; ``--resume RUN_DIR`` continues it.
"""

from __future__ import annotations

import os
import sys


def add_parser(sub) -> None:
    p = sub.add_parser("finetune", help="fine-tune a model (LoRA, full or prompt tuning) from a TOML job file",
                       description="Fine-tune a model as described by a TOML job file "
                                   "(see the README, 'Fine-tuning').")
    p.add_argument("config", nargs="?", help="the job file (TOML); not needed with --resume")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--output", metavar="DIR", help="the run folder (overrides output.dir)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the summary lines")
    p.add_argument("--forgetting", action="store_true",
                   help="after training, run the forgetting probes on the base and the trained model "
                        "(writes forgetting.json / forgetting.md in the run folder; a few minutes on a CPU)")
    p.set_defaults(run=run)


def _is_main() -> bool:
    return os.environ.get("RANK", "0") == "0"


class _Printer:
    """Turns events into a terminal progress bar and a few lines (main process only)."""

    def __init__(self, quiet: bool) -> None:
        self.show = _is_main()
        self.bar = None
        self.quiet = quiet
        self.tty = sys.stderr.isatty() and not quiet
        self.last_line_step = 0

    def line(self, text: str) -> None:
        if not self.show:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def __call__(self, ev) -> None:
        from playground.core import finetune as ft

        if isinstance(ev, ft.StepEvent):
            self._step(ev)
        elif isinstance(ev, ft.DataEvent):
            for text in ev.details():
                self.line(text)
        elif isinstance(ev, ft.StageEvent):
            if ev.milestone:
                self.line(ev.describe())
        elif not isinstance(ev, (ft.StoppedEvent, ft.DoneEvent)):  # those two end the run: said by run()
            self.line(ev.describe())

    def _step(self, ev) -> None:
        if not self.show:
            return
        if self.tty:
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=ev.total_steps, initial=ev.step - 1, unit="step", file=sys.stderr,
                                dynamic_ncols=True)
            self.bar.set_postfix_str(ev.stats(), refresh=False)
            self.bar.update(1)
        elif not self.quiet and (ev.step - self.last_line_step >= max(1, ev.total_steps // 20)
                                 or ev.step == ev.total_steps):
            self.last_line_step = ev.step
            print(f"{ev.describe()}  eta {ev.eta_s:.0f}s", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def run(args) -> int:
    from playground.core.finetune import (
        DoneEvent,
        StoppedEvent,
        load_config,
        resume_config,
        run_finetune,
    )
    from playground.core.base.handle import TaskHandle

    from playground.cli.common import job_config, quiet_training_libraries, stop_on_signals

    cfg = job_config(args, load_config, resume_config, "finetune", "Fine-tuning")
    quiet_training_libraries()

    handle = TaskHandle()
    printer = _Printer(args.quiet)

    def on_sigint(signum, frame):  # first Ctrl+C: stop cleanly after this step; second: at once
        if handle.stop_requested():
            raise KeyboardInterrupt
        handle.request_stop()
        printer.line("Stopping after this step (Ctrl+C again to quit at once)...")

    restore_signals = stop_on_signals(on_sigint)  # Ctrl+C and SIGTERM alike
    last = None
    try:
        for ev in run_finetune(cfg, handle, resume=bool(args.resume)):
            printer(ev)
            last = ev
    finally:
        printer.close()
        restore_signals()
    if isinstance(last, StoppedEvent):
        printer.line(last.describe())
        printer.line(f"Continue with: playground finetune --resume {cfg.output.dir}")
        return 130
    if isinstance(last, DoneEvent) and _is_main():
        printer.line(last.describe())
        printer.line(f"Report: {os.path.join(last.run_dir, 'report.md')}")
        if args.forgetting:
            from playground.cli.common import terminal_progress
            from playground.core.lifecycle.forgetting_run import check_run

            print(check_run(last.run_dir, handle=TaskHandle(terminal_progress)).describe())
    return 0
