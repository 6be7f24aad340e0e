import numpy as np
import pytest
import torch

from playground.core.attention import (
    attention_bytes,
    attention_shapes,
    compare_embeddings,
    cosine_similarity,
    parse_words,
    pca_2d,
    plan_memory,
)
from playground.core.base.errors import InputError


def test_similarity_is_the_cosine_of_the_models_input_embeddings(tiny_llama):
    result = compare_embeddings(tiny_llama, ["king", "queen", "cat"])
    table = tiny_llama.model.get_input_embeddings().weight.detach()
    ids = [tiny_llama.tokenizer(" " + w, add_special_tokens=False)["input_ids"] for w in ("king", "queen", "cat")]
    assert all(len(i) == 1 for i in ids)
    a, b = table[ids[0][0]], table[ids[1][0]]
    expected = float(torch.nn.functional.cosine_similarity(a, b, dim=0))
    assert result.similarity[0, 1] == pytest.approx(expected, abs=1e-5)
    np.testing.assert_allclose(np.diag(result.similarity), 1.0, atol=1e-5)
    np.testing.assert_allclose(result.similarity, result.similarity.T, atol=1e-6)
    assert result.pieces == [["␣king"], ["␣queen"], ["␣cat"]]
    assert result.coords.shape == (3, 2)


def test_leading_space_changes_the_token_looked_up(tiny_llama):
    with_space = compare_embeddings(tiny_llama, ["cat", "dog"], leading_space=True)
    without = compare_embeddings(tiny_llama, ["cat", "dog"], leading_space=False)
    assert with_space.pieces[0] == ["␣cat"] and without.pieces[0] == ["cat"]
    assert not np.allclose(with_space.vectors, without.vectors)


def test_a_word_of_several_tokens_gets_their_mean(tiny_llama):
    word = "antidisestablishmentarian"
    result = compare_embeddings(tiny_llama, [word, "cat"])
    ids = tiny_llama.tokenizer(" " + word, add_special_tokens=False)["input_ids"]
    assert len(result.pieces[0]) == len(ids) > 1
    table = tiny_llama.model.get_input_embeddings().weight.detach()
    np.testing.assert_allclose(result.vectors[0], table[ids].mean(0).numpy(), rtol=1e-5)


def test_pca_keeps_distances_of_points_on_a_plane():
    rng = np.random.default_rng(0)
    plane = rng.normal(size=(8, 2))
    basis = np.linalg.qr(rng.normal(size=(16, 2)))[0]  # two orthonormal directions in 16-D
    coords, explained = pca_2d(plane @ basis.T + 5.0)
    d_in = np.linalg.norm(plane[:, None] - plane[None], axis=-1)
    d_out = np.linalg.norm(coords[:, None] - coords[None], axis=-1)
    np.testing.assert_allclose(d_out, d_in, atol=1e-5)
    assert sum(explained) == pytest.approx(1.0, abs=1e-6)
    assert cosine_similarity(np.array([[1.0, 0], [0, 2.0], [-3.0, 0]]))[0].tolist() == pytest.approx([1, 0, -1])


def test_word_lists_and_bad_inputs(tiny_llama):
    assert parse_words(" king, queen\ncat ; king,, ") == ["king", "queen", "cat"]
    with pytest.raises(InputError, match="at least two"):
        compare_embeddings(tiny_llama, ["king"])
    with pytest.raises(InputError, match="too many"):
        compare_embeddings(tiny_llama, [f"w{i}" for i in range(100)])


def test_memory_estimate_is_layers_heads_tokens_squared_times_four():
    class Info:
        num_layers, num_heads = 30, 9

    class Cfg:
        is_encoder_decoder = False

    shapes = attention_shapes(Cfg(), Info(), 512)
    assert shapes == {"self": (30, 9, 512, 512)}
    assert attention_bytes(shapes) == 30 * 9 * 512 * 512 * 4
    plan = plan_memory(shapes, limit_bytes=attention_bytes(shapes))
    assert plan.factor == 1 and not plan.downsampled
    plan = plan_memory(shapes, limit_bytes=100 * 2**20, over_limit="downsample")
    assert plan.factor == 2 and plan.planned_bytes == 30 * 9 * 256 * 256 * 4
    with pytest.raises(InputError, match=r"would take 270 MiB .*limit of 100 MiB"):  # format_bytes
        plan_memory(shapes, limit_bytes=100 * 2**20)


def test_encoder_decoder_estimate_counts_all_three_maps(tiny_t5):
    shapes = attention_shapes(tiny_t5.model.config, tiny_t5.info, 10, 4)
    assert shapes == {"encoder": (2, 4, 10, 10), "decoder": (2, 4, 4, 4), "cross": (2, 4, 4, 10)}
    assert attention_bytes(shapes) == 2 * 4 * (100 + 16 + 40) * 4
