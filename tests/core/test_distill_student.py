"""Making a student from a teacher, and the refusals: larger than the teacher, other tokenizer."""

from __future__ import annotations

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.distill.student import check_pair, kept_layers, make_student, parameter_count


@pytest.fixture(scope="module")
def four_layer(bundled_tokenizer):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(bundled_tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=4,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128,
                      tie_word_embeddings=True)
    return LlamaForCausalLM(cfg).eval()


def test_kept_layers_every_other_or_spread():
    assert kept_layers(30) == list(range(0, 30, 2))
    assert kept_layers(30, 3) == [0, 14, 29] or kept_layers(30, 3) == [0, 15, 29]
    assert kept_layers(4, 2) == [0, 3]


def test_student_copies_the_kept_layers(four_layer):
    student, kept = make_student(four_layer)
    assert kept == [0, 2] and student.config.num_hidden_layers == 2
    assert parameter_count(student) < parameter_count(four_layer)
    assert torch.equal(student.model.layers[1].mlp.up_proj.weight, four_layer.model.layers[2].mlp.up_proj.weight)
    assert torch.equal(student.lm_head.weight, four_layer.lm_head.weight)
    copied, original = student.model.layers[1].mlp.up_proj.weight, four_layer.model.layers[2].mlp.up_proj.weight
    assert copied.data_ptr() != original.data_ptr()  # a copy: training the student leaves the teacher alone
    # the student runs with a KV cache (its layers are renumbered)
    out = student.generate(torch.tensor([[1, 2, 3]]), max_new_tokens=3, do_sample=False)
    assert out.shape[1] == 6


def test_student_larger_than_teacher_refused(four_layer, bundled_tokenizer):
    with pytest.raises(InputError, match="larger than its teacher"):
        make_student(four_layer, 5)
    with pytest.raises(InputError, match="not smaller than its teacher"):
        check_pair(four_layer, bundled_tokenizer, four_layer, bundled_tokenizer)


def test_different_tokenizers_refused(four_layer, bundled_tokenizer, tmp_path):
    from transformers import PreTrainedTokenizerFast
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel({"[UNK]": 0, "hello": 1, "world": 2}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    other = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]")
    student, _ = make_student(four_layer)
    with pytest.raises(InputError, match="different tokenizers"):
        check_pair(four_layer, bundled_tokenizer, student, other)
    check_pair(four_layer, bundled_tokenizer, student, bundled_tokenizer)  # the same: accepted
