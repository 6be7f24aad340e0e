"""Speculative decoding's settings, declared once (no torch: forms are built before torch loads).

A *draft* model proposes ``gamma`` tokens; the *target* (the loaded model) checks them all in one
forward pass. The draft is named by one string, the same in the GUI, the command line and a
notebook:

- ``layers:N`` — self-speculative: the target's own first N decoder layers, then its final norm
  and its head (a view of the target's weights, no copy);
- a folder path — any local model with the same tokenizer and vocabulary (a distilled student
  is such a folder).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from playground.core.base.errors import InputError
from playground.core.decoding.settings import SamplingSettings

MIN_GAMMA, MAX_GAMMA = 1, 16
MAX_SPEC_TOKENS = 512
LAYERS_PREFIX = "layers:"
_LAYERS = re.compile(r"^\s*layers\s*:\s*(-?\d+)\s*$", re.IGNORECASE)

GAMMA_HELP = ("γ (gamma): how many tokens the draft proposes per round. The target checks them all in one "
              "pass, so each accepted token saves a pass of the big model; a long guess is likely to be cut at "
              "the first miss, and the draft's time for the rest is wasted. 2 to 8 is usual.")
DRAFT_HELP = ("The draft model: 'layers:N' uses the target's own first N layers with its final norm and head "
              "(self-speculative, no extra weights); a folder is any local model with the same tokenizer, such as "
              "a distilled student.")
TOKENS_HELP = "How many new tokens to generate, speculative and plain alike (the speed-up is measured on these)."


def _meta(label: str, help: str, **kw: Any) -> dict:
    return {"label": label, "help": help, **kw}


@dataclass(frozen=True)
class SpeculativeSettings:
    """The draft, γ, the length and the sampling (greedy: output identical to the target's greedy)."""

    draft: str = field(default="layers:8", metadata=_meta("Draft", DRAFT_HELP))
    gamma: int = field(default=4, metadata=_meta("γ (tokens per round)", GAMMA_HELP, range=(MIN_GAMMA, MAX_GAMMA, 1)))
    max_new_tokens: int = field(default=48, metadata=_meta("Max new tokens", TOKENS_HELP,
                                                           range=(1, MAX_SPEC_TOKENS, 1)))
    sampling: SamplingSettings = field(default_factory=SamplingSettings, metadata={"label": "Sampling"})

    def validate(self) -> None:
        """Refuse a γ outside 1-16, a bad length, a malformed draft name, bad sampling settings.

        Raises
        ------
        InputError
            In plain words, with what to choose instead.
        """
        if not isinstance(self.gamma, int) or not MIN_GAMMA <= self.gamma <= MAX_GAMMA:
            why = ("with γ = 0 the draft proposes nothing and every token costs a full pass of the target"
                   if self.gamma == 0 else
                   "a guess that long is almost always cut at its first miss, and the draft's time for the rest "
                   "is wasted" if isinstance(self.gamma, int) and self.gamma > MAX_GAMMA else "γ counts tokens")
            raise InputError(f"γ must be a whole number from {MIN_GAMMA} to {MAX_GAMMA} (it is {self.gamma!r}): {why}.",
                             "Choose γ between 2 and 8 to start with.")
        if not 1 <= int(self.max_new_tokens) <= MAX_SPEC_TOKENS:
            raise InputError(f"Max new tokens must be from 1 to {MAX_SPEC_TOKENS} (it is {self.max_new_tokens}).")
        if not str(self.draft).strip():
            raise InputError("No draft model was named.",
                             "Use 'layers:N' (the target's first N layers) or a model folder.")
        if str(self.draft).strip().lower().startswith("layers") and layers_of(self.draft) is None:
            raise InputError(f"'{self.draft}' is not a layer count.", "Write it as layers:N, e.g. layers:8.")
        self.sampling.validate()

    def describe(self) -> str:
        """One line for a result header: 'draft layers:8 · γ=4 · greedy · 48 tokens'."""
        return f"draft {draft_label(self.draft)} · γ={self.gamma} · {self.sampling.describe()} · " \
               f"{self.max_new_tokens} tokens"

    def with_sampling(self, **changes: Any) -> SpeculativeSettings:
        return replace(self, sampling=replace(self.sampling, **changes))

    def to_dict(self) -> dict:
        return {"draft": self.draft, "gamma": self.gamma, "max_new_tokens": self.max_new_tokens,
                **self.sampling.to_dict()}

    @classmethod
    def from_dict(cls, data: dict | None) -> SpeculativeSettings:
        data = dict(data or {})
        own = {f.name for f in fields(cls)} - {"sampling"}
        return cls(sampling=SamplingSettings.from_dict(data), **{k: v for k, v in data.items() if k in own})


def layers_of(draft: str) -> int | None:
    """N of a 'layers:N' draft name, or None for anything else (a folder)."""
    m = _LAYERS.match(str(draft))
    return int(m.group(1)) if m else None


def draft_label(draft: str) -> str:
    """A short name: 'first 8 layers' or the folder's last part."""
    n = layers_of(draft)
    if n is not None:
        return f"first {n} layers"
    text = str(draft).rstrip("/\\")
    parts = re.split(r"[/\\]", text)
    # a student's folder ends in soft/model or hard/model: name it by its run and kind
    if len(parts) >= 3 and parts[-1] == "model" and parts[-2] in ("soft", "hard"):
        return f"{parts[-3]} ({parts[-2]} student)"
    return parts[-1] or text
