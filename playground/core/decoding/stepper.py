"""Generation one token at a time, with a history a learner can step through and branch from.

One forward pass over the prompt caches the scores (logits) for the next token and the model's
key/value cache. Each chosen token then costs one forward pass over that token alone. Going back
to an earlier step crops the cache instead of recomputing the prompt.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch

from playground.core.decoding.cached_step import CachedDecoder
from playground.core.decoding.decode_speed import intra_op_threads
from playground.core.base.errors import InputError
from playground.core.decoding.generation import _eos_ids, check_prompt
from playground.core.models.loading import LoadedModel
from playground.core.decoding.sampling import SamplingSettings, make_generator, pick_token
from playground.core.prompting.tokens import token_text


@dataclass(frozen=True)
class Step:
    """One point of the continuation: the scores for the next token, and the token chosen there."""

    index: int                  # how many tokens were chosen before this point
    logits: torch.Tensor        # 1-D float32 on the CPU, over the whole vocabulary
    token_id: int | None = None  # the token chosen here (None: not chosen yet)
    text: str = ""              # that token's text, decoded alone
    prob: float = math.nan      # the model's plain (softmax) probability of that token
    final_prob: float = math.nan  # its probability under the settings it was chosen with
    how: str = ""               # 'greedy', 'sample T=0.70 …' or 'forced'
    is_eos: bool = False

    @property
    def chosen(self) -> bool:
        return self.token_id is not None


@dataclass(frozen=True)
class Rollout:
    """A continuation run ahead from one point and then discarded."""

    label: str          # 'greedy' or 'seed 3'
    token_ids: list[int]
    text: str
    probs: list[float]  # plain probability of each token


class TokenStepper:
    """Steps through generation for one prompt, reusing the KV cache. Not thread-safe: one user.

    Parameters
    ----------
    loaded
        A decoder-only or encoder-decoder model.
    prompt
        The full prompt text (already wrapped in a chat template if wanted).

    Raises
    ------
    InputError, PlaygroundError
        Empty prompt, prompt over the context window, or an encoder-only model.
    """

    def __init__(self, loaded: LoadedModel, prompt: str) -> None:
        self.loaded = loaded
        self.prompt = prompt
        self.prompt_ids = check_prompt(loaded, prompt)
        self._steps: list[Step] = []
        self._decoder = CachedDecoder(loaded, self.prompt_ids)
        self._eos = _eos_ids(loaded.model, loaded.tokenizer)

    # state ---------------------------------------------------------------------------------
    @property
    def steps(self) -> tuple[Step, ...]:
        """Every point so far; the last one is the next token's distribution (nothing chosen yet)."""
        return tuple(self._steps)

    @property
    def current(self) -> Step:
        if not self._steps:
            raise RuntimeError("call start() first")
        return self._steps[-1]

    @property
    def tokens(self) -> list[int]:
        return [s.token_id for s in self._steps if s.token_id is not None]

    @property
    def finished(self) -> bool:
        """True once end-of-text was chosen: the model has said it is done."""
        return len(self._steps) >= 2 and self._steps[-2].is_eos

    def is_eos(self, token_id: int) -> bool:
        return int(token_id) in self._eos

    def continuation(self, upto: int | None = None) -> str:
        """The text of the chosen tokens (the first ``upto`` of them), special tokens dropped."""
        ids = self.tokens if upto is None else self.tokens[:upto]
        return self.loaded.tokenizer.decode(ids, skip_special_tokens=True)

    # the model -----------------------------------------------------------------------------
    @property
    def forward_passes(self) -> int:
        return self._decoder.forward_passes

    @property
    def _cache(self):
        return self._decoder.cache

    def start(self) -> Step:
        """Run the prompt once and cache the next token's scores and the KV cache."""
        self._steps = [Step(index=0, logits=self._decoder.start())]
        return self._steps[0]

    def _check_room(self) -> None:
        if self.loaded.is_encoder_decoder:
            return
        limit = self.loaded.info.context_window
        if len(self.prompt_ids) + len(self.tokens) + 1 > limit:
            raise InputError(f"The context window is full ({limit} tokens): the model cannot read more.",
                             "Go back to an earlier step, or shorten the prompt.")

    # choosing tokens -------------------------------------------------------------------------
    def append(self, token_id: int, *, final_prob: float = math.nan, how: str = "forced") -> Step:
        """Choose ``token_id`` at the current point and run the model on it alone (KV cache).

        Returns the new current step (the distribution for the token after it).
        """
        cur = self.current
        token_id = int(token_id)
        vocab = cur.logits.shape[-1]
        if not 0 <= token_id < vocab:
            raise InputError(f"Token id {token_id} is outside the vocabulary (0–{vocab - 1}).")
        self._check_room()
        with intra_op_threads(self._decoder.threads):  # the decode step's threads (decode_speed)
            prob = float(cur.logits.softmax(-1)[token_id])
            logits = self._decoder.feed([token_id])
        self._steps[-1] = replace(cur, token_id=token_id, prob=prob, final_prob=float(final_prob), how=how,
                                  text=token_text(self.loaded.tokenizer, token_id),
                                  is_eos=self.is_eos(token_id))
        self._steps.append(Step(index=cur.index + 1, logits=logits))
        return self._steps[-1]

    def truncate(self, index: int) -> Step:
        """Go back to point ``index``: forget the tokens chosen there and after, crop the cache."""
        if not 0 <= index < len(self._steps):
            raise IndexError(f"no step {index}")
        drop = len(self._steps) - 1 - index
        if drop:
            self._decoder.crop(drop)
            del self._steps[index + 1:]
        self._steps[index] = Step(index=index, logits=self._steps[index].logits)
        return self._steps[index]

    def branch(self, index: int, token_id: int, *, final_prob: float = math.nan, how: str = "forced") -> Step:
        """Choose a different token at point ``index``: everything after it is recomputed."""
        self.truncate(index)
        return self.append(token_id, final_prob=final_prob, how=how)

    def choose(self, settings: SamplingSettings, generator: torch.Generator | None = None) -> Step:
        """Pick the next token with ``settings`` (greedy or a seeded draw) and append it."""
        with intra_op_threads(self._decoder.threads):
            token, stages = pick_token(settings, self.current.logits, generator)
            final_prob = float(stages.final[token])
        return self.append(token, final_prob=final_prob, how=settings.describe())

    def run(self, n: int, settings: SamplingSettings, generator: torch.Generator | None = None,
            cancelled: Callable[[], bool] | None = None) -> Iterator[Step]:
        """Choose up to ``n`` tokens, yielding each chosen step; stops at end-of-text."""
        for _ in range(int(n)):
            if self.finished or (cancelled is not None and cancelled()):
                return
            self.choose(settings, generator)
            yield self._steps[-2]

    def rollout(self, n: int, settings: SamplingSettings, label: str = "",
                cancelled: Callable[[], bool] | None = None) -> Rollout:
        """Run ``n`` tokens ahead with ``settings`` (its own seeded generator), then come back."""
        start = len(self._steps) - 1
        generator = make_generator(settings.seed)
        try:
            chosen = list(self.run(n, settings, generator, cancelled))
        finally:
            self.truncate(start)
        ids = [s.token_id for s in chosen]
        text = self.loaded.tokenizer.decode(ids, skip_special_tokens=True)
        return Rollout(label or settings.describe(), ids, text, [s.prob for s in chosen])


def compare_rollouts(stepper: TokenStepper, n: int, settings: SamplingSettings, runs: int = 5,
                     cancelled: Callable[[], bool] | None = None) -> Iterator[Rollout]:
    """The greedy continuation, then ``runs`` samples with seeds seed, seed+1, … from the current point."""
    yield stepper.rollout(n, SamplingSettings(do_sample=False), "greedy", cancelled)
    base = settings.seed or 0
    for i in range(runs):
        if cancelled is not None and cancelled():
            return
        run_settings = settings.with_seed(base + i)
        yield stepper.rollout(n, run_settings, f"seed {base + i}", cancelled)
