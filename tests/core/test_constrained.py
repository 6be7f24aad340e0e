"""Structured output (issue 31 §2): the grammar mask against xgrammar's own transformers logits processor,
constrained JSON that always parses and validates on a tiny model, and schemas refused in plain words."""

from __future__ import annotations

import json

import jsonschema
import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.reasoning.constrained import (
    ANSWER_SCHEMA,
    TokenMask,
    check_schema,
    compile_json_schema,
    decode_structured,
    parse_structured,
    structured_prompt,
)

QUESTIONS = ["Tom has 3 apples and buys 4 more. How many apples?", "What is 13 times 7?",
             "A train goes 60 km in one hour. How far in 3 hours?"]


def test_mask_removes_exactly_what_xgrammar_forbids(tiny_llama):
    """Step by step on random scores, our mask's forbidden set equals the library's HF logits processor's."""
    from xgrammar.contrib.hf import LogitsProcessor

    grammar = compile_json_schema(tiny_llama)
    mine, library = TokenMask(grammar), LogitsProcessor(grammar)
    gen = torch.Generator().manual_seed(0)
    ids = [1, 2, 3]
    for step in range(25):
        scores = torch.randn(1, 49152, generator=gen) * 4
        theirs = library(torch.tensor([ids]), scores.clone())[0]
        ours = mine.apply(scores[0])
        assert torch.equal(torch.isfinite(ours), torch.isfinite(theirs)), f"step {step}"
        assert torch.equal(ours[torch.isfinite(ours)], scores[0][torch.isfinite(ours)])  # kept scores untouched
        token = int(torch.argmax(ours))
        assert mine.accept(token)
        ids.append(token)
        if mine.done:
            break
    assert 0 < int(torch.isfinite(ours).sum()) < 49152


def test_constrained_output_always_parses_and_validates(tiny_llama):
    for q in QUESTIONS:
        r = decode_structured(tiny_llama, structured_prompt(tiny_llama, q), constrained=True, max_new_tokens=120)
        assert r.stopped == "grammar complete", r.text
        value = json.loads(r.text)
        jsonschema.validate(value, ANSWER_SCHEMA)  # the oracle: the reference validator
        assert r.parsed and r.value == value
        # the removed share at every step is what the mask took from the model's probabilities
        assert all(0.0 <= s.removed_share <= 1.0 for s in r.steps)
        assert any(s.removed_share > 0.5 for s in r.steps)
        assert all(abs(sum(s.after) - 1) < 1e-3 or len(s.top_ids) == 12 for s in r.steps)


def test_constrained_decode_equals_transformers_generate_with_xgrammar(tiny_llama):
    """The same greedy tokens as transformers' generate with xgrammar's own logits processor."""
    from xgrammar.contrib.hf import LogitsProcessor

    prompt = structured_prompt(tiny_llama, QUESTIONS[0])
    ours = decode_structured(tiny_llama, prompt, constrained=True, max_new_tokens=40)
    ids = tiny_llama.tokenizer(prompt, return_tensors="pt", add_special_tokens=False).input_ids
    out = tiny_llama.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=40, do_sample=False,
                                    logits_processor=[LogitsProcessor(compile_json_schema(tiny_llama))])
    theirs = tiny_llama.tokenizer.decode(out[0, ids.shape[1]:], skip_special_tokens=True)
    assert ours.text == theirs


def test_free_output_of_a_random_model_does_not_parse(tiny_llama):
    r = decode_structured(tiny_llama, structured_prompt(tiny_llama, QUESTIONS[1]), constrained=False, max_new_tokens=30)
    assert not r.parsed and r.error
    assert all(s.removed_share == 0.0 and s.before == s.after for s in r.steps)


@pytest.mark.parametrize("schema, words", [
    ('{"type": "nonsense"}', "not a valid JSON Schema"),
    ("{'type': 'object'}", "not JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('{"properties": 5}', "not a valid JSON Schema"),
    ("   ", "empty"),
])
def test_a_schema_that_is_not_json_schema_is_refused_plainly(schema, words):
    with pytest.raises(InputError) as info:
        check_schema(schema)
    assert words in info.value.message


def test_an_empty_question_is_refused(tiny_llama):
    with pytest.raises(InputError):
        structured_prompt(tiny_llama, "  ")


def test_parse_structured_reads_json_inside_text_and_checks_the_schema():
    value, err = parse_structured('Sure! {"answer": 7, "reason": "3 + 4"} Hope it helps.')
    assert value == {"answer": 7, "reason": "3 + 4"} and err is None
    assert parse_structured('{"answer": "seven", "reason": "x"}')[1].startswith("JSON, but not the schema")
    assert parse_structured("The answer is 7.")[1] == "no JSON object in the text"
    assert parse_structured('{"answer": 7, "reason": "x"')[1] == "no JSON object in the text"
