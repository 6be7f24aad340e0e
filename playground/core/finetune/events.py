"""What a fine-tuning job tells its watcher, one event at a time (the items ``run_finetune`` yields).

Events are plain dataclasses: the command line prints them, the GUI shows them (they cross to
the GUI thread as the task runner's ``sig_item``), tests assert on them. Each one says what it
means in a sentence (``describe()``), so the terminal and the wizard's log write the same words;
``details()`` adds the lines a terminal has room for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playground.core.base.units import format_bytes


@dataclass
class StageEvent:
    """A phase starts or advances: model, data, method, rouge_before, train, save, rouge_after, report."""

    stage: str
    message: str
    fraction: float | None = None  # progress within the stage when known

    @property
    def milestone(self) -> bool:
        """Worth a line of its own (not one of the many progress updates within a stage)."""
        return self.fraction is None or self.fraction >= 1.0

    def describe(self) -> str:
        return self.message


@dataclass
class DataEvent:
    """The data is ready: per split (train/validation/test), SplitStats as a dict."""

    stats: dict

    def describe(self) -> str:
        return "Data: " + ", ".join(f"{k} {v['examples']}" for k, v in self.stats.items()) + " examples"

    def details(self) -> list[str]:
        """One line per split: examples, what was left out, tokens per example."""
        out = []
        for split, st in self.stats.items():
            tt = st["total_tokens"]
            out.append(f"  {split}: {st['examples']} examples ({st['skipped_empty']} empty skipped, "
                       f"{st['truncated']} truncated, {st['dropped_too_long']} dropped); tokens per example "
                       f"min {tt['min']} median {tt['median']:.0f} p95 {tt['p95']} max {tt['max']}")
        return out


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

    def describe(self) -> str:
        where = f" on {', '.join(self.target_modules)}" if self.target_modules else ""
        return (f"Method {self.method}{where}: {self.trainable_parameters:,} of {self.total_parameters:,} "
                f"parameters learn ({self.trainable_share:.3%})")


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

    def stats(self) -> str:
        return (f"loss {self.loss:.4f}  lr {self.learning_rate:.2e}  {self.tokens_per_s:,.0f} tokens/s  "
                f"mem {format_bytes(self.peak_memory_bytes)}")

    def describe(self) -> str:
        return f"step {self.step}/{self.total_steps}  {self.stats()}"


@dataclass
class EvalEvent:
    """Validation loss at a step (mean loss per completion token over the validation split)."""

    step: int
    validation_loss: float

    def describe(self) -> str:
        return f"step {self.step}: validation loss {self.validation_loss:.4f}"


@dataclass
class CheckpointEvent:
    """A complete, resumable checkpoint was written."""

    step: int
    path: str

    def describe(self) -> str:
        return f"step {self.step}: checkpoint {self.path}"


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

    def describe(self) -> str:
        from playground.core.base.units import format_score

        scores = ", ".join(f"{k} {format_score(v, k)}" for k, v in self.scores.items())
        return (f"ROUGE {self.when} fine-tuning ({self.examples} test dialogues, 0-100): {scores}; "
                f"BLEU {format_score(self.bleu, 'bleu')}")


@dataclass
class StoppedEvent:
    """The job stopped on request; ``checkpoint`` resumes it (empty if none was written yet)."""

    step: int
    checkpoint: str

    def describe(self) -> str:
        where = f"checkpoint {self.checkpoint}" if self.checkpoint else "no checkpoint yet (no step was finished)"
        return f"Stopped at step {self.step}; {where}."


@dataclass
class DoneEvent:
    """The job finished; ``report`` is what report.json holds, ``model`` the trained model in memory."""

    run_dir: str
    artifact: str
    report: dict
    model: Any = None       # the trained (peft) model, for trying it right away
    tokenizer: Any = None
    loaded: Any = None      # the same as a LoadedModel, for generation.stream_generate & co.

    def describe(self) -> str:
        return f"Done. Trained weights: {self.artifact}"
