"""A distillation job: the teacher, how the student is made, the loss's temperature and weight, and
the fine-tuning job's own tables for the data, the training steps, the test and the run folder.

The job file has the same conventions as ``playground finetune``'s (TOML, relative paths from the
file's folder, unknown keys refused by name, ``--resume RUN``): the ``[model]``, ``[data]``,
``[training]``, ``[evaluation]`` and ``[output]`` tables are the fine-tuning job's, and ``[distill]``
is what distillation adds. The Lifecycle tab's Distillation section edits the same dataclass.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.finetune.config import (
    DataConfig,
    EvaluationConfig,
    FinetuneConfig,
    MethodConfig,
    ModelConfig,
    OutputConfig,
    TrainingConfig,
    _build,
    dump_toml,
)

DIRECTIONS = ("forward", "reverse")


@dataclass
class DistillSettings:
    """What distillation adds to a training job: the student's size and the loss's T and alpha."""

    student_layers: int = field(default=0, metadata={
        "label": "Student layers", "range": (0, 1000), "special": "every other layer",
        "help": "How many of the teacher's layers the student keeps, spread evenly from the first to the last "
                "(0: every other layer, as DistilBERT was made from BERT). The student starts as that copy of "
                "the teacher, with the same tokenizer, embeddings and output head."})
    temperature: float = field(default=2.0, metadata={
        "label": "Temperature T", "range": (0.1, 20.0, 0.5), "decimals": 2,
        "help": "Both models' logits are divided by T before the softmax in the KL term. T > 1 flattens the "
                "teacher's distribution so the student also learns from the small probabilities of the tokens "
                "the teacher did not pick (the 'dark knowledge'); the KL is multiplied by T² to keep its "
                "gradients the size they have at T = 1."})
    alpha: float = field(default=0.5, metadata={
        "label": "α (hard-label weight)", "range": (0.0, 1.0, 0.1), "decimals": 2,
        "help": "loss = α · next-token cross-entropy on the real summary (hard labels) + (1 − α) · T² · "
                "KL(teacher_T ‖ student_T) (soft targets). α = 1: hard labels only, an ordinary fine-tuning of "
                "the small model; α = 0: soft targets only."})
    direction: str = field(default="forward", metadata={
        "label": "KL direction", "choices": (("forward", "forward"), ("reverse", "reverse")),
        "help": "forward, KL(teacher ‖ student), the classic choice, makes the student cover every token the "
                "teacher gives weight to; reverse, KL(student ‖ teacher), makes it pick the teacher's main modes "
                "(trl's GKD calls these β = 0 and β = 1)."})
    compare_hard: bool = field(default=True, metadata={
        "text": "Also train a hard-label student (α = 1) to compare",
        "help": "A second student, made the same way and trained for the same steps on the labels alone, so "
                "the value of the soft targets is measured rather than claimed."})
    student: str = field(default="", metadata={
        "label": "Student model", "cli": False,
        "help": "Empty: make the student from the teacher. Or a model folder to train as the student (it must "
                "be smaller than the teacher and use the same tokenizer)."})


def _training_defaults() -> TrainingConfig:
    """Training settings sized for a first distillation on a CPU: a few dozen short steps."""
    return TrainingConfig(max_steps=40, learning_rate=1e-4, micro_batch_size=1, gradient_accumulation_steps=4,
                          warmup_ratio=0.05, eval_every=0, save_every=20, schedule="cosine")


def _data_defaults() -> DataConfig:
    return DataConfig(max_length=384, max_validation_examples=20)


def _evaluation_defaults() -> EvaluationConfig:
    return EvaluationConfig(test_examples=5, max_new_tokens=64, before=True)


@dataclass
class DistillJob:
    """Everything one distillation job needs; ``validate`` checks it in plain words."""

    model: ModelConfig = field(default_factory=ModelConfig)
    distill: DistillSettings = field(default_factory=DistillSettings)
    data: DataConfig = field(default_factory=_data_defaults)
    training: TrainingConfig = field(default_factory=_training_defaults)
    evaluation: EvaluationConfig = field(default_factory=_evaluation_defaults)
    output: OutputConfig = field(default_factory=lambda: OutputConfig(dir="runs/distill"))

    def validate(self) -> "DistillJob":
        """Refuse impossible settings (InputError naming the key); the training tables are checked
        as the fine-tuning job checks them."""
        d = self.distill
        check_temperature(d.temperature)
        check_alpha(d.alpha)
        if d.direction not in DIRECTIONS:
            raise InputError(f"The setting distill.direction must be one of {', '.join(DIRECTIONS)} "
                             f"(it is {d.direction!r}).", "Use \"forward\" unless you want the reverse KL.")
        if d.student_layers < 0:
            raise InputError("The setting distill.student_layers cannot be negative.",
                             "Use 0 for every other layer, or the number of layers to keep.")
        self.finetune_config().validate()
        return self

    def finetune_config(self) -> FinetuneConfig:
        """The same job as the fine-tuning loop reads it (full training of the student's weights)."""
        return FinetuneConfig(model=self.model, data=self.data, method=MethodConfig(name="full"),
                              training=self.training, evaluation=self.evaluation, output=self.output)

    @property
    def learning_rate(self) -> float:
        return self.finetune_config().learning_rate

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @staticmethod
    def from_dict(data: dict, where: str = "the distillation job") -> "DistillJob":
        return _build(DistillJob, data, "", where)

    def to_toml(self) -> str:
        return dump_toml(self.to_dict())

    def copy(self) -> "DistillJob":
        return DistillJob.from_dict(self.to_dict())

    def with_paths_resolved(self, base: Path) -> "DistillJob":
        """A copy whose relative paths (data, output, a model folder) are taken from ``base``."""
        fixed = self.finetune_config().with_paths_resolved(base)
        out = self.copy()
        out.model, out.data, out.output = fixed.model, fixed.data, fixed.output
        s = out.distill.student
        if s and not os.path.isabs(os.path.expanduser(s)):
            out.distill.student = str((base / s).resolve())
        return out


def check_temperature(t: float) -> None:
    """Refuse a temperature the softmax cannot divide by."""
    if not (isinstance(t, (int, float)) and math.isfinite(t) and t > 0):
        raise InputError(f"The temperature T must be above 0 (it is {t}).",
                         "T divides the logits: 1 leaves them as they are, 2 to 5 soften them. Try 2.")


def check_alpha(alpha: float) -> None:
    """Refuse a weight outside 0-1 (the two parts of the loss would not be a mix)."""
    if not (isinstance(alpha, (int, float)) and math.isfinite(alpha) and 0 <= alpha <= 1):
        raise InputError(f"α must be between 0 and 1 (it is {alpha}).",
                         "α is the share of the hard-label loss: 1 = labels only, 0 = soft targets only. Try 0.5.")


def load_job(path: str | Path) -> DistillJob:
    """Read a distillation job's TOML file; relative paths are relative to its folder.

    Raises
    ------
    InputError
        A missing file, bad TOML, an unknown key, a wrong type, or a value out of range.
    """
    from playground.core.finetune.config import read_job_file

    path = Path(path)
    job = DistillJob.from_dict(read_job_file(path, "Distillation"), path.name)
    return job.with_paths_resolved(path.parent.resolve()).validate()
