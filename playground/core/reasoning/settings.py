"""The Reasoning section's settings, declared once (label, range, help on each field), as the other tabs do."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

from playground.core.base.errors import InputError
from playground.core.prompting.prompts import USE_CHAT_TEMPLATE

K_RANGE = (1, 40)


def _meta(label: str, help: str, **kw) -> dict:
    return {"label": label, "help": help, **kw}


@dataclass(frozen=True)
class ReasoningSettings:
    """How the strategies run: the vote's size and temperature, the token budgets, the sandbox's time limit."""

    k: int = field(default=5, metadata=_meta(
        "Paths (k)", "Self-consistency samples this many chain-of-thought paths and votes over their answers. "
        "More paths: a steadier vote, and k times the tokens.", range=(*K_RANGE, 1)))
    temperature: float = field(default=0.7, metadata=_meta(
        "Temperature", "Self-consistency's sampling temperature (the Sampling tab's lesson): at 0 every path would "
        "be the same greedy path and the vote would mean nothing; too high and the paths stop making sense.",
        range=(0.05, 2.0, 0.05), decimals=2))
    seed: int = field(default=0, metadata=_meta(
        "Seed", "The first path's seed; path i uses seed + i, so a run repeats exactly.", range=(0, 2**31 - 1, 1)))
    direct_tokens: int = field(default=16, metadata=_meta(
        "Direct: max tokens", "The most new tokens for the direct answer (a number needs few).", range=(1, 256, 1)))
    reasoning_tokens: int = field(default=160, metadata=_meta(
        "CoT max tokens", "The most new tokens for each chain-of-thought reply; a reply stops earlier "
        "once it says 'The answer is N.'", range=(8, 1024, 8)))
    program_tokens: int = field(default=160, metadata=_meta(
        "PAL: max tokens", "The most new tokens for the program; it stops at the closing ``` fence.",
        range=(8, 1024, 8)))
    sandbox_seconds: float = field(default=2.0, metadata=_meta(
        "Sandbox time limit (s)", "A PAL program still running after this long is stopped (its steps are counted "
        "by the app's interpreter, which also checks the clock).", range=(0.1, 30.0, 0.1), decimals=1))
    use_chat_template: bool = field(default=USE_CHAT_TEMPLATE, metadata=_meta(
        "Chat template", "Wrap the turns in the model's chat template (the app's default), or write them as "
        "plain Q: / A: text.", cli=False))

    def validate(self) -> None:
        """Plain words for a value out of range (k = 0 or 1000 among them)."""
        lo, hi = K_RANGE
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not lo <= self.k <= hi:
            raise InputError(f"Self-consistency needs between {lo} and {hi} paths; k = {self.k} is out of range.",
                             f"Choose k from {lo} to {hi} (5 to 10 is usual; each path costs a full reply).")
        if not isinstance(self.temperature, (int, float)) or not math.isfinite(self.temperature) \
                or not 0.05 <= self.temperature <= 2.0:
            raise InputError(f"The temperature must be between 0.05 and 2 (it is {self.temperature}).",
                             "0.5 to 1.0 gives paths that differ but still make sense.")
        for f in fields(self):
            rng = f.metadata.get("range")
            value = getattr(self, f.name)
            if f.name in ("k", "temperature") or rng is None:
                continue
            if not isinstance(value, (int, float)) or not rng[0] <= value <= rng[1]:
                raise InputError(f"{f.metadata['label']} must be between {rng[0]} and {rng[1]} (it is {value}).")

    def budget(self, kind: str) -> int:
        return {"direct": self.direct_tokens, "program": self.program_tokens}.get(kind, self.reasoning_tokens)

    def describe(self) -> str:
        """One line for a result header."""
        form = "chat template" if self.use_chat_template else "plain Q/A text"
        return (f"greedy (self-consistency: k={self.k} at T={self.temperature:.2f}, seed {self.seed}) · "
                f"max tokens {self.direct_tokens}/{self.reasoning_tokens}/{self.program_tokens} · {form}")

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict | None) -> ReasoningSettings:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})
