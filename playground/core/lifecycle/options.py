"""The options of the lifecycle lab's three measurements, declared once with each field's label and help.

``PrecisionOptions`` is what ``precision_sweep`` measures, ``ForgettingOptions`` which fine-tuned
model the probes compare with the base, ``ScalingOptions`` the inputs of ``scaling.calculate`` and
of ``mini_scaling.run_experiment``. The Lifecycle tab's pages edit them as drafts (the precision
and scaling ones are the ``lifecycle_precision`` and ``lifecycle_scaling`` sections of the settings
file); the metadata keys follow ``playground.qt.binding``. No torch here.

A draft may hold what a check refuses (no format, a budget that is not a number): the core
functions refuse those in plain words when the page starts work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.lifecycle.mini_scaling import DEFAULT_BUDGET, SIZES
from playground.core.lifecycle.precision import DEFAULT_FORMATS

_NUMBER_OR_EMPTY = (float, int, type(None))


@dataclass(frozen=True)
class PrecisionOptions:
    """The precision sweep: which formats, measured on how many texts, with how many greedy tokens."""

    formats: list = field(default_factory=lambda: list(DEFAULT_FORMATS), metadata={
        "label": "Formats", "items": str,
        "help": "The number formats to convert the model to and measure (FP32, the reference, is always "
                "computed first)."})
    texts: int = field(default=20, metadata={
        "label": "Texts", "range": (1, 500),
        "help": "How many bundled test summaries perplexity and the KL divergence from FP32 are measured on."})
    new_tokens: int = field(default=24, metadata={
        "label": "Greedy tokens", "range": (1, 256),
        "help": "How many tokens each format writes greedily from the same prompt (decode speed, and where "
                "the text first differs from FP32)."})


@dataclass(frozen=True)
class ForgettingOptions:
    """Which fine-tuned model the forgetting probes compare with its base.

    ``compare_with``: a finished run's folder, ``"attached"`` for the model attached in the model bar,
    or ``""`` for none (the base and its noise floor only).
    """

    compare_with: str = field(default="", metadata={
        "label": "compare with",
        "help": "The fine-tuned model to compare with its base: a finished run of the Fine-tune tab, or the "
                "adapter attached now."})


@dataclass(frozen=True)
class ScalingOptions:
    """The compute calculator's N, D or C, and the miniature experiment's budget and sizes.

    Give N and D, or a budget C (not both); an empty value is ``None``.
    """

    params: float | None = field(default=70e9, metadata={
        "label": "parameters N", "types": _NUMBER_OR_EMPTY,
        "help": "N: the number of parameters, e.g. 7e9 for a 7B model."})
    tokens: float | None = field(default=1.4e12, metadata={
        "label": "tokens D", "types": _NUMBER_OR_EMPTY,
        "help": "D: the number of training tokens, e.g. 1.4e12."})
    flops: float | None = field(default=None, metadata={
        "label": "compute C", "types": _NUMBER_OR_EMPTY,
        "placeholder": "or a budget C in FLOPs (leave N and D empty)",
        "help": "C: a compute budget in FLOPs; the optimum N*, D* is shown for it."})
    budget: float | None = field(default=DEFAULT_BUDGET, metadata={
        "label": "budget per size (FLOPs)", "types": _NUMBER_OR_EMPTY,
        "help": "FLOPs each size trains for (6·N·D). 1e12 takes several minutes on one CPU core; much faster "
                "on a GPU."})
    sizes: list = field(default_factory=lambda: [s.name for s in SIZES], metadata={
        "label": "sizes", "items": str,
        "help": "The tiny model sizes the experiment trains, by name (" + ", ".join(s.name for s in SIZES) + ")."})
