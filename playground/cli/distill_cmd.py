"""`playground distill JOB.toml`: train a smaller student on the teacher's soft targets, headless.

The job file has the fine-tuning job's conventions (README, 'Distillation'): relative paths from its
folder, ``--output`` / ``--overwrite``, Ctrl+C once stops after the current step with a checkpoint,
``--resume RUN_DIR`` continues, and the run folder ends with report.md / report.json and the two
students as Hugging Face folders.
"""

from __future__ import annotations

import sys

from playground.cli.finetune_cmd import _Printer


def add_parser(sub) -> None:
    p = sub.add_parser("distill", help="distill the model into a smaller student (soft targets vs hard labels)",
                       description="Make a smaller student from a teacher model and train it on the teacher's "
                                   "soft targets, beside a student trained on the labels alone, as described "
                                   "by a TOML job file (see the README, 'Distillation').")
    p.add_argument("config", nargs="?", help="the job file (TOML); not needed with --resume")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--output", metavar="DIR", help="the run folder (overrides output.dir)")
    p.add_argument("--quiet", action="store_true", help="no progress bar, only the summary lines")
    p.set_defaults(run=run)


class _DistillPrinter(_Printer):
    """The fine-tuning printer, one bar per student."""

    kind = ""

    def __call__(self, ev) -> None:
        from playground.core.distill.events import DistillStepEvent

        if isinstance(ev, DistillStepEvent):
            if ev.kind != self.kind:
                self.close()
                self.kind, self.last_line_step = ev.kind, 0
            self._step(ev.step)
        else:
            super().__call__(ev)


def run(args) -> int:
    from playground.cli.common import job_config, quiet_training_libraries, stop_on_signals
    from playground.core.base.handle import TaskHandle
    from playground.core.distill.config import load_job
    from playground.core.distill.events import DistillDoneEvent
    from playground.core.distill.job import resume_job, run_distill
    from playground.core.distill.measure import ModelRow, format_rows
    from playground.core.finetune.events import StoppedEvent

    job = job_config(args, load_job, resume_job, "distill", "Distillation")
    quiet_training_libraries()
    handle = TaskHandle()
    printer = _DistillPrinter(args.quiet)

    def on_sigint(signum, frame):  # first Ctrl+C: stop cleanly after this step; second: at once
        if handle.stop_requested():
            raise KeyboardInterrupt
        handle.request_stop()
        printer.line("Stopping after this step (Ctrl+C again to quit at once)...")

    restore = stop_on_signals(on_sigint)
    last = None
    try:
        for ev in run_distill(job, handle, resume=bool(args.resume)):
            printer(ev)
            last = ev
    finally:
        printer.close()
        restore()
    if isinstance(last, StoppedEvent):
        printer.line(last.describe())
        printer.line(f"Continue with: playground distill --resume {job.output.dir}")
        return 130
    if isinstance(last, DistillDoneEvent):
        print(format_rows([r if isinstance(r, ModelRow) else ModelRow.from_dict(r) for r in last.rows]))
        if last.report.get("verdict"):
            print(last.report["verdict"])
        for kind, folder in last.students.items():
            print(f"{kind} student: {folder}")
        print(f"Report: {last.run_dir}/report.md", file=sys.stderr)
    return 0
