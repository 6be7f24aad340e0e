"""Pieces shared by the commands: model options and a terminal progress line."""

from __future__ import annotations

import sys


def add_model_options(p) -> None:
    p.add_argument("--model", default="bundled",
                   help="'bundled' (default, SmolLM2), 'encoder' (the bundled all-MiniLM-L6-v2), "
                        "a local model folder, or a Hugging Face id")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--dtype", default="auto", help="auto, float32, float16 or bfloat16")
    p.add_argument("--allow-pickle", action="store_true", help="allow .bin pickle weights (trusted sources only)")


def finite_float(text: str) -> float:
    """An argparse type: a number, refusing nan and inf at the edge (they pass every range check)."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"'{text}' is not a finite number: give an ordinary number such as 0.7")
    return value


def terminal_progress(fraction, message: str) -> None:
    if not sys.stderr.isatty():
        return
    pct = "" if fraction is None else f"{fraction * 100:5.1f}% "
    sys.stderr.write(f"\r{pct}{message[:70]:<70}")
    sys.stderr.flush()
    if fraction is not None and fraction >= 1.0:
        sys.stderr.write("\n")


def load_from_args(args):
    from playground.core.base.handle import TaskHandle
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    source = ModelSource.parse(args.model, allow_pickle=args.allow_pickle)
    return load_model(source, device=args.device, dtype=args.dtype, handle=TaskHandle(terminal_progress))


def job_config(args, load, resume, command: str, section: str):
    """The job of a training command (``finetune``, ``align``): a job file, or a run folder to resume
    (``--resume``), then ``--output`` and ``--overwrite`` applied on top."""
    import os

    from playground.core.base.errors import InputError

    if args.resume:
        check_run_kind(args.resume, command)
        cfg = resume(args.resume)
    elif args.config:
        cfg = load(args.config)
    else:
        raise InputError("Name a job file, or a run folder with --resume.",
                         f"Example: playground {command} job.toml (see the README, '{section}').")
    if args.output:
        cfg.output.dir = os.path.abspath(args.output)
    if args.overwrite:
        cfg.output.overwrite = True
    return cfg


def stop_on_signals(handler):
    """Ctrl+C (SIGINT) and SIGTERM (a logout, a service stop, ``kill``) both call ``handler``, so a
    training command stops after its step with a checkpoint either way. Returns what puts the
    previous handlers back."""
    import signal

    signals = [signal.SIGINT] + ([signal.SIGTERM] if hasattr(signal, "SIGTERM") else [])
    previous = {sig: signal.signal(sig, handler) for sig in signals}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def check_run_kind(folder: str, command: str) -> None:
    """Refuse, in plain words, to resume another command's run (``align --resume`` on a fine-tuning
    run read its job as an align job: "Unknown setting 'data.validation'")."""
    from playground.core.base.errors import InputError
    from playground.core.finetune.layout import RUN_KINDS, run_kind

    kind = run_kind(folder)
    if kind and kind != command:
        raise InputError(f"{folder} is {RUN_KINDS[kind]}, not {RUN_KINDS[command]}: "
                         f"'playground {command} --resume' cannot continue it.",
                         f"Resume it with: playground {kind} --resume {folder}")


def quiet_training_libraries() -> None:
    """The training commands print their own progress: transformers' bars and notices go."""
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning)
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
