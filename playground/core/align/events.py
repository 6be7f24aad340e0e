"""What an align run reports beside the fine-tuning events it shares (StageEvent, CheckpointEvent,
DoneEvent, StoppedEvent from ``playground.core.finetune.events``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class AlignStepEvent:
    """One optimizer step of an align run (GRPO's loss sits near 0 by construction: plot the reward)."""

    step: int
    total_steps: int
    method: str
    reward_mean: float
    reward_std: float
    kl: float
    entropy: float
    completion_length: float   # tokens per completion
    tokens_per_s: float
    loss: float
    seconds: float
    peak_memory_bytes: int
    extra: dict = field(default_factory=dict)  # DPO margin/accuracy, PPO value loss, GRPO group


@dataclass
class MonitorEvent:
    """The metric that is *not* optimized: ROUGE-L of greedy summaries of held-out dialogues."""

    step: int
    rouge_l: float
    samples: list  # [{"prompt_id", "completion", "reference", "reward", "rouge_l"}]: the filmstrip's frame
    kl: float | None = None  # the latest step's KL to the reference (0 at step 0)


@dataclass
class RewardModelEvent:
    """A reward model was trained: held-out accuracy, score histograms, the repeat probe.

    ``trained``: the TrainedRewardModel itself (its RewardModel, pairs and timing), for the caller
    that saves it or keeps it to score with."""

    report: dict
    trained: Any = None
