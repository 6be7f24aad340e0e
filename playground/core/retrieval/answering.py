"""Answers through the app's one generation path (``core.decoding.generation.stream_generate``), and
where an answer came from: leave-one-out, the drop in the answer's log-probability when one retrieved
chunk is left out of the prompt (one forward pass per chunk). Attention is not attribution; this is."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from playground.core.base.errors import Cancelled, InputError
from playground.core.base.progress import report_step
from playground.core.decoding.settings import GenerationSettings


def answer_settings(max_new_tokens: int = 40) -> GenerationSettings:
    """Greedy decoding so an answer repeats exactly (the Prompt and Evaluate tabs' reason too)."""
    return GenerationSettings.make(max_new_tokens=max_new_tokens, do_sample=False, top_n=0)


def stream_answer(loaded, prompt, settings: GenerationSettings | None = None, cancelled=None) -> Iterator:
    """The answer token by token (``TokenStep``), from a ``RagPrompt`` or a prompt text."""
    from playground.core.decoding.generation import stream_generate

    text = getattr(prompt, "text", prompt)
    return stream_generate(loaded, text, settings or answer_settings(), cancelled)


def generate_answer(loaded, prompt, settings: GenerationSettings | None = None, cancelled=None) -> str:
    """The whole answer, trimmed."""
    return "".join(step.text for step in stream_answer(loaded, prompt, settings, cancelled)).strip()


@dataclass(frozen=True)
class ChunkEffect:
    """How much the answer's log-probability (sum over its tokens, nats) drops when ``chunk_id`` is left out.

    ``drop > 0``: the chunk made the answer more likely (the answer leans on it).
    """

    chunk_id: str
    logprob_with: float
    logprob_without: float

    @property
    def drop(self) -> float:
        return self.logprob_with - self.logprob_without


def answer_logprob(loaded, prompt_text: str, answer: str) -> float:
    """log P(answer tokens | prompt): one forward pass over prompt + answer."""
    import torch

    from playground.core.decoding.generation import prompt_token_ids

    tok = loaded.tokenizer
    p_ids = prompt_token_ids(tok, prompt_text)
    a_ids = tok(answer, add_special_tokens=False)["input_ids"]
    if not a_ids:
        raise InputError("The answer is empty, so there is nothing to attribute.", "Generate an answer first.")
    device = next(loaded.model.parameters()).device
    ids = torch.tensor([p_ids + a_ids], device=device)
    with torch.inference_mode():
        logits = loaded.model(input_ids=ids, use_cache=False).logits[0].float()
    logp = logits[len(p_ids) - 1:-1].log_softmax(-1)
    return float(logp.gather(1, torch.tensor(a_ids, device=device)[:, None]).sum())


def leave_one_out(loaded, question: str, hits: Sequence, answer: str, handle=None,
                  use_chat_template: bool | None = None) -> list[ChunkEffect]:
    """Per retrieved chunk, log P(answer | prompt with all chunks) and with that chunk left out.

    One forward pass with every chunk, then one per chunk (``report_step(handle, "Leaving one chunk out", …)``).
    """
    from playground.core.retrieval.prompt import build_prompt

    if loaded.is_encoder_decoder:
        raise InputError("Leave-one-out is measured on decoder-only models here.", "Load a causal model such as the bundled one.")
    hits = list(hits)
    if not hits:
        raise InputError("No chunk was retrieved, so no chunk can be left out.", "Ask with retrieval on (k of 1 or more).")
    full = build_prompt(question, hits, loaded, use_chat_template)
    with_all = answer_logprob(loaded, full.text, answer)
    out = []
    for i, hit in enumerate(hits):
        if handle is not None and handle.cancelled():
            raise Cancelled()
        report_step(handle, "Leaving one chunk out", i, len(hits))
        rest = hits[:i] + hits[i + 1:]
        prompt = build_prompt(question, rest, loaded, use_chat_template)
        out.append(ChunkEffect(getattr(hit, "chunk", hit).id, with_all, answer_logprob(loaded, prompt.text, answer)))
    report_step(handle, "Leaving one chunk out", len(hits), len(hits))
    return out
