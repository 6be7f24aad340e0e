"""Where distillation runs and their students live, and the students saved so far.

A distillation run folder holds two trained students, each a standard Hugging Face folder
(``AutoModelForCausalLM.from_pretrained`` loads it, tokenizer included)::

    RUN/
      job.toml               the job as it ran; ``playground distill --resume RUN`` reads it
      soft/model/            the student trained on the teacher's soft targets (and the labels)
      hard/model/            the student trained on the labels only (alpha = 1)
      soft/checkpoints/ ...  while running (the fine-tuning run layout, one per student)
      report.json  report.md
"""

from __future__ import annotations

from pathlib import Path

from playground.core.base.paths import user_dirs

#: The two students of a run, in the order they are trained and offered.
KINDS = ("soft", "hard")
MODEL_DIR = "model"


def distill_runs_root() -> Path:
    """Where the app puts its distillation run folders (under the user data folder)."""
    return user_dirs().data / "runs" / "distill"


def student_dir(run_dir: str | Path, kind: str) -> Path:
    """The saved student ``kind`` ("soft" or "hard") of a run folder."""
    return Path(run_dir) / kind / MODEL_DIR


def is_student(folder: str | Path) -> bool:
    """A complete saved student: a model folder with its config and weights."""
    folder = Path(folder)
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors"))


def list_students(root: str | Path | None = None) -> list[Path]:
    """The saved student folders under ``root`` (default: the app's distillation runs), newest
    run first and, within a run, the soft-target student before the hard-label one.

    Each path is a Hugging Face model folder (config, safetensors weights, tokenizer) that
    ``AutoModelForCausalLM.from_pretrained`` and the app's model loader open, e.g. to offer a
    student as the draft model of speculative decoding.
    """
    root = Path(root) if root is not None else distill_runs_root()
    if not root.is_dir():
        return []
    runs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime, reverse=True)
    return [student_dir(run, kind) for run in runs for kind in KINDS if is_student(student_dir(run, kind))]
