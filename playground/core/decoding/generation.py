"""Streaming text generation with a KV cache, a seed, Stop between tokens and the top-N per step."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from playground.core.base.errors import InputError, PlaygroundError
from playground.core.decoding.settings import GenerationSettings  # noqa: F401  (declared there, used here)
from playground.core.models.loading import ENCODER_ONLY, LoadedModel
from playground.core.prompting.special_tokens import as_plain_text, encode
from playground.core.prompting.tokens import (
    token_label,  # one readable form of a token, shared by every tab
)


@dataclass
class TokenStep:
    """One generated token and the distribution it was drawn from."""

    index: int
    token_id: int
    text: str              # the new text this token adds (may be '' while a character is incomplete)
    prob: float            # the model's probability of this token (plain softmax)
    top_ids: list[int] = field(default_factory=list)
    top_probs: list[float] = field(default_factory=list)
    top_tokens: list[str] = field(default_factory=list)
    elapsed: float = 0.0   # seconds since generation started
    is_eos: bool = False


def count_tokens(loaded: LoadedModel, text: str) -> int:
    return len(encode(loaded.tokenizer, text, add_special_tokens=True))


def format_prompt(loaded: LoadedModel, text: str, use_chat_template: bool, plain_special_tokens: bool = False) -> str:
    """Wrap a user message in the model's chat template when asked and one exists.

    ``plain_special_tokens`` escapes the special tokens the user typed (``as_plain_text``): the model
    reads them as ordinary text, while the template's own stay control tokens.
    """
    if not text or not text.strip():
        raise InputError("The prompt is empty.", "Type some text first.")
    tok = loaded.tokenizer
    if plain_special_tokens:
        text = as_plain_text(tok, text)
    if use_chat_template and getattr(tok, "chat_template", None) and not loaded.is_encoder_decoder:
        return tok.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                       add_generation_prompt=True)
    return text


def check_prompt(loaded: LoadedModel, prompt: str, max_new_tokens: int = 0) -> list[int]:
    """Token ids of a prompt, refusing empty or too-long prompts with a plain message."""
    if loaded.info.kind == ENCODER_ONLY:
        raise PlaygroundError(f"{loaded.info.name} is an encoder-only model: it reads text but does not generate it.",
                              "Load a decoder-only or encoder-decoder model to generate.")
    if not prompt or not prompt.strip():
        raise InputError("The prompt is empty.", "Type some text first.")
    ids = prompt_token_ids(loaded.tokenizer, prompt)
    limit = loaded.info.context_window
    need = len(ids) + (0 if loaded.is_encoder_decoder else max_new_tokens)
    if len(ids) > limit or need > limit:
        extra = "" if loaded.is_encoder_decoder else f" plus {max_new_tokens} new tokens"
        raise InputError(
            f"The prompt is {len(ids)} tokens{extra}, but this model's context window is {limit} tokens.",
            "Shorten the prompt or lower 'max new tokens'.",
        )
    return ids


def prompt_token_ids(tokenizer, prompt: str) -> list[int]:
    """The token ids a prompt is generated from (fine-tuning tokenizes its prompts the same way).

    The tokenizer adds its special tokens unless the prompt already starts with BOS (a chat
    template wrote it). Special tokens escaped by ``format_prompt(..., plain_special_tokens=True)``
    are read as ordinary text.
    """
    bos = tokenizer.bos_token
    return encode(tokenizer, prompt, add_special_tokens=not (bool(bos) and prompt.startswith(bos)))


class _Detokenizer:
    """Turns a growing list of token ids into text pieces without breaking multi-byte characters."""

    def __init__(self, tokenizer) -> None:
        self.tok = tokenizer
        self.ids: list[int] = []
        self.emitted = ""

    def push(self, token_id: int) -> str:
        self.ids.append(token_id)
        text = self.tok.decode(self.ids, skip_special_tokens=True)
        if text.endswith("\ufffd"):
            return ""  # wait for the rest of the character
        if text.startswith(self.emitted):
            piece = text[len(self.emitted):]
        else:
            piece = text[len(self.emitted):] if len(text) > len(self.emitted) else ""
        self.emitted = text
        return piece


def stream_generate(loaded: LoadedModel, prompt: str, settings: GenerationSettings,
                    cancelled: Callable[[], bool] | None = None) -> Iterator[TokenStep]:
    """Generate token by token, yielding each with the top-N of its distribution.

    Each step is the shared KV-cached decode step (only the new token is fed), each token is
    picked by the Sampling tab's rules (``pick_token``) with a seeded generator, and
    ``cancelled`` is checked between tokens.
    """
    import torch

    from playground.core.decoding.cached_step import CachedDecoder
    from playground.core.decoding.decode_speed import intra_op_threads
    from playground.core.decoding.sampling import pick_token

    settings.validate()
    ids = check_prompt(loaded, prompt, settings.max_new_tokens)
    tok = loaded.tokenizer
    gen = torch.Generator(device="cpu")  # seed None: the generator's fixed default seed, as before
    if settings.seed is not None:
        gen.manual_seed(int(settings.seed))
    eos_ids = _eos_ids(loaded.model, tok) if settings.stop_at_eos else set()
    detok = _Detokenizer(tok)
    top_n = max(0, int(settings.top_n))
    start = time.perf_counter()
    decoder = CachedDecoder(loaded, ids)
    for i in range(settings.max_new_tokens):
        if cancelled is not None and cancelled():
            return
        # The token's choice runs with the decode step's threads too: a softmax over 49k scores is
        # split over threads, and on busy cores that costs more than the pass (issue 35).
        with intra_op_threads(decoder.threads):
            logits = decoder.start() if i == 0 else decoder.feed([token])
            token, stages = pick_token(settings.sampling, logits, gen)
            probs = stages.base
            if top_n:
                tp, ti = torch.topk(probs, min(top_n, probs.shape[-1]))
                top_ids, top_probs = ti.tolist(), tp.tolist()
            else:
                top_ids, top_probs = [], []
            prob = float(probs[token])
        is_eos = token in eos_ids
        piece = "" if is_eos else detok.push(token)
        yield TokenStep(
            index=i, token_id=token, text=piece, prob=prob,
            top_ids=top_ids, top_probs=top_probs,
            top_tokens=[token_label(tok, t) for t in top_ids],
            elapsed=time.perf_counter() - start, is_eos=is_eos,
        )
        if is_eos:
            return


def _eos_ids(model, tok) -> set[int]:
    out: set[int] = set()
    for src in (getattr(model, "generation_config", None), model.config):
        eos = getattr(src, "eos_token_id", None) if src is not None else None
        if isinstance(eos, int):
            out.add(eos)
        elif isinstance(eos, (list, tuple)):
            out.update(int(e) for e in eos)
    if tok.eos_token_id is not None:
        out.add(int(tok.eos_token_id))
    return out


def generate_text(loaded: LoadedModel, prompt: str, settings: GenerationSettings | None = None,
                  cancelled: Callable[[], bool] | None = None) -> str:
    """The whole completion as one string."""
    settings = settings or GenerationSettings()
    return "".join(step.text for step in stream_generate(loaded, prompt, settings, cancelled))

