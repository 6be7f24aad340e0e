"""The faster shared decode step (issue 35): thread choice, last-position output layer, top-p among
top-k, and greedy tokens that stay those of eager FP32 ``model.generate``."""

import pytest
import torch

from playground.core.decoding import decode_speed
from playground.core.decoding.cached_step import CachedDecoder, takes_logits_to_keep
from playground.core.decoding.decode_speed import decode_threads, intra_op_threads, native_bf16
from playground.core.decoding.generation import GenerationSettings, format_prompt, stream_generate
from playground.core.decoding.sampling import distribution_stages, top_k_mask, top_p_mask


@pytest.fixture
def load(monkeypatch):
    """Set the load average the thread choice reads (this process counted as idle)."""
    monkeypatch.delenv(decode_speed.ENV_THREADS, raising=False)
    monkeypatch.setattr(decode_speed, "_own_load", lambda: 0.0)
    monkeypatch.setattr(decode_speed, "_cores_busy_seconds", lambda: None)  # a system without /proc/stat

    def set_load(value):
        monkeypatch.setattr(decode_speed.os, "getloadavg", lambda: (value, value, value))
    return set_load


def test_threads_follow_the_idle_cores(load):
    with intra_op_threads(4):
        load(0.2)
        assert decode_threads("cpu") == 4
        load(2.0)
        assert decode_threads("cpu") == 2
        load(12.0)
        assert decode_threads("cpu") == 1  # busy machine: one thread, never zero


def test_threads_fixed_by_the_environment_and_kept_off_the_cpu(load, monkeypatch):
    load(12.0)
    with intra_op_threads(2):
        assert decode_threads("cuda:0") == 2  # the caller's setting off the CPU
        monkeypatch.setenv(decode_speed.ENV_THREADS, "3")
        assert decode_threads("cpu") == 3


def test_the_cores_busy_now_count_other_programs_not_this_one(monkeypatch):
    """Where /proc/stat can be read, the choice follows what the cores did in the last tenth of a second
    up to a second, less this process's own work."""
    monkeypatch.delenv(decode_speed.ENV_THREADS, raising=False)
    clock = {"wall": 100.0, "own": 5.0, "busy": 1000.0}
    monkeypatch.setattr(decode_speed.time, "monotonic", lambda: clock["wall"])
    monkeypatch.setattr(decode_speed.time, "process_time", lambda: clock["own"])
    monkeypatch.setattr(decode_speed, "_cores_busy_seconds", lambda: clock["busy"])
    monkeypatch.setattr(decode_speed, "_last_stat", None)
    monkeypatch.setattr(decode_speed, "_last_value", None)
    others = {"cores": 1.0}  # another program's cores; this process keeps half a core busy

    def advance(seconds):
        clock["wall"] += seconds
        clock["own"] += 0.5 * seconds
        clock["busy"] += (others["cores"] + 0.5) * seconds
    monkeypatch.setattr(decode_speed.time, "sleep", advance)

    assert decode_speed.busy_cores() == pytest.approx(1.0)  # a fresh 0.1 s reading
    with intra_op_threads(2):
        others["cores"] = 0.0  # the other job ended
        advance(0.5)  # the next run, half a second later, reads the cores' use since the last reading
        assert decode_threads("cpu") == 2
        others["cores"] = 1.0  # a job started
        advance(0.5)
        assert decode_threads("cpu") == 1
        slept = []
        monkeypatch.setattr(decode_speed.time, "sleep", slept.append)
        for _ in range(100):  # decoders made in a row (a speculative run's samples): no wait, the last figure
            assert decode_threads("cpu") == 1
        assert slept == []


def test_the_threads_are_chosen_at_the_first_step_not_when_the_decoder_is_made(tiny_llama, monkeypatch):
    """The Sampling and KV-cache pages make their decoder on the window's thread; reading the cores
    (a tenth of a second) waits for the first step, which runs in the worker."""
    calls = []
    monkeypatch.setattr("playground.core.decoding.cached_step.decode_threads", lambda device: calls.append(device) or 1)
    decoder = CachedDecoder(tiny_llama, tiny_llama.tokenizer("The quick brown fox")["input_ids"])
    assert calls == []
    decoder.start()
    decoder.feed([5])
    assert calls == ["cpu"] and decoder.threads == 1


def test_thread_count_is_given_back_even_on_error():
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    with pytest.raises(RuntimeError):
        with intra_op_threads(target):
            assert torch.get_num_threads() == target
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before


def test_native_bf16_agrees_with_the_cpu_flags():
    from playground.core.lifecycle.precision import cpu_flags

    flags = cpu_flags()
    if not flags:
        pytest.skip("no /proc/cpuinfo here")
    assert native_bf16() == bool({"avx512_bf16", "amx_bf16"} & flags)


def test_output_layer_runs_on_the_last_position_only(tiny_llama, monkeypatch):
    model = tiny_llama.model
    assert takes_logits_to_keep(model)
    seen = []
    orig = model.forward

    def spy(*a, **k):
        seen.append(k.get("logits_to_keep"))
        return orig(*a, **k)

    monkeypatch.setattr(model, "forward", spy)
    ids = tiny_llama.tokenizer("The quick brown fox")["input_ids"]
    decoder = CachedDecoder(tiny_llama, ids)
    first = decoder.start()
    decoder.feed([5])
    every = decoder.feed([6, 7], every_position=True)
    assert seen == [1, 1, None]  # the checking pass still gets every position's scores
    assert every.shape == (2, model.config.vocab_size)
    with torch.inference_mode():
        full = orig(input_ids=torch.tensor([ids])).logits[0, -1]
    torch.testing.assert_close(first, full, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("threads", ["1", "2"])
def test_greedy_tokens_match_eager_generate_at_any_thread_count(tiny_llama, monkeypatch, threads):
    monkeypatch.setenv(decode_speed.ENV_THREADS, threads)
    prompt = "Once upon a time"
    steps = list(stream_generate(tiny_llama, prompt, GenerationSettings.make(max_new_tokens=20, stop_at_eos=False)))
    ids = tiny_llama.tokenizer(prompt, return_tensors="pt")
    ref = tiny_llama.model.generate(**ids, max_new_tokens=20, do_sample=False, eos_token_id=-1)
    assert [s.token_id for s in steps] == ref[0, ids["input_ids"].shape[1]:].tolist()


@pytest.mark.parametrize("top_k,top_p", [(50, 0.9), (5, 0.5), (200, 0.99), (1, 0.3)])
def test_top_p_among_top_k_equals_the_full_sort(top_k, top_p):
    gen = torch.Generator().manual_seed(top_k)
    logits = torch.randn(4096, generator=gen) * 3
    stages = distribution_stages(logits, temperature=0.8, top_k=top_k, top_p=top_p)
    tempered = logits / 0.8
    k_mask = top_k_mask(tempered, top_k)
    full = top_p_mask(tempered.masked_fill(k_mask, float("-inf")), top_p) & ~k_mask
    assert torch.equal(stages.removed_top_p, full)
    assert torch.equal(stages.removed_top_k, k_mask)


@pytest.mark.bundled
def test_bundled_greedy_is_eager_fp32_generate(bundled_model):
    prompt = format_prompt(bundled_model, "Explain in a few sentences why the sky is blue.", True)
    steps = list(stream_generate(bundled_model, prompt, GenerationSettings.make(max_new_tokens=16, stop_at_eos=False)))
    ids = bundled_model.tokenizer(prompt, return_tensors="pt")
    with torch.inference_mode():
        ref = bundled_model.model.generate(**ids, max_new_tokens=16, do_sample=False, eos_token_id=-1)
    assert bundled_model.info.dtype == "float32"
    assert [s.token_id for s in steps] == ref[0, ids["input_ids"].shape[1]:].tolist()
