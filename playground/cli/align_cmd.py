"""`playground align JOB.toml`: a reward model, GRPO, RLOO, PPO or DPO run, headless.

Ctrl+C once stops after the current step and writes a checkpoint; ``--resume RUN_DIR`` continues.
``--preset NAME`` pays the policy as the Align tab's reward preset of that name does (its rewards and
the settings it sets, over the job file's). The help lists the [method] keys from their fields.
"""

from __future__ import annotations

import os
import sys


def _epilog() -> str:
    """The reward presets and the [method] keys, from the presets table and the fields' help."""
    import dataclasses
    import textwrap

    from playground.core.align.config import AlignMethod
    from playground.core.align.presets import REWARD_PRESETS

    lines = ["reward presets (--preset):"]
    lines += [f"  {p.key:<20} {p.label}" for p in REWARD_PRESETS.values()]
    lines.append("\n[method] keys of the job file (default: help):")
    for f in dataclasses.fields(AlignMethod):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        lines += textwrap.wrap(f"{f.name} = {default!r}: {f.metadata.get('help', '')}", 100,
                               initial_indent="  ", subsequent_indent="      ")
    return "\n".join(lines)


def add_parser(sub) -> None:
    import argparse

    from playground.core.align.presets import REWARD_PRESETS

    p = sub.add_parser("align", help="align a model: reward model, GRPO, RLOO, PPO or DPO, from a TOML job file",
                       description="Run an align job described by a TOML file (see the README, 'Align').",
                       epilog=_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config", nargs="?", help="the job file (TOML); not needed with --resume")
    p.add_argument("--preset", choices=list(REWARD_PRESETS), metavar="NAME",
                   help="pay the policy as this reward preset of the Align tab does (its rewards and settings "
                        "over the job file's; listed below)")
    p.add_argument("--resume", metavar="RUN_DIR", help="continue the run in RUN_DIR from its last checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace the output folder if it exists")
    p.add_argument("--output", metavar="DIR", help="the run folder (overrides output.dir)")
    p.add_argument("--quiet", action="store_true", help="no per-step lines, only the summary")
    p.set_defaults(run=run)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _is_main() -> bool:
    return os.environ.get("RANK", "0") == "0"  # under accelerate launch only the main process speaks


def _show(ev, quiet: bool) -> None:
    if not _is_main():
        return
    from playground.core.align.events import AlignStepEvent, MonitorEvent, RewardModelEvent
    from playground.core.base.units import format_score
    from playground.core.finetune.events import CheckpointEvent, StageEvent

    if isinstance(ev, StageEvent):
        _say(ev.message)
    elif isinstance(ev, AlignStepEvent) and not quiet:
        extra = "".join(f" {k} {v:.3f}" for k, v in ev.extra.items() if isinstance(v, float))
        _say(f"step {ev.step}/{ev.total_steps} reward {ev.reward_mean:.3f}±{ev.reward_std:.3f} KL {ev.kl:.4f} "
             f"entropy {ev.entropy:.2f} length {ev.completion_length:.1f} {ev.tokens_per_s:.0f} tok/s "
             f"{ev.seconds:.1f}s{extra}")
    elif isinstance(ev, MonitorEvent) and not quiet:
        _say(f"step {ev.step}: monitor ROUGE-L {format_score(ev.rouge_l, 'rougeL')} (0-100, held-out, not optimized)")
    elif isinstance(ev, CheckpointEvent) and not quiet:
        _say(f"step {ev.step}: checkpoint {ev.path}")
    elif isinstance(ev, RewardModelEvent):
        r = ev.report
        acc = "n/a" if r["test_accuracy"] is None else f"{r['test_accuracy']:.3f}"
        p = r["probe_repeat"]
        _say(f"reward model ({r['mode']}): train accuracy {r['train_accuracy']:.3f}, held-out accuracy {acc}; "
             f"'the reference said twice' outscored the reference on {p['overpaid']} of {p['pairs']} held-out pairs")


def run(args) -> int:
    from pathlib import Path

    from playground.core.align.config import load_align_config
    from playground.core.align.job import run_align
    from playground.core.finetune.events import DoneEvent, StoppedEvent
    from playground.core.base.handle import TaskHandle

    from playground.cli.common import job_config, quiet_training_libraries, stop_on_signals

    def resume(folder):
        cfg = load_align_config(Path(folder) / "job.toml")
        cfg.output.dir = str(Path(folder).resolve())
        return cfg

    cfg = job_config(args, load_align_config, resume, "align", "Align")
    if args.preset:
        from playground.core.align.presets import apply_preset

        apply_preset(cfg, args.preset).validate()
    quiet_training_libraries()
    handle = TaskHandle()

    def on_sigint(signum, frame):
        if handle.cancelled():
            raise KeyboardInterrupt
        handle.cancel()
        _say("Stopping after this step (Ctrl+C again to quit at once)...")

    restore_signals = stop_on_signals(on_sigint)  # Ctrl+C and SIGTERM alike
    last = None
    try:
        for ev in run_align(cfg, handle, resume=bool(args.resume)):
            _show(ev, args.quiet)
            last = ev
    finally:
        restore_signals()
    if isinstance(last, StoppedEvent):
        _say(f"Stopped at step {last.step}; checkpoint {last.checkpoint or '(none yet)'}.")
        _say(f"Continue with: playground align --resume {cfg.output.dir}")
        return 130
    if isinstance(last, DoneEvent) and _is_main():
        _say(f"Done. Saved: {last.artifact}")
        _say(f"Report: {os.path.join(last.run_dir, 'report.json')}")
    return 0
