"""`playground finetune JOB.toml`: run a fine-tuning job headless, with a progress bar.

Runs the same on several processes or GPUs with
``accelerate launch -m playground finetune JOB.toml``. Ctrl+C once stops after the current step
and writes a checkpoint; ``--resume RUN_DIR`` continues it.
"""

from __future__ import annotations

import os
import signal
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

        if isinstance(ev, ft.StageEvent):
            if ev.fraction is None or ev.fraction >= 1.0:
                self.line(ev.message)
        elif isinstance(ev, ft.DataEvent):
            for split, st in ev.stats.items():
                tt = st["total_tokens"]
                self.line(f"  {split}: {st['examples']} examples ({st['skipped_empty']} empty skipped, "
                          f"{st['truncated']} truncated, {st['dropped_too_long']} dropped); tokens per example "
                          f"min {tt['min']} median {tt['median']:.0f} p95 {tt['p95']} max {tt['max']}")
        elif isinstance(ev, ft.MethodEvent):
            where = f" on {', '.join(ev.target_modules)}" if ev.target_modules else ""
            self.line(f"Method {ev.method}{where}: {ev.trainable_parameters:,} trainable parameters of "
                      f"{ev.total_parameters:,} ({ev.trainable_share * 100:.3f}%)")
        elif isinstance(ev, ft.StepEvent):
            self._step(ev)
        elif isinstance(ev, ft.EvalEvent):
            self.line(f"step {ev.step}: validation loss {ev.validation_loss:.4f}")
        elif isinstance(ev, ft.CheckpointEvent):
            self.line(f"step {ev.step}: checkpoint {ev.path}")
        elif isinstance(ev, ft.RougeEvent):
            s = ev.scores
            self.line(f"ROUGE {ev.when} fine-tuning ({ev.examples} test dialogues): rouge1 {s['rouge1']:.4f} "
                      f"rouge2 {s['rouge2']:.4f} rougeL {s['rougeL']:.4f}; BLEU {ev.bleu:.1f}")

    def _step(self, ev) -> None:
        if not self.show:
            return
        stats = (f"loss {ev.loss:.4f} lr {ev.learning_rate:.2e} {ev.tokens_per_s:.0f} tok/s "
                 f"mem {ev.peak_memory_bytes / 2**20:.0f} MiB")
        if self.tty:
            if self.bar is None:
                from tqdm.auto import tqdm

                self.bar = tqdm(total=ev.total_steps, initial=ev.step - 1, unit="step", file=sys.stderr,
                                dynamic_ncols=True)
            self.bar.set_postfix_str(stats, refresh=False)
            self.bar.update(1)
        elif not self.quiet and (ev.step - self.last_line_step >= max(1, ev.total_steps // 20)
                                 or ev.step == ev.total_steps):
            self.last_line_step = ev.step
            print(f"step {ev.step}/{ev.total_steps} {stats} eta {ev.eta_s:.0f}s", file=sys.stderr, flush=True)

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
    from playground.core.handle import TaskHandle

    from playground.cli.common import job_config, quiet_training_libraries

    cfg = job_config(args, load_config, resume_config, "finetune", "Fine-tuning")
    quiet_training_libraries()

    handle = TaskHandle()
    printer = _Printer(args.quiet)

    def on_sigint(signum, frame):  # first Ctrl+C: stop cleanly after this step; second: at once
        if handle.cancelled():
            raise KeyboardInterrupt
        handle.cancel()
        printer.line("Stopping after this step (Ctrl+C again to quit at once)...")

    previous = signal.signal(signal.SIGINT, on_sigint)
    last = None
    try:
        for ev in run_finetune(cfg, handle, resume=bool(args.resume)):
            printer(ev)
            last = ev
    finally:
        printer.close()
        signal.signal(signal.SIGINT, previous)
    if isinstance(last, StoppedEvent):
        where = last.checkpoint or "(no checkpoint yet)"
        printer.line(f"Stopped at step {last.step}; checkpoint {where}.")
        printer.line(f"Continue with: playground finetune --resume {cfg.output.dir}")
        return 130
    if isinstance(last, DoneEvent) and _is_main():
        printer.line(f"Done. Trained weights: {last.artifact}")
        printer.line(f"Report: {os.path.join(last.run_dir, 'report.md')}")
        if args.forgetting:
            from playground.cli.common import terminal_progress
            from playground.core.lifecycle.forgetting_run import check_run

            print(check_run(last.run_dir, handle=TaskHandle(terminal_progress)).describe())
    return 0
