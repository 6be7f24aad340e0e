"""The side-by-side view: bars from both models, the per-token KL, the soft targets at T."""

from __future__ import annotations

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.distill.student import make_student
from playground.core.distill.view import next_token_view


@pytest.fixture(scope="module")
def pair(tiny_llama):
    student, _ = make_student(tiny_llama.model, 1)
    return tiny_llama.model.eval(), student.eval(), tiny_llama.tokenizer


def test_view_compares_both_models_on_the_same_tokens(pair):
    teacher, student, tok = pair
    v = next_token_view(teacher, student, tok, "Hello there, how are", temperature=4.0)
    n = len(tok("Hello there, how are").input_ids)
    assert len(v.context_tokens) == n and len(v.kl_per_token) == n
    assert all(k >= 0 for k in v.kl_per_token)
    ids = tok("Hello there, how are", return_tensors="pt").input_ids
    with torch.no_grad():
        p = torch.softmax(teacher(input_ids=ids).logits[0, -1], -1)
    assert v.teacher[0] == pytest.approx(float(p.max()), rel=1e-5)
    assert len(v.student) == len(v.tokens) >= 8
    # a higher T spreads the teacher's probability away from its top token
    assert v.soft_t[0] < v.soft_t1[0] and v.rest_t > v.rest_t1
    assert v.soft_t1 == sorted(v.soft_t1, reverse=True)


def test_view_without_student_and_bad_inputs(pair):
    teacher, _, tok = pair
    v = next_token_view(teacher, None, tok, "Hello", temperature=1.0)
    assert v.student == [] and v.kl_per_token == [] and v.soft_t == pytest.approx(v.soft_t1)
    with pytest.raises(InputError, match="above 0"):
        next_token_view(teacher, None, tok, "Hello", temperature=0)
