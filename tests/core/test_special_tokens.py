"""Special tokens typed into a prompt: found, said, and (on request) read as plain text (issue 29, item 21)."""

from __future__ import annotations

import pytest

from playground.core.prompting.special_tokens import (
    as_plain_text,
    encode,
    readable,
    special_tokens_in,
    special_tokens_note,
)

TYPED = "Hi <|im_end|><|im_start|> there <|im_end|>"


def test_finds_each_special_token_once_in_order(bundled_tokenizer):
    assert special_tokens_in(bundled_tokenizer, TYPED) == ["<|im_end|>", "<|im_start|>"]
    assert special_tokens_in(bundled_tokenizer, "Hi <im_end> and |im_start| are ordinary text") == []
    # The tokenizer agrees: typed as they are, they become control tokens.
    ids = bundled_tokenizer(TYPED)["input_ids"]
    assert bundled_tokenizer.convert_tokens_to_ids("<|im_end|>") in ids


def test_plain_text_has_no_special_token_and_decodes_back(bundled_tokenizer):
    tok = bundled_tokenizer
    plain = as_plain_text(tok, TYPED)
    assert readable(plain) == TYPED
    ids = encode(tok, plain, add_special_tokens=True)
    specials = {tok.convert_tokens_to_ids(t) for t in ("<|im_end|>", "<|im_start|>", "<|endoftext|>")}
    assert not specials & set(ids)
    assert tok.decode(ids) == TYPED
    # Unmarked text is tokenized exactly as before.
    assert encode(tok, TYPED, add_special_tokens=True) == tok(TYPED)["input_ids"]


def test_chat_prompt_matches_transformers_sanitized_template(tiny_llama):
    """The oracle: transformers' own apply_chat_template(sanitize_control_tokens=True) keeps the template's
    control tokens and reads the user's as text. format_prompt + prompt_token_ids give the same ids."""
    from playground.core.decoding.generation import format_prompt, prompt_token_ids

    tok = tiny_llama.tokenizer
    expected = tok.apply_chat_template([{"role": "user", "content": TYPED}], add_generation_prompt=True,
                                       sanitize_control_tokens=True, return_dict=False)
    prompt = format_prompt(tiny_llama, TYPED, use_chat_template=True, plain_special_tokens=True)
    assert prompt_token_ids(tok, prompt) == expected
    # Without the option the typed tokens stay control tokens (more of them than the template wrote).
    normal = prompt_token_ids(tok, format_prompt(tiny_llama, TYPED, use_chat_template=True))
    end = tok.convert_tokens_to_ids("<|im_end|>")
    assert normal.count(end) == expected.count(end) + 2


def test_generation_reads_plain_prompt(tiny_llama):
    from playground.core.decoding.generation import GenerationSettings, count_tokens, format_prompt, stream_generate
    from playground.core.decoding.stepper import TokenStepper

    tok = tiny_llama.tokenizer
    prompt = format_prompt(tiny_llama, TYPED, use_chat_template=False, plain_special_tokens=True)
    plain_ids = encode(tok, prompt, add_special_tokens=True)
    assert count_tokens(tiny_llama, prompt) == len(plain_ids)
    assert TokenStepper(tiny_llama, prompt).prompt_ids == plain_ids
    steps = list(stream_generate(tiny_llama, prompt, GenerationSettings.make(max_new_tokens=3, stop_at_eos=False)))
    assert len(steps) == 3


def test_tokenizer_that_adds_its_own_tokens(tiny_bert_dir):
    """A tokenizer whose post-processor adds [CLS] … [SEP] still gets them around the plain text."""
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(tiny_bert_dir))
    text = "hello [SEP] world"
    assert special_tokens_in(tok, text) == ["[SEP]"]
    ids = encode(tok, as_plain_text(tok, text), add_special_tokens=True)
    assert ids == tok(text, split_special_tokens=True)["input_ids"]
    assert ids.count(tok.sep_token_id) == 1  # only the one the tokenizer adds at the end


def test_note_names_the_tokens_and_what_happens():
    note = special_tokens_note(["<|im_end|>", "<|im_start|>"], plain=False)
    assert "<|im_end|>" in note and "<|im_start|>" in note and "control" in note
    assert "plain text" in special_tokens_note(["<|im_end|>"], plain=True)
    assert special_tokens_note([], plain=False) == ""


def test_markers_are_transformers_own():
    from transformers.utils import chat_template_utils

    from playground.core.prompting import special_tokens

    assert special_tokens.MARK_START == chat_template_utils._CONTROL_TOKEN_START
    assert special_tokens.MARK_END == chat_template_utils._CONTROL_TOKEN_END


@pytest.mark.parametrize("text", ["", "no special tokens here"])
def test_nothing_to_mark(bundled_tokenizer, text):
    assert as_plain_text(bundled_tokenizer, text) == text


def test_fallback_without_sanitize_gives_the_same_ids(tiny_llama, monkeypatch):
    """A transformers without sanitize_control_tokens: the escaped pieces with split_special_tokens=True."""
    from playground.core.decoding.generation import format_prompt, prompt_token_ids
    from playground.core.prompting import special_tokens

    prompt = format_prompt(tiny_llama, TYPED, use_chat_template=True, plain_special_tokens=True)
    expected = prompt_token_ids(tiny_llama.tokenizer, prompt)
    monkeypatch.setattr(special_tokens, "_has_sanitize", lambda tok: False)
    assert prompt_token_ids(tiny_llama.tokenizer, prompt) == expected
