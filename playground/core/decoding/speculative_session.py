"""Speculative decoding from a prompt to a report: checks, the draft, the rounds, the measured speed-up.

Used by the Lifecycle tab's Speculative decoding section, ``playground generate --draft``, and the
bench script. The speed-up is measured, not estimated: plain decoding (one target pass per token,
the same shared cached step) runs on the same prompt with the same settings and length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playground.core.base.errors import InputError
from playground.core.decoding.draft_models import DraftModel, load_draft
from playground.core.decoding.generation import _eos_ids, check_prompt
from playground.core.decoding.speculative import SpeculativeRun, plain_decode
from playground.core.decoding.speculative_settings import SpeculativeSettings
from playground.core.models.loading import DECODER_ONLY, LoadedModel


def open_run(target: LoadedModel, prompt: str, settings: SpeculativeSettings, draft: DraftModel | None = None,
             handle=None) -> tuple[SpeculativeRun, DraftModel]:
    """A ready speculative run of ``prompt`` on ``target`` (the draft loaded unless given).

    Raises
    ------
    InputError
        Bad settings, an encoder-decoder target, a prompt plus new tokens over either model's context
        window, a draft with another tokenizer or vocabulary.
    """
    settings.validate()
    if target.info.kind != DECODER_ONLY:
        raise InputError(f"{target.info.name} is {target.info.kind}: speculative decoding here needs a "
                         "decoder-only target.", "Load a causal language model (the bundled one is).")
    ids = check_prompt(target, prompt, settings.max_new_tokens)
    if draft is None or draft.spec != settings.draft:
        draft = load_draft(target, settings.draft, handle)
    window = draft.loaded.info.context_window
    if len(ids) + settings.max_new_tokens > window:
        raise InputError(f"The prompt is {len(ids)} tokens plus {settings.max_new_tokens} new ones, but the draft "
                         f"reads at most {window} tokens.", "Shorten the prompt, lower max new tokens, or choose "
                                                            "a draft with a longer context window.")
    run = SpeculativeRun(target, draft.loaded, ids, settings, _eos_ids(target.model, target.tokenizer))
    return run, draft


@dataclass
class SpeedUp:
    """Plain decoding of the same prompt, timed, and what speculative decoding gained on it."""

    plain_tokens: list[int]
    plain_seconds: float
    spec_tokens: int
    spec_seconds: float
    same_text: bool | None     # greedy: is the speculative text the plain one? (None when sampling)
    notes: list[str] = field(default_factory=list)

    @property
    def plain_rate(self) -> float:
        return len(self.plain_tokens) / self.plain_seconds if self.plain_seconds > 0 else float("nan")

    @property
    def spec_rate(self) -> float:
        return self.spec_tokens / self.spec_seconds if self.spec_seconds > 0 else float("nan")

    @property
    def factor(self) -> float:
        """Speculative tokens per second over plain tokens per second (above 1: faster)."""
        return self.spec_rate / self.plain_rate if self.plain_rate > 0 else float("nan")

    def as_dict(self) -> dict:
        return {"plain_tokens": len(self.plain_tokens), "plain_seconds": self.plain_seconds,
                "spec_tokens": self.spec_tokens, "spec_seconds": self.spec_seconds, "plain_rate": self.plain_rate,
                "spec_rate": self.spec_rate, "speed_up": self.factor, "same_text": self.same_text}


def measure_speedup(run: SpeculativeRun, cancelled: Callable[[], bool] | None = None) -> SpeedUp:
    """Time plain decoding on ``run``'s prompt and settings and compare with ``run``'s measured time."""
    s = run.settings
    tokens, seconds = plain_decode(run.target, run.prompt_ids, s.sampling, s.max_new_tokens, run.eos_ids, cancelled)
    same = (tokens == run.tokens) if s.sampling.greedy and run.finished else None
    notes = []
    if same is False:
        notes.append("The greedy texts differ: with float rounding in a pass over several tokens, two near-equal "
                     "scores can swap. The rule itself keeps the target's output.")
    return SpeedUp(tokens, seconds, len(run.tokens), run.elapsed, same, notes)


def explain_speed(totals: dict, speed: SpeedUp, draft_fraction: float | None) -> str:
    """Plain words on why this run was faster or not (draft cost against tokens per target pass)."""
    per_pass = totals.get("tokens_per_target_pass", 0.0)
    rate = totals.get("acceptance_rate", 0.0)
    text = (f"{per_pass:.2f} tokens per target pass at {100 * rate:.0f}% acceptance; the draft took "
            f"{100 * totals['draft_seconds'] / max(totals['seconds'], 1e-9):.0f}% of the time.")
    if speed.factor < 1:
        text += (" Slower than plain decoding: the draft's steps"
                 + (f" (each {100 * draft_fraction:.0f}% of the layers)" if draft_fraction else "")
                 + " plus one target pass over γ+1 tokens cost more than the target passes they saved"
                 + (", and few guesses were accepted." if rate < 0.5 else "."))
    return text
