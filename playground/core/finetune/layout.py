"""The run folder: where a fine-tuning job keeps its job file, weights, checkpoints and report.

::

    RUN/
      job.toml                  the job as it ran (absolute paths); --resume reads it
      adapter/                  LoRA, prompt tuning: adapter_config.json + adapter_model.safetensors
      model/                    full fine-tuning: the model (safetensors) and its tokenizer
      checkpoints/step-NNNNNN/  while running: model/, training_state.pt, state.json (last written)
      report.json  report.md  loss.png  test_predictions.csv
      failed.json               a run that stopped on an error: the message (gone when resumed)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

JOB_FILE = "job.toml"
STATE_FILE = "state.json"
FAILED_FILE = "failed.json"
#: What each kind of run is called, and the command that runs (and resumes) it.
RUN_KINDS = {"finetune": "a fine-tuning run", "align": "an align run", "distill": "a distillation run"}


def run_kind(folder: str | Path) -> str:
    """Which command made the run in ``folder``: "finetune", "align", "distill", or "" (no readable job file).

    Both keep their job as job.toml; the method's name tells them apart (lora, full, prompt_tuning
    against grpo, rloo, ppo, dpo, reward_model)."""
    import tomllib

    from playground.core.finetune.methods import METHOD_FACTS

    try:
        job = tomllib.loads((Path(folder) / JOB_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    if isinstance(job.get("distill"), dict):  # a distillation job: [distill] beside the training tables
        return "distill"
    method = job.get("method", {}) if isinstance(job.get("method"), dict) else {}
    name = method.get("name", "lora")  # the fine-tuning job's default method
    if name in METHOD_FACTS:
        return "finetune"
    from playground.core.align.config import ALIGN_METHODS

    return "align" if name in ALIGN_METHODS else ""


def _inside(name: str) -> property:
    """A path in the run folder, as a read-only attribute."""
    return property(lambda self: self.path / name, doc=f"the run folder's {name}")


@dataclass(frozen=True)
class RunFolder:
    """Paths inside one run folder, and what state the run is in."""

    path: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", Path(self.path))

    job = _inside(JOB_FILE)
    checkpoints = _inside("checkpoints")
    report_json = _inside("report.json")
    report_md = _inside("report.md")
    failed_json = _inside(FAILED_FILE)
    loss_png = _inside("loss.png")
    predictions_csv = _inside("test_predictions.csv")

    def failure(self) -> dict | None:
        """{'message', 'hint', 'step'} of the error that stopped the run, or None."""
        try:
            found = json.loads(self.failed_json.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return found if isinstance(found, dict) else {"message": str(found)}

    def artifact(self, method: str) -> Path:
        """``model/`` for full fine-tuning, ``adapter/`` (a peft adapter) otherwise."""
        from playground.core.finetune.methods import METHOD_FACTS

        return self.path / METHOD_FACTS[method].artifact

    def checkpoint(self, step: int) -> Path:
        return self.checkpoints / f"step-{step:06d}"

    def list_checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints (those with state.json, written last) as (step, folder), oldest first."""
        out = []
        if self.checkpoints.is_dir():
            for child in self.checkpoints.iterdir():
                if child.name.startswith("step-") and (child / STATE_FILE).is_file():
                    try:
                        out.append((int(child.name[len("step-"):]), child))
                    except ValueError:
                        continue
        return sorted(out)

    def latest_checkpoint(self) -> Path | None:
        found = self.list_checkpoints()
        return found[-1][1] if found else None

    def failed_in_setup(self) -> bool:
        """Only what a run that failed before its first step leaves: job.toml, failed.json (step 0) and
        at most an empty checkpoints folder. Nothing in it is worth keeping: a retry may reuse it."""
        if not self.path.is_dir() or not self.failed_json.is_file() or not self.job.is_file():
            return False
        names = {p.name for p in self.path.iterdir()}
        if names - {JOB_FILE, FAILED_FILE, "checkpoints"}:
            return False
        if self.checkpoints.is_dir() and any(self.checkpoints.iterdir()):
            return False
        failure = self.failure() or {}
        return not failure.get("step")

    def status(self) -> str:
        """'finished' (report written), 'failed' (stopped on an error; it can still be resumed),
        'resumable' (a checkpoint to continue from), 'started' (job file only: resuming starts
        from step 0) or 'none' (not a run folder)."""
        if self.report_json.is_file():
            return "finished"
        if not self.job.is_file():
            return "none"
        if self.failed_json.is_file():
            return "failed"
        return "resumable" if self.latest_checkpoint() is not None else "started"

    def last_step(self) -> int:
        """The step of the report (finished) or of the newest checkpoint (0 without one)."""
        if self.report_json.is_file():
            try:
                return int(json.loads(self.report_json.read_text(encoding="utf-8"))["training"]["steps"] or 0)
            except (OSError, ValueError, KeyError, TypeError):
                return 0
        found = self.list_checkpoints()
        return found[-1][0] if found else 0


def check_artifact_ready(path: str | Path) -> None:
    """Refuse, in plain words, a run's adapter (or model) folder that is not written yet.

    ``path`` is a run folder or its ``adapter/`` / ``model/``. A run still training (its lock is
    held) says so; one that stopped early says at which step and how to resume it; a finished run's
    folder points at its trained weights. Anything else (not a run) is left to the adapter checks.
    """
    from playground.core.base.errors import InputError
    from playground.core.finetune.lock import is_locked

    p = Path(path)
    if (p / JOB_FILE).is_file():
        run, given_run = RunFolder(p), True
    elif p.name in ("adapter", "model") and (p.parent / JOB_FILE).is_file():
        run, given_run = RunFolder(p.parent), False
    else:
        return
    if not given_run and (p / "adapter_config.json").is_file():
        return
    artifacts = [run.path / name for name in ("adapter", "model") if (run.path / name).is_dir()
                 and any((run.path / name).iterdir())]
    if given_run and artifacts:
        raise InputError(f"{p} is a run folder; its trained weights are in {artifacts[0]}.",
                         f"Pass that folder: --adapter {artifacts[0]}")
    if artifacts and not given_run:
        return  # a full model's folder, or a damaged adapter: the adapter checks say which
    kind = run_kind(run.path) or "finetune"
    step = run.last_step()
    newest = run.latest_checkpoint()
    at = f" (its newest checkpoint is at step {step})" if newest else " (no checkpoint yet)"
    try_checkpoint = f", or evaluate its newest checkpoint: --adapter {newest / 'model'}" if newest else ""
    if is_locked(run.path):
        raise InputError(f"The run {run.path.name} is still going{at}: its adapter is saved when it finishes.",
                         f"Wait until it finishes (its progress shows in the Runs list or in its terminal)"
                         f"{try_checkpoint}.")
    failure = run.failure()
    why = f" It stopped on an error: {failure.get('message', '')}" if failure else ""
    raise InputError(f"The run {run.path.name} did not finish{at}, so it has no adapter yet.{why}",
                     f"Resume it with: playground {kind} --resume {run.path}{try_checkpoint}.")

