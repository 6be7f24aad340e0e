"""What a distillation job tells its watcher, besides the fine-tuning job's own events (StageEvent,
DataEvent, EvalEvent, CheckpointEvent, StoppedEvent, which it yields as they are)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.distill.measure import LABELS, ModelRow
from playground.core.finetune.events import StepEvent


@dataclass
class StudentEvent:
    """A student is made (or resumed) and starts training."""

    kind: str            # soft, hard
    alpha: float
    temperature: float
    kept_layers: list
    parameters: int
    teacher_parameters: int
    resumed_at: int = 0

    def describe(self) -> str:
        share = self.parameters / max(1, self.teacher_parameters)
        again = f", resuming at step {self.resumed_at}" if self.resumed_at else ""
        return (f"{LABELS[self.kind]} (α = {self.alpha:g}, T = {self.temperature:g}): {len(self.kept_layers)} layers "
                f"{self.kept_layers}, {self.parameters:,} parameters ({share:.0%} of the teacher){again}")


@dataclass
class DistillStepEvent:
    """One optimizer step of one student: the loop's StepEvent and the loss's two parts."""

    kind: str
    step: StepEvent
    kl: float            # mean KL(teacher_T ‖ student_T) per summary token (0 for hard labels)
    ce: float            # mean next-token cross-entropy per summary token

    def describe(self) -> str:
        return f"{self.kind}: {self.step.describe()}  KL {self.kl:.4f}  CE {self.ce:.4f}"


@dataclass
class MeasuredEvent:
    """A model of the run is measured (size, speed, perplexity, ROUGE-L)."""

    row: ModelRow

    def describe(self) -> str:
        from playground.core.base.units import format_score

        r = self.row
        rouge = f", ROUGE-L {format_score(r.rouge_l, 'rougeL')}" if r.rouge_l is not None else ""
        return (f"{r.label}: {r.parameters:,} parameters, {r.tokens_per_s:.1f} tokens/s, "
                f"perplexity {r.perplexity:.2f}{rouge}")


@dataclass
class DistillDoneEvent:
    """The job finished: its run folder, the saved students (kind -> folder) and the report."""

    run_dir: str
    students: dict
    report: dict
    rows: list = field(default_factory=list)   # ModelRow, teacher first

    def describe(self) -> str:
        return "Done. Students: " + ", ".join(f"{k} {v}" for k, v in self.students.items())


@dataclass
class ViewEvent:
    """Teacher and student compared on the view's context (``distill.view.NextTokenView``)."""

    kind: str
    step: int
    view: object

    def describe(self) -> str:
        return f"{self.kind} at step {self.step}: KL on the last token {self.view.last_kl:.4f}"
