"""What a fine-tuning job tells its watcher, one event at a time (the items ``run_finetune`` yields).

Events are plain dataclasses: the command line prints them, the GUI shows them (they cross to
the GUI thread as the task runner's ``sig_item``), tests assert on them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StageEvent:
    """A phase starts or advances: model, data, method, rouge_before, train, save, rouge_after, report."""

    stage: str
    message: str
    fraction: float | None = None  # progress within the stage when known


@dataclass
class DataEvent:
    """The data is ready: per split (train/validation/test), SplitStats as a dict."""

    stats: dict


@dataclass
class MethodEvent:
    """The method is applied: what is trained and how much of the model that is."""

    method: str
    trainable_parameters: int
    total_parameters: int
    target_modules: list = field(default_factory=list)  # LoRA: the module names adapted
    details: dict = field(default_factory=dict)

    @property
    def trainable_share(self) -> float:
        return self.trainable_parameters / max(1, self.total_parameters)


@dataclass
class StepEvent:
    """One optimizer step is done."""

    step: int                 # completed steps (1 after the first)
    total_steps: int
    epoch: float              # epochs of data seen, fractional
    loss: float               # mean loss per completion token in this step
    learning_rate: float      # the rate used for this step
    tokens_per_s: float       # real (non-padding) tokens per second, recent steps, all processes
    eta_s: float              # seconds of training left, estimated
    elapsed_s: float          # seconds of training so far (all sessions of the run)
    peak_memory_bytes: int    # since the run started: GPU memory allocated at most (CUDA) or peak RSS (CPU)
    tokens_seen: int
    memory_added_bytes: int = 0  # that peak less what the process held when the run started


@dataclass
class EvalEvent:
    """Validation loss at a step (mean loss per completion token over the validation split)."""

    step: int
    validation_loss: float


@dataclass
class CheckpointEvent:
    """A complete, resumable checkpoint was written."""

    step: int
    path: str


@dataclass
class RougeEvent:
    """Scores on the test split, 'before' or 'after' fine-tuning (from the evaluation core)."""

    when: str
    scores: dict                                    # rouge1, rouge2, rougeL, rougeLsum: mean F1, 0-1
    examples: int
    samples: list = field(default_factory=list)     # the first few: [{"id", "reference", "prediction"}]
    bleu: float = 0.0                               # corpus BLEU, 0-100
    intervals: dict = field(default_factory=dict)   # metric -> [low, high], 95% bootstrap
    predictions: list = field(default_factory=list)  # every summary, in test-split order


@dataclass
class StoppedEvent:
    """The job stopped on request; ``checkpoint`` resumes it (empty if none was written yet)."""

    step: int
    checkpoint: str


@dataclass
class DoneEvent:
    """The job finished; ``report`` is what report.json holds, ``model`` the trained model in memory."""

    run_dir: str
    artifact: str
    report: dict
    model: Any = None       # the trained (peft) model, for trying it right away
    tokenizer: Any = None
    loaded: Any = None      # the same as a LoadedModel, for generation.stream_generate & co.
