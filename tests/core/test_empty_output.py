"""Why a summary came out empty (issue 29, newcomer finding: the Fine-tune Result page showed "(empty)"
without saying why). Tiny models whose head is biased towards one token produce each case for real."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest
import torch

from playground.core.decoding.generation import GenerationSettings, generate_text
from playground.core.finetune.empty_output import explain_empty, why_empty_in_words

PROMPT = "Summarize: #Person1#: Lunch at noon?\n#Person2#: Sure."


def biased(tiny_llama, token: str):
    """The tiny Llama with its next-token scores pushed to ``token`` (a bias on the output layer)."""
    model = copy.deepcopy(tiny_llama.model)
    tid = tiny_llama.tokenizer.convert_tokens_to_ids(token)
    head = torch.nn.Linear(model.lm_head.in_features, model.lm_head.out_features, bias=True)
    with torch.no_grad():
        head.weight.copy_(model.lm_head.weight)
        head.bias.zero_()
        head.bias[tid] = 1e4
    model.lm_head = head
    return replace(tiny_llama, model=model)


@pytest.mark.parametrize("token, words", [
    ("<|im_end|>", "ended at once"),              # end-of-text first
    ("<|im_start|>", "only special tokens"),     # a special token that is not end-of-text, to the limit
    ("Ċ", "only spaces and line breaks"),          # a newline, again and again, to the limit
])
def test_each_reason_for_an_empty_summary(tiny_llama, token, words):
    loaded = biased(tiny_llama, token)
    settings = GenerationSettings.make(max_new_tokens=6)
    assert generate_text(loaded, PROMPT, settings).strip() == ""  # the output really is empty
    why = explain_empty(loaded, PROMPT, settings)
    assert words in why
    if words != "ended at once":
        assert "limit of 6 new tokens" in why
    if token.startswith("<|"):
        assert token in why  # the token is named


def test_a_summary_with_text_needs_no_reason(tiny_llama):
    settings = GenerationSettings.make(max_new_tokens=6, stop_at_eos=False)
    assert generate_text(tiny_llama, PROMPT, settings).strip()
    assert explain_empty(tiny_llama, PROMPT, settings) == ""


def test_why_in_words_without_the_model():
    said = why_empty_in_words(64)
    assert "ended at once" in said and "special tokens" in said and "64" in said
