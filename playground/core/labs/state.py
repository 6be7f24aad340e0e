"""A plain snapshot of what the learner has done in the app, filled by the Qt layer from the tabs' signals.

Every entry is plain data (numbers, text, dicts), so a check is a pure function of it and a test can
build a state by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LabState:
    prompt_runs: list[dict] = field(default_factory=list)
    """Prompt tab single runs: {"shots": int, "template": str, "scores": {"rouge1": ...}}"""
    prompt_comparisons: list[dict] = field(default_factory=list)
    """Prompt tab comparisons: {"mode": "shots" | "templates", "labels": [...], "shots": [...],
    "templates": [...], "scored": int}"""
    prompt_overflow_seen: bool = False
    """the token meter showed a prompt that does not fit the context window"""
    generations: list[dict] = field(default_factory=list)
    """Generate tab runs: GenerationSettings.to_dict() plus {"tokens": int}"""
    sampling: dict = field(default_factory=dict)
    """the Sampling tab's settings now: {"do_sample", "temperature", "top_k", "top_p", "seed"}"""
    rollouts: list[dict] = field(default_factory=list)
    """Sampling tab 'Run 5 times': the settings used plus {"n": number of sampled continuations}"""
    memory_estimates_seen: list[str] = field(default_factory=list)
    """methods whose training-memory estimate the Fine-tune tab has shown"""
    finetune_runs: list[dict] = field(default_factory=list)
    """finished fine-tuning runs: {"method": "full" | "lora" | "prompt_tuning", "run_dir": str}"""
    evaluations: list[dict] = field(default_factory=list)
    """finished evaluations: {"systems": [label...], "rouge": {label: {"rouge1": ...}},
    "finetune_runs_before": how many fine-tuning runs had finished when it ran}"""
    align_available: bool = False
    """this build has an Align tab that reports its state"""
    align: dict = field(default_factory=dict)
    """the Align tab's state: {"pairs_labelled": int, "reward_accuracy": float | None,
    "runs": [{"algorithm": str, "kl_coef": float, "reward_before": float, "reward_after": float}]}"""
