import threading

import numpy as np
import pytest
import torch

from playground.core.attention import (
    attention_rollout,
    extract_attention,
    lens_for,
    logit_lens,
    mean_over_heads,
    pool_matrix,
)
from playground.core.attention.taps import eager_attention, find_taps, listening
from playground.core.base.errors import Cancelled, InputError, PlaygroundError
from playground.core.base.handle import TaskHandle

TEXT = "The animal didn't cross the street because it was too tired."


def _ids(result):
    return torch.tensor([[p.id for p in result.tokens]])


def _reference(model, **inputs):
    """The model's own output_attentions=True output, eager, outside our code."""
    previous = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            return model(**inputs, output_attentions=True, use_cache=False)
    finally:
        model.set_attn_implementation(previous)


def _hooks(model) -> int:
    """Forward hooks on the model (transformers adds its own once output_attentions is used)."""
    return sum(len(m._forward_hooks) for m in model.modules())


def test_every_attention_row_sums_to_one(tiny_llama, tiny_t5):
    for loaded in (tiny_llama, tiny_t5):
        result = extract_attention(loaded, TEXT, target="Das Tier" if loaded.is_encoder_decoder else None)
        assert result.maps
        for amap in result.maps.values():
            assert amap.weights.dtype == np.float32
            np.testing.assert_allclose(amap.weights.sum(-1), 1.0, atol=1e-5)


def test_llama_weights_equal_the_models_own_output_attentions(tiny_llama):
    hooks = _hooks(tiny_llama.model)
    result = extract_attention(tiny_llama, TEXT)
    assert _hooks(tiny_llama.model) == hooks  # nothing of ours stays hooked to the shared model
    ref = _reference(tiny_llama.model, input_ids=_ids(result))
    amap = result.maps["self"]
    assert amap.weights.shape == (2, 4, len(result.tokens), len(result.tokens))
    assert amap.query_labels == [p.label for p in result.tokens]
    for layer, expected in enumerate(ref.attentions):
        torch.testing.assert_close(torch.from_numpy(amap.weights[layer]), expected[0], rtol=0, atol=1e-7)
    # Eager was switched on for the extraction only.
    assert tiny_llama.model.config._attn_implementation == "sdpa"


def test_t5_encoder_decoder_and_cross_attention_separately(tiny_t5):
    target = "Das Tier ging nicht über die Straße"
    result = extract_attention(tiny_t5, TEXT, target=target)
    src, tgt = len(result.tokens), len(result.target_ids)
    assert src != tgt
    assert set(result.maps) == {"encoder", "decoder", "cross"}
    assert result.maps["encoder"].weights.shape == (2, 4, src, src)
    assert result.maps["decoder"].weights.shape == (2, 4, tgt, tgt)
    # Cross-attention: per layer (heads, target, source).
    assert result.maps["cross"].layer(0).shape == (4, tgt, src)
    assert result.target_ids[0] == tiny_t5.model.config.decoder_start_token_id
    ref = _reference(tiny_t5.model, input_ids=_ids(result), decoder_input_ids=torch.tensor([result.target_ids]))
    for name, expected in (("encoder", ref.encoder_attentions), ("decoder", ref.decoder_attentions),
                           ("cross", ref.cross_attentions)):
        for layer in range(2):
            torch.testing.assert_close(torch.from_numpy(result.maps[name].weights[layer]), expected[layer][0],
                                       rtol=0, atol=1e-7)
    assert tiny_t5.model.config._attn_implementation == "sdpa"


def test_t5_without_target_uses_the_models_own_greedy_output(tiny_t5):
    result = extract_attention(tiny_t5, TEXT, max_target_tokens=5)
    with torch.no_grad():
        generated = tiny_t5.model.generate(_ids(result), max_new_tokens=5, do_sample=False)[0].tolist()
    eos = tiny_t5.tokenizer.eos_token_id
    expected = generated
    while expected and expected[-1] == eos:
        expected = expected[:-1]
    assert result.target_ids == expected
    assert result.maps["cross"].layer(1).shape == (4, len(expected), len(result.tokens))


def test_logit_lens_last_layer_is_the_models_next_token_prediction(tiny_llama):
    result = extract_attention(tiny_llama, TEXT)
    lens = lens_for(tiny_llama, result)
    assert lens.num_rows == 3 and lens.layer_labels == ["embeddings", "layer 0", "layer 1"]
    with torch.no_grad():
        probs = tiny_llama.model(_ids(result)).logits[0].float().softmax(-1)
    top_p, top_i = probs.topk(5)
    np.testing.assert_array_equal(lens.top_ids[-1], top_i.numpy())
    np.testing.assert_allclose(lens.top_probs[-1], top_p.numpy(), rtol=1e-4, atol=1e-6)
    # The earlier layers read differently: the lens is not the last row repeated.
    assert not np.array_equal(lens.top_ids[0], lens.top_ids[-1])
    assert lens.next_labels[:-1] == lens.input_labels[1:] and lens.next_labels[-1] is None
    # The stand-alone function agrees with the one reading kept hidden states.
    again = logit_lens(tiny_llama, TEXT, positions=[3, 4, 5])
    np.testing.assert_array_equal(again.top_ids, lens.top_ids[:, 3:6])


def test_layer_outputs_that_do_not_fit_beside_the_maps_are_read_again_for_the_lens(tiny_llama):
    # Tiny Llama: maps take 2 × 4 × T² × 4 bytes, layer outputs 3 × T × 32 × 4. Find a text whose
    # maps fit under 1 MiB but not together with the layer outputs.
    limit = 2**20

    def fits_only_the_maps(text):
        t = len(tiny_llama.tokenizer(text)["input_ids"])
        return 32 * t * t <= limit < 32 * t * t + 384 * t

    text = next(t for t in ("word " * n for n in range(150, 200)) if fits_only_the_maps(t))
    lean = extract_attention(tiny_llama, text, limit_bytes=limit)
    assert lean.plan.hidden_skipped and not lean.hidden_states and not lean.plan.downsampled
    assert "logit lens runs the model again" in lean.plan.describe()
    full = extract_attention(tiny_llama, text)
    assert not full.plan.hidden_skipped and full.plan.hidden_bytes == 3 * len(full.tokens) * 32 * 4
    window = list(range(len(full.tokens) - 8, len(full.tokens)))
    read_again, kept = lens_for(tiny_llama, lean, positions=window), lens_for(tiny_llama, full, positions=window)
    assert read_again.positions == kept.positions == window
    np.testing.assert_array_equal(read_again.top_ids, kept.top_ids)
    np.testing.assert_allclose(read_again.top_probs, kept.top_probs, rtol=1e-4, atol=1e-6)
    assert read_again.input_labels == kept.input_labels and read_again.next_labels == kept.next_labels


def test_t5_lens_read_again_uses_the_same_decoder_text(tiny_t5):
    result = extract_attention(tiny_t5, TEXT, target="Das Tier")
    kept = lens_for(tiny_t5, result, positions=[1, 2])
    result.hidden_states.clear()
    again = lens_for(tiny_t5, result, positions=[1, 2])
    np.testing.assert_array_equal(again.top_ids, kept.top_ids)
    assert again.input_labels == kept.input_labels == result.target_labels[1:3]


def test_logit_lens_reads_the_t5_decoder(tiny_t5):
    result = extract_attention(tiny_t5, TEXT, target="Das Tier")
    lens = lens_for(tiny_t5, result)
    with torch.no_grad():
        logits = tiny_t5.model(input_ids=_ids(result), decoder_input_ids=torch.tensor([result.target_ids])).logits
    top_p, top_i = logits[0].float().softmax(-1).topk(5)
    np.testing.assert_array_equal(lens.top_ids[-1], top_i.numpy())
    np.testing.assert_allclose(lens.top_probs[-1], top_p.numpy(), rtol=1e-4, atol=1e-7)


def test_mean_over_heads_and_rollout(tiny_llama):
    result = extract_attention(tiny_llama, TEXT)
    w = result.maps["self"].weights
    mean = mean_over_heads(w[1])
    np.testing.assert_allclose(mean, w[1].mean(0), rtol=1e-6)
    np.testing.assert_allclose(result.matrix("self", 1, "mean"), mean, rtol=1e-6)
    roll = attention_rollout(w)
    assert roll.shape == (2, w.shape[2], w.shape[2])
    np.testing.assert_allclose(roll.sum(-1), 1.0, atol=1e-5)
    eye = np.eye(w.shape[2])
    first = 0.5 * w[0].mean(0) + 0.5 * eye
    second = 0.5 * w[1].mean(0) + 0.5 * eye
    np.testing.assert_allclose(roll[1], second @ first, atol=1e-5)
    # A decoder token cannot draw on later tokens, even through several layers.
    assert np.allclose(np.triu(roll[1], k=1), 0)
    with pytest.raises(ValueError):
        attention_rollout(w[0])


def test_rollout_is_refused_for_cross_attention(tiny_t5):
    result = extract_attention(tiny_t5, TEXT, target="Das Tier")
    with pytest.raises(InputError, match="cross-attention"):
        result.matrix("cross", 0, "rollout")


def test_downsampled_view_keeps_rows_summing_to_one_and_equals_pooled_full_map(tiny_llama):
    text = "one two three four five six seven eight nine ten " * 6
    full = extract_attention(tiny_llama, text)
    t = len(full.tokens)
    limit = full.plan.estimate_bytes // 5
    small = extract_attention(tiny_llama, text, limit_bytes=limit, over_limit="downsample")
    plan = small.plan
    assert plan.downsampled and plan.planned_bytes <= limit < plan.estimate_bytes
    amap = small.maps["self"]
    assert amap.downsampled and amap.weights.nbytes <= limit
    groups = -(-t // plan.factor)
    assert amap.weights.shape == (2, 4, groups, groups)
    np.testing.assert_allclose(amap.weights.sum(-1), 1.0, atol=1e-5)
    f = plan.factor
    block = full.maps["self"].weights[1, 2, 0:f, f:2 * f].sum(1).mean()
    np.testing.assert_allclose(amap.weights[1, 2, 0, 1], block, rtol=1e-5)
    assert amap.query_spans[0] == (0, f) and amap.query_labels[0].count("…") == 1
    # The display pooling behaves the same way.
    np.testing.assert_allclose(pool_matrix(full.maps["self"].weights[1, 2], 10).sum(-1), 1.0, atol=1e-5)


def test_attention_that_would_not_fit_is_refused_with_numbers(tiny_llama):
    text = "word " * 100
    with pytest.raises(InputError) as err:
        extract_attention(tiny_llama, text, limit_bytes=10_000)
    assert "2 layers × 4 heads × 101×101 tokens × 4 bytes" in err.value.message
    assert "downsampled" in err.value.hint
    assert tiny_llama.model.config._attn_implementation == "sdpa"


def test_bad_inputs(tiny_llama):
    with pytest.raises(InputError, match="empty"):
        extract_attention(tiny_llama, "  ")
    with pytest.raises(InputError, match="context window is 256 tokens"):
        extract_attention(tiny_llama, "word " * 300)
    with pytest.raises(InputError, match="refuse"):
        extract_attention(tiny_llama, TEXT, over_limit="explode")


def test_model_without_attention_outputs_is_explained(tiny_mamba):
    with pytest.raises(PlaygroundError, match="gives out no attention weights"):
        extract_attention(tiny_mamba, TEXT)


def test_stop_between_layers_restores_the_model(tiny_llama):
    handle = TaskHandle()
    calls = []

    def report(fraction, message):
        calls.append(fraction)
        if fraction and fraction > 0:
            handle.cancel()  # the user pressed Stop after the first layer

    handle._on_progress = report
    hooks = _hooks(tiny_llama.model)
    with pytest.raises(Cancelled):
        extract_attention(tiny_llama, TEXT, handle=handle)
    assert len([c for c in calls if c]) == 1  # stopped right after the first layer
    assert tiny_llama.model.config._attn_implementation == "sdpa"
    assert _hooks(tiny_llama.model) == hooks


def test_hooks_ignore_other_threads_using_the_shared_model(tiny_llama):
    taps = [t for t in find_taps(tiny_llama.model, False) if t.key == "attentions"]
    heard = []
    ids = torch.tensor([[1, 2, 3, 4]])
    with eager_attention(tiny_llama.model), listening(taps, lambda *a: heard.append(threading.get_ident())):
        other = threading.Thread(target=lambda: tiny_llama.model(ids))
        other.start()
        other.join()
        assert heard == []
        with torch.no_grad():
            tiny_llama.model(ids)
    assert heard == [threading.get_ident()] * 2


@pytest.mark.bundled
def test_bundled_model_extraction_and_lens(bundled_model):
    result = extract_attention(bundled_model, TEXT)
    amap = result.maps["self"]
    assert amap.weights.shape[:2] == (30, 9)
    ref = _reference(bundled_model.model, input_ids=_ids(result))
    for layer in (0, 14, 29):
        torch.testing.assert_close(torch.from_numpy(amap.weights[layer]), ref.attentions[layer][0], rtol=0, atol=1e-6)
    lens = lens_for(bundled_model, result)
    with torch.no_grad():
        logits = bundled_model.model(_ids(result)).logits[0]
    np.testing.assert_array_equal(lens.top_ids[-1, :, 0], logits.argmax(-1).numpy())
    # A trained model is unsure early and surer late about the token that really follows.
    hits_last = sum(lens.top_tokens[-1][c][0] == nxt for c, nxt in enumerate(lens.next_labels) if nxt)
    hits_first = sum(lens.top_tokens[1][c][0] == nxt for c, nxt in enumerate(lens.next_labels) if nxt)
    assert hits_last > hits_first
