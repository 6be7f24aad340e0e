"""The KV cache lesson's core: bytes per token from the config equal the measured cache tensors, the
stepped generation equals transformers' greedy generate, the bundled config arithmetic, bad input."""

from __future__ import annotations

import json

import pytest
import torch

from playground.core.base.errors import InputError, PlaygroundError
from playground.core.lifecycle import kv_cache as K
from playground.core.lifecycle.kv_stepper import KVCacheStepper, describe_step
from playground.core.lifecycle.kv_timing import TimingPoint, parse_lengths, time_per_token, timing_table

PROMPT = "#Person1#: Are you coming to the meeting?\n#Person2#: Yes, at ten."


def _generate(loaded, ids, n):
    t = torch.tensor([ids])
    with torch.inference_mode():
        out = loaded.model.generate(input_ids=t, attention_mask=torch.ones_like(t), max_new_tokens=n,
                                    do_sample=False, temperature=None, top_k=None, top_p=None)
    return out[0, t.shape[1]:].tolist()


def test_bytes_per_token_equals_measured_cache_tensors(tiny_llama):
    """The tiny Llama: 2 layers, 4 query heads, 2 KV heads, head size 8, float32."""
    shape = K.shape_of_loaded(tiny_llama)
    assert (shape.layers, shape.heads, shape.kv_heads, shape.head_dim, shape.bytes_per_value) == (2, 4, 2, 8, 4)
    assert shape.bytes_per_token == 2 * 2 * 2 * 8 * 4 == 256
    stepper = KVCacheStepper(tiny_llama, PROMPT, max_new_tokens=5)
    steps = list(stepper.run())
    n_prompt = len(stepper.prompt_ids)
    for i, step in enumerate(steps):
        positions = n_prompt + i
        assert step.layer_lengths == [positions] * 2
        assert step.added == (n_prompt if i == 0 else 1)
        # The cache's own tensors, summed independently of the stepper's bookkeeping.
        cache = stepper.cache if i == len(steps) - 1 else None
        assert step.cache_bytes == positions * shape.bytes_per_token
    measured = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
    assert measured == stepper.cache.get_seq_length() * shape.bytes_per_token
    assert stepper.cache.layers[0].keys.shape == (1, 2, n_prompt + len(steps) - 1, 8)


def test_bytes_per_token_follows_the_dtype(tiny_llama_dir):
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    loaded = load_model(ModelSource("local", str(tiny_llama_dir)), device="cpu", dtype="bfloat16")
    stepper = KVCacheStepper(loaded, PROMPT, max_new_tokens=2, attention=False)
    step = stepper.prefill()
    assert stepper.shape.bytes_per_value == 2 and stepper.shape.dtype == "bfloat16"
    assert step.cache_bytes == len(stepper.prompt_ids) * 128 == len(stepper.prompt_ids) * stepper.shape.bytes_per_token


@pytest.mark.parametrize("attention", [False, True])
def test_stepped_tokens_equal_generate_greedy(tiny_llama, attention):
    """Oracle: transformers' own greedy generate on the same model and prompt (attention on: eager)."""
    stepper = KVCacheStepper(tiny_llama, PROMPT, max_new_tokens=12, attention=attention)
    steps = list(stepper.run())
    want = _generate(tiny_llama, stepper.prompt_ids, len(steps))
    assert stepper.generated_ids == want
    assert tiny_llama.model.config._attn_implementation == "sdpa"  # switched back after each pass


def test_attention_row_reads_every_cached_position(tiny_llama):
    stepper = KVCacheStepper(tiny_llama, PROMPT, max_new_tokens=3)
    first = stepper.prefill()
    second = stepper.step()
    n = len(stepper.prompt_ids)
    assert first.attention is not None and stepper.steps[0].attention is None  # only the newest keeps its rows
    assert second.attention.shape == (2, 4, n + 1)  # layers, query heads, cached positions
    np = pytest.importorskip("numpy")
    assert np.allclose(second.attention.sum(axis=-1), 1.0, atol=1e-4)
    # Oracle: the same rows from a plain eager forward over the whole sequence (output_attentions).
    from playground.core.attention.taps import eager_attention

    ids = torch.tensor([stepper.cached_ids])
    with torch.inference_mode(), eager_attention(tiny_llama.model):
        out = tiny_llama.model(input_ids=ids, output_attentions=True, use_cache=False)
    want = np.stack([a[0, :, -1, :].numpy() for a in out.attentions])
    assert np.allclose(second.attention, want, atol=1e-5)
    assert second.mean_attention().shape == (2, n + 1)
    assert "Decode step 1" in describe_step(stepper, second)


def test_bundled_config_arithmetic():
    """Published values: SmolLM2-1.7B full MHA, Llama-3.1-8B 128 KiB/token, 70B 320 KiB/token in BF16."""
    shapes = {s.name: s for s in K.bundled_shapes()}
    assert set(shapes) == {"SmolLM2-1.7B", "Llama-3.1-8B", "Llama-3.1-70B"}
    assert shapes["SmolLM2-1.7B"].bytes_per_token == 2 * 24 * 32 * 64 * 2 == 196_608
    assert not shapes["SmolLM2-1.7B"].is_gqa
    assert shapes["Llama-3.1-8B"].bytes_per_token == 128 * 1024
    assert shapes["Llama-3.1-8B"].mha_bytes_per_token == 4 * 128 * 1024
    assert shapes["Llama-3.1-70B"].bytes_per_token == 320 * 1024 and shapes["Llama-3.1-70B"].group == 8
    assert shapes["Llama-3.1-70B"].bytes_at(131_072) == 40 * 2**30
    curves = K.memory_curves(list(shapes.values()))
    assert sum(c.dashed for c in curves) == 2  # the two GQA models' full-MHA counterparts
    assert all(c.tokens[-1] == shapes[c.label.split(" ")[0]].context_window for c in curves)
    assert "40.0 GiB" in K.memory_table(list(shapes.values()))


def test_bundled_model_config_is_gqa(bundled_dir):
    """The bundled SmolLM2-135M's own config: 30 layers, 9 query heads, 3 KV heads, head size 64."""
    cfg = json.loads((bundled_dir / "config.json").read_text())
    shape = K.shape_from_config(cfg, "SmolLM2-135M", "float32")
    assert (shape.layers, shape.heads, shape.kv_heads, shape.head_dim) == (30, 9, 3, 64)
    assert shape.bytes_per_token == 46_080 and shape.mha_bytes_per_token == 3 * 46_080
    assert "9 query heads share 3 KV heads" in shape.arithmetic() and "46,080 bytes" in shape.arithmetic()


def test_timing_measures_both_ways(tiny_llama):
    points = list(time_per_token(tiny_llama, [8, 32], repeats=1))
    assert [p.length for p in points] == [8, 32]
    assert all(isinstance(p, TimingPoint) and p.with_cache_s > 0 and p.without_cache_s > 0 for p in points)
    assert "with cache" in timing_table(points)


@pytest.mark.bad_input("KV cache: a context longer than the model's window")
def test_context_longer_than_window_is_refused(tiny_llama, bad_input):
    with pytest.raises(InputError) as err:
        list(time_per_token(tiny_llama, [64, 1000], repeats=2))
    assert "context window of 256" in err.value.message
    bad_input(err.value)
    long_prompt = "word " * 400
    with pytest.raises(InputError) as err:
        KVCacheStepper(tiny_llama, long_prompt)
    assert "context window is 256" in err.value.message
    bad_input(err.value)


@pytest.mark.bad_input("KV cache: stepping past the end, odd lengths, a model without attention")
def test_other_bad_input(tiny_llama, tiny_mamba, bad_input):
    stepper = KVCacheStepper(tiny_llama, PROMPT, max_new_tokens=1)
    stepper.prefill()
    with pytest.raises(InputError) as err:
        stepper.step()
    bad_input(err.value)
    for text in ("abc", "0", ""):
        with pytest.raises(InputError):
            parse_lengths(text)
    with pytest.raises(InputError) as err:
        K.shape_from_config(tiny_mamba.model.config, "mamba")
    bad_input(err.value)
    with pytest.raises(PlaygroundError):
        KVCacheStepper(tiny_mamba, PROMPT)


def test_notebook_reproduces_the_cache_bytes_and_the_tokens(tiny_llama, tiny_llama_dir, tmp_path):
    """The exported cells, run as a script in a subprocess with plain transformers, measure the same bytes per
    token and the same greedy tokens as the stepper."""
    from playground.core.labs.notebook import build_notebook
    from playground.core.lifecycle.kv_notebook import kv_cache_experiment
    from tests.core.test_notebook import run_script

    stepper = KVCacheStepper(tiny_llama, PROMPT, max_new_tokens=6, attention=False)
    list(stepper.run())
    exp = kv_cache_experiment(stepper, [TimingPoint(8, 0.001, 0.002, 2)])
    assert exp["lengths"] == [8]
    nb = build_notebook({"kind": "local", "ref": str(tiny_llama_dir), "name": "tiny"}, [exp])
    got = run_script(nb, tmp_path)["kv_cache"]
    assert got["bytes_per_token"] == 256 == stepper.shape.bytes_per_token
    assert got["measured_bytes"] == got["positions"] * 256
    assert got["same_tokens"] is True
    assert [t["length"] for t in got["timing"]] == [8]


def test_kv_events_tick_lab5_steps():
    from playground.core.labs import LabState, load_labs, run_check

    labs, problems = load_labs()
    assert not [p for p in problems if "05-smaller" in p]
    lab = {lab.id: lab for lab in labs}["smaller"]
    assert "kv_cache" in lab.notebook
    checks = [s.check for s in lab.steps]
    assert checks.index("kv_cache_stepped") < checks.index("kv_cache_timed")
    s = LabState()
    s.record("kv.stepped", {"kind": "prefill", "step": 0, "positions": 40})
    for i in range(2):
        s.record("kv.stepped", {"kind": "decode", "step": i + 1, "positions": 41 + i})
    assert not run_check("kv_cache_stepped", s).passed  # three decode steps are asked for
    s.record("kv.stepped", {"kind": "decode", "step": 3, "positions": 43})
    assert run_check("kv_cache_stepped", s).passed
    s.record("kv.timed", {"lengths": [64], "with_ms": [1.0], "without_ms": [3.0]})
    assert not run_check("kv_cache_timed", s).passed
    s.record("kv.timed", {"lengths": [64, 256], "with_ms": [1.0, 1.1], "without_ms": [3.0, 9.0]})
    assert run_check("kv_cache_timed", s).passed
