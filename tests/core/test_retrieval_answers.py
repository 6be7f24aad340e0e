"""Answers and where they came from, on the tiny Llama: the answer goes through the app's one generation
path; leave-one-out's log-probabilities equal a direct computation, one forward pass per chunk."""

from __future__ import annotations

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.retrieval import (
    Chunk,
    Hit,
    answer_logprob,
    build_prompt,
    generate_answer,
    leave_one_out,
    stream_answer,
)

CHUNKS = [Chunk("ferry#0", "ferry", 0, "The ferry Corran Bell sails from Hallowick.", 0, 43, 9),
          Chunk("bus#0", "bus", 0, "The Loop bus calls at thirteen stops.", 0, 37, 8),
          Chunk("pie#0", "pie", 0, "Kestra pie is made with smoked mackerel.", 0, 40, 8)]
HITS = [Hit(c, 1.0 - i / 10, i + 1, "dense") for i, c in enumerate(CHUNKS)]
QUESTION = "Which ferry sails from Hallowick?"


def direct_logprob(loaded, prompt_text, answer):
    """log P(answer | prompt) by hand: logits of the joined sequence, log-softmax, the answer's tokens."""
    from playground.core.decoding.generation import prompt_token_ids

    p = prompt_token_ids(loaded.tokenizer, prompt_text)
    a = loaded.tokenizer(answer, add_special_tokens=False)["input_ids"]
    with torch.no_grad():
        logits = loaded.model(input_ids=torch.tensor([p + a])).logits[0]
    return sum(float(logits[len(p) - 1 + i].log_softmax(-1)[t]) for i, t in enumerate(a))


def test_the_answer_streams_through_the_shared_generation_path(tiny_llama):
    from playground.core.decoding.generation import generate_text
    from playground.core.retrieval import answer_settings

    prompt = build_prompt(QUESTION, HITS[:2], tiny_llama)
    steps = list(stream_answer(tiny_llama, prompt, answer_settings(6)))
    assert 1 <= len(steps) <= 6 and all(hasattr(s, "token_id") for s in steps)
    assert generate_answer(tiny_llama, prompt, answer_settings(6)) == \
        generate_text(tiny_llama, prompt.text, answer_settings(6)).strip()
    assert prompt.context_window == tiny_llama.info.context_window


def test_leave_one_out_equals_direct_log_probabilities_one_pass_per_chunk(tiny_llama):
    answer = "Corran Bell"
    calls = []
    hook = tiny_llama.model.register_forward_hook(lambda *a: calls.append(1))
    try:
        effects = leave_one_out(tiny_llama, QUESTION, HITS, answer)
    finally:
        hook.remove()
    assert len(calls) == len(HITS) + 1  # all chunks once, then one pass per chunk left out
    full = build_prompt(QUESTION, HITS, tiny_llama).text
    assert [e.chunk_id for e in effects] == ["ferry#0", "bus#0", "pie#0"]
    for i, e in enumerate(effects):
        assert e.logprob_with == pytest.approx(direct_logprob(tiny_llama, full, answer), abs=1e-4)
        rest = build_prompt(QUESTION, HITS[:i] + HITS[i + 1:], tiny_llama).text
        assert e.logprob_without == pytest.approx(direct_logprob(tiny_llama, rest, answer), abs=1e-4)
        assert e.drop == pytest.approx(e.logprob_with - e.logprob_without)
    assert answer_logprob(tiny_llama, full, answer) == pytest.approx(effects[0].logprob_with)


def test_leave_one_out_needs_chunks_and_an_answer(tiny_llama):
    with pytest.raises(InputError, match="No chunk was retrieved"):
        leave_one_out(tiny_llama, QUESTION, [], "Corran Bell")
    with pytest.raises(InputError, match="answer is empty"):
        leave_one_out(tiny_llama, QUESTION, HITS[:1], "")
