"""The GUI's runs: where its run folders go, the runs made so far, the job a wizard starts with
(and reads back from a saved draft), and a run as a task.

Qt-free (the wizard in ``playground.qt.finetune`` calls it), so it is tested without a window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.finetune.config import FinetuneConfig
from playground.core.base.paths import user_dirs


def runs_root() -> Path:
    """Where the wizard puts its run folders (under the app's user data folder)."""
    return user_dirs().data / "runs" / "finetune"


def wizard_defaults() -> FinetuneConfig:
    """The core's defaults, with the evaluation sized for a first run in the app."""
    cfg = FinetuneConfig()
    cfg.output.dir = ""  # chosen when a run starts (a fresh folder under runs_root)
    cfg.evaluation.test_examples = 10
    return cfg


def merge_job(base: dict, overlay: dict) -> dict:
    """``base`` with the values of ``overlay`` whose keys ``base`` knows (a draft from an older
    version of the app, or a job file, never adds unknown keys)."""
    out = dict(base)
    for key, value in (overlay or {}).items():
        if key not in base:
            continue
        if isinstance(base[key], dict) and isinstance(value, dict) and key != "columns":
            out[key] = merge_job(base[key], value)
        elif key == "columns" and isinstance(value, dict):
            out[key] = {str(k): str(v) for k, v in value.items()}
        else:
            out[key] = value
    return out


def config_from_saved(job: dict | None) -> FinetuneConfig:
    """The wizard's defaults overlaid with a saved draft or a job file's tables; a draft that no
    longer reads (a value of the wrong type) gives the defaults."""
    defaults = wizard_defaults()
    if not isinstance(job, dict):
        return defaults
    try:
        return FinetuneConfig.from_dict(merge_job(defaults.to_dict(), job), "the wizard's saved settings")
    except InputError:
        return defaults


def checked_config(cfg: FinetuneConfig) -> FinetuneConfig:
    """A checked copy of the wizard's job (InputError names the bad key)."""
    out = FinetuneConfig.from_dict(cfg.to_dict(), "the wizard's settings")
    if not out.output.dir.strip():
        out.output.dir = str(runs_root() / "unnamed")  # the real folder is chosen when a run starts
    return out.validate()


def new_run_dir(method: str) -> Path:
    """A fresh run folder name: date, time and method (never an existing folder)."""
    root = runs_root()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"{stamp}-{method}"
    n = 2
    while path.exists():
        path = root / f"{stamp}-{method}-{n}"
        n += 1
    return path


def model_source_text(loaded) -> str:
    """The job's ``model.source`` for the app's model: 'bundled', a folder, or a Hub id."""
    src = loaded.source
    if src.kind == "bundled":
        return "bundled"
    if src.kind == "local":
        return src.ref
    folder = loaded.info.folder
    return folder or src.ref


@dataclass
class RunSummary:
    """One run folder as the runs list shows it."""

    path: Path
    status: str          # finished, resumable, started, failed
    method: str
    step: int
    started: float       # folder creation time (seconds since the epoch)
    message: str = ""


def list_runs(root: Path | None = None) -> list[RunSummary]:
    """The run folders under ``root`` (default: the wizard's), newest first."""
    import tomllib

    from playground.core.finetune.layout import RunFolder

    root = Path(root) if root is not None else runs_root()
    out = []
    if not root.is_dir():
        return out
    for child in root.iterdir():
        if not child.is_dir():
            continue
        run = RunFolder(child)
        status = run.status()
        if status == "none":
            continue
        method = "?"
        try:
            method = tomllib.loads((child / "job.toml").read_text(encoding="utf-8"))["method"]["name"]
        except (OSError, ValueError, KeyError, TypeError):
            pass
        failure = run.failure() if status == "failed" else None
        message = " ".join(x for x in (failure.get("message", ""), failure.get("hint", "")) if x) if failure else ""
        out.append(RunSummary(child, status, method, run.last_step(), child.stat().st_mtime, message))
    return sorted(out, key=lambda r: r.started, reverse=True)


def finetune_run(cfg, resume: bool):
    """The task function of a wizard run: the job's events. A graceful stop of the task
    (``TaskSlot.stop(graceful=True)``) ends the job after its step with a checkpoint; pause and
    resume are the task's own."""
    from playground.core.finetune import run_finetune

    return lambda handle: run_finetune(cfg, handle, resume)


def run_report(run_dir: str | Path) -> dict:
    """A finished run's report.json (InputError in plain words when it cannot be read)."""
    import json

    try:
        return json.loads((Path(run_dir) / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"The report of {Path(run_dir).name} cannot be read ({exc}).") from None


def run_job(run_dir: str | Path) -> dict:
    """The job a run was started with (its job.toml, as tables), to train a variant of it."""
    import tomllib

    try:
        return tomllib.loads((Path(run_dir) / "job.toml").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"The job of {Path(run_dir).name} cannot be read ({exc}).") from None
