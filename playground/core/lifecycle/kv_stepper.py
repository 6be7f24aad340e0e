"""A greedy generation stepped through with its KV cache in view: the prefill pass, then one decode step
at a time; after each pass, what every layer's cache holds and which cached positions the newest
token's query read (its attention row).

The passes are the shared cached decode step (``CachedDecoder``); the token is chosen by the shared
``pick_token`` (greedy). The attention rows are heard with forward hooks on the attention modules
(``core.attention.taps``) under eager attention, switched on only while a pass runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from playground.core.base.errors import InputError, PlaygroundError
from playground.core.lifecycle.kv_cache import CacheShape, measured_cache_bytes, per_layer_lengths, shape_of_loaded

DEFAULT_NEW_TOKENS = 24


@dataclass(frozen=True)
class CacheStep:
    """One forward pass: the prefill (index 0) or a decode step."""

    index: int
    fed_ids: list[int]          # the tokens this pass read (the whole prompt, or one token)
    next_id: int                # the greedy token this pass chose
    next_label: str             # that token, readable
    layer_lengths: list[int]    # positions cached in each layer after the pass
    cache_bytes: int            # numel × element size of every cached key and value
    seconds: float
    is_eos: bool = False
    attention: np.ndarray | None = field(default=None, repr=False)
    """(layers, heads, positions) float32: the last fed token's attention over every cached position"""

    @property
    def kind(self) -> str:
        return "prefill" if self.index == 0 else "decode"

    @property
    def added(self) -> int:
        """Positions this pass added to each layer's cache."""
        return len(self.fed_ids)

    def mean_attention(self) -> np.ndarray | None:
        """(layers, positions): the attention row averaged over the heads."""
        return None if self.attention is None else self.attention.mean(axis=1)


class KVCacheStepper:
    """Steps a greedy generation for one prompt. Not thread-safe: one user at a time.

    Parameters
    ----------
    loaded
        A decoder-only model (an encoder-decoder's decoder cache is not shown here).
    prompt
        The full prompt text (already in the chat template when wanted).
    attention
        Hear each layer's attention row (eager attention while a pass runs); off, the passes run as loaded.

    Raises
    ------
    InputError, PlaygroundError
        Empty prompt, a prompt longer than the context window, or a model that is not a decoder.
    """

    def __init__(self, loaded, prompt: str, *, attention: bool = True, max_new_tokens: int = DEFAULT_NEW_TOKENS):
        from playground.core.decoding.cached_step import CachedDecoder
        from playground.core.decoding.generation import _eos_ids, check_prompt

        if loaded.is_encoder_decoder or loaded.info.kind != "decoder-only":
            raise PlaygroundError(f"{loaded.info.name} is not a decoder-only model: this view steps a decoder's "
                                  "self-attention cache.", "Load a decoder-only model such as the bundled SmolLM2.")
        if not 1 <= int(max_new_tokens) <= 4096:
            raise InputError(f"{max_new_tokens} new tokens cannot be stepped.", "Choose between 1 and 4096.")
        self.loaded = loaded
        self.prompt = prompt
        self.shape: CacheShape = shape_of_loaded(loaded)
        self.prompt_ids = check_prompt(loaded, prompt, 0)
        self.max_new_tokens = int(max_new_tokens)
        self.with_attention = attention
        self.steps: list[CacheStep] = []
        self._decoder = CachedDecoder(loaded, self.prompt_ids)
        self._eos = _eos_ids(loaded.model, loaded.tokenizer)
        self._taps = None

    # state -----------------------------------------------------------------------------------
    @property
    def started(self) -> bool:
        return bool(self.steps)

    @property
    def finished(self) -> bool:
        """End-of-text chosen, the new-token budget spent, or the context window full."""
        if not self.steps:
            return False
        last = self.steps[-1]
        return (last.is_eos or len(self.steps) >= self.max_new_tokens
                or len(self.prompt_ids) + len(self.steps) > self.loaded.info.context_window)

    @property
    def generated_ids(self) -> list[int]:
        """The tokens chosen so far (each pass chooses one)."""
        return [s.next_id for s in self.steps]

    @property
    def cached_ids(self) -> list[int]:
        """The tokens whose keys and values the cache holds now, in order."""
        return [t for s in self.steps for t in s.fed_ids]

    @property
    def cache(self):
        return self._decoder.cache

    def text(self) -> str:
        return self.loaded.tokenizer.decode(self.generated_ids, skip_special_tokens=True)

    # passes ----------------------------------------------------------------------------------
    def prefill(self) -> CacheStep:
        """Read the whole prompt in one pass; the cache then holds every prompt position."""
        self.steps = []
        return self._pass(list(self.prompt_ids), self._decoder.start)

    def step(self) -> CacheStep:
        """Feed the last chosen token alone: one position is added to every layer's cache."""
        if not self.steps:
            return self.prefill()
        if self.finished:
            raise InputError(self.finished_reason(), "Press Prefill to start again, or change the prompt.")
        token = self.steps[-1].next_id
        return self._pass([token], lambda: self._decoder.feed([token]))

    def run(self, cancelled: Callable[[], bool] | None = None) -> Iterator[CacheStep]:
        """Steps until end-of-text, the new-token budget or the window; yields each pass."""
        if not self.steps:
            yield self.prefill()
        while not self.finished:
            if cancelled is not None and cancelled():
                return
            yield self.step()

    def finished_reason(self) -> str:
        last = self.steps[-1]
        if last.is_eos:
            return "The model chose end-of-text: the generation is over."
        if len(self.steps) >= self.max_new_tokens:
            return f"The {self.max_new_tokens} new tokens asked for are generated."
        return f"The context window is full ({self.loaded.info.context_window} tokens): the cache cannot grow."

    def _pass(self, fed: list[int], forward: Callable) -> CacheStep:
        from playground.core.decoding.sampling import SamplingSettings, pick_token
        from playground.core.prompting.tokens import token_label

        rows: list = []
        start = time.perf_counter()
        if self.with_attention:
            logits = self._listened(forward, rows)
        else:
            logits = forward()
        seconds = time.perf_counter() - start
        token, _ = pick_token(SamplingSettings(do_sample=False), logits, None)
        attention = np.stack(rows).astype(np.float32, copy=False) if rows else None
        step = CacheStep(index=len(self.steps), fed_ids=fed, next_id=int(token),
                         next_label=token_label(self.loaded.tokenizer, int(token)),
                         layer_lengths=per_layer_lengths(self.cache), cache_bytes=measured_cache_bytes(self.cache),
                         seconds=seconds, is_eos=int(token) in self._eos, attention=attention)
        if self.steps and self.steps[-1].attention is not None:
            # Older steps keep their numbers; only the newest keeps its (layers, heads, positions) rows.
            from dataclasses import replace

            self.steps[-1] = replace(self.steps[-1], attention=None)
        self.steps.append(step)
        return step

    def _listened(self, forward: Callable, rows: list):
        from playground.core.attention.taps import eager_attention, find_taps, listening, pick_output

        model = self.loaded.model
        if self._taps is None:
            self._taps = [t for t in find_taps(model, False) if t.key == "attentions"]

        def on_output(tap, output, args, kwargs) -> None:
            weights = pick_output(output, tap.index)
            if weights is not None:
                rows.append(weights.detach()[0, :, -1, :].float().cpu().numpy())

        with eager_attention(model), listening(self._taps, on_output):
            return forward()


def describe_step(stepper: KVCacheStepper, step: CacheStep) -> str:
    """What one pass did, in words with its numbers."""
    from playground.core.base.units import format_bytes

    s = stepper.shape
    n = step.layer_lengths[0] if step.layer_lengths else 0
    what = (f"Prefill: the {step.added} prompt tokens in one pass" if step.index == 0
            else f"Decode step {step.index}: one new token fed")
    return (f"{what} ({step.seconds * 1000:.0f} ms); each of the {s.layers} layers now caches {n} positions "
            f"(+{step.added}): {n} × {format_bytes(s.bytes_per_token)} = {format_bytes(n * s.bytes_per_token)} "
            f"computed, {format_bytes(step.cache_bytes)} measured in the cache tensors. Next token: {step.next_label}")


def default_prompt(max_chars: int = 500) -> str:
    """The page's starting prompt: the summary request for a short bundled test dialogue."""
    from playground.core.evaluation.datasets import dialogues_dir, read_jsonl
    from playground.core.prompting.summarize import user_message

    rows = [r for r in read_jsonl(dialogues_dir() / "test.jsonl") if r.get("dialogue")]
    short = [r for r in rows if len(r["dialogue"]) <= max_chars] or sorted(rows, key=lambda r: len(r["dialogue"]))
    return user_message(short[0]["dialogue"])
