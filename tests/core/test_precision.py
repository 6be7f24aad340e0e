import math

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.lifecycle import precision as P


@pytest.fixture(scope="module")
def tiny(tiny_llama_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32).eval()
    return model, AutoTokenizer.from_pretrained(str(tiny_llama_dir))


TEXTS = ["Amanda baked cookies and will bring Jerry some tomorrow.",
         "The meeting moved to Friday because the room was taken.",
         "Tom lost his keys."]


def _direct_bytes(model, name):
    """Count bytes from the architecture: linear weights at their bit width plus per-row scales."""
    lin = [m for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and n != "lm_head"]
    others = sum(p.numel() for n, p in model.named_parameters() if not any(p is m.weight for m in lin))
    if name in ("fp32", "bf16", "fp16"):
        size = 4 if name == "fp32" else 2
        return size * sum(p.numel() for p in model.parameters())
    bits = P.FORMATS[name].bits
    total = others * 4
    for m in lin:
        out_f, in_f = m.weight.shape
        if bits == 8:
            total += out_f * in_f + out_f * 4  # int8 codes + one fp32 scale per row
        else:
            group = next((g for g in (128, 64, 32) if in_f % g == 0), in_f)
            groups = out_f * in_f // group
            total += out_f * in_f * bits // 8 + groups * 4 * 2  # packed codes + scale and shift per group
    vocab, hidden = model.lm_head.weight.shape
    return total + vocab * hidden + vocab * 4  # the LM head's own INT8 copy (the embedding stays FP32)


@pytest.mark.parametrize("name", ["fp32", "bf16", "fp16", "int8", "int4", "int2"])
def test_weight_bytes_equal_a_direct_count(tiny, name):
    model, _ = tiny
    converted = P.convert(model, name)
    assert P.weight_bytes(converted) == _direct_bytes(model, name)
    embedding = converted.model.embed_tokens.weight
    if P.FORMATS[name].kind == "int":  # the input embedding stays FP32; the LM head gets its own INT8 copy
        from playground.core.lifecycle.quantize import WeightOnlyLinear

        assert embedding.dtype == torch.float32 and torch.equal(embedding, model.model.embed_tokens.weight)
        assert isinstance(converted.lm_head, WeightOnlyLinear) and converted.lm_head.bits == 8
    else:  # a dtype copy keeps the two tied
        assert converted.lm_head.weight is embedding


def test_fp32_perplexity_equals_transformers_loss(tiny):
    model, tok = tiny
    pairs = P.text_logits(model, tok, TEXTS, "cpu")
    nll, count = 0.0, 0
    with torch.no_grad():
        for text in TEXTS:
            ids = tok(text, return_tensors="pt").input_ids
            loss = model(input_ids=ids, labels=ids).loss.item()  # mean over the ids.shape[1]-1 targets
            nll += loss * (ids.shape[1] - 1)
            count += ids.shape[1] - 1
    assert P.perplexity_from_logits(pairs) == pytest.approx(math.exp(nll / count), rel=1e-5)


def test_kl_of_fp32_against_itself_is_zero_and_int2_is_not(tiny):
    model, tok = tiny
    a = P.text_logits(model, tok, TEXTS, "cpu")
    b = P.text_logits(P.convert(model, "fp32"), tok, TEXTS, "cpu")
    kl, top1 = P.kl_and_agreement(a, b)
    assert kl == pytest.approx(0.0, abs=1e-9) and top1 == 1.0
    kl2, _ = P.kl_and_agreement(a, P.text_logits(P.convert(model, "int2"), tok, TEXTS, "cpu"))
    assert kl2 > 1e-4


def test_sweep_yields_rows_and_stop_keeps_finished_ones(tiny):
    from playground.core.base.handle import TaskHandle

    model, tok = tiny
    handle = TaskHandle()
    rows = []
    with pytest.raises(Exception) as info:
        for row in P.precision_sweep(model, tok, "cpu", ["fp32", "bf16", "int8"], texts=TEXTS,
                                     new_tokens=5, handle=handle):
            rows.append(row)
            handle.cancel()
    assert type(info.value).__name__ == "Cancelled"
    assert [r.name for r in rows] == ["fp32"]
    assert rows[0].diverges_at == -1 and len(rows[0].completion) == 5 and rows[0].kl == 0.0
    full = list(P.precision_sweep(model, tok, "cpu", ["bf16", "int8"], texts=TEXTS, new_tokens=5))
    assert [r.name for r in full] == ["bf16", "int8"]
    assert full[1].weight_bytes == _direct_bytes(model, "int8")  # what the INT8 copy really holds
    assert "INT8" in P.format_table(full)
    from playground.core.base.units import format_bytes  # the one unit system (MiB), as every screen

    assert all(format_bytes(r.weight_bytes) in P.format_table(full) for r in full) and " MB" not in P.format_table(full)


def test_unknown_format_is_refused_in_plain_words():
    with pytest.raises(InputError, match="Unknown number format: fp8"):
        P.parse_formats("fp32,fp8")
    assert P.first_divergence([1, 2, 3], [1, 5, 3]) == 1
    assert P.first_divergence([1, 2], [1, 2]) == -1


def test_the_formats_run_on_this_cpu_and_int8_measured_bytes(tiny):
    model, _ = tiny
    for name in ("bf16", "fp16", "int8", "int4"):
        assert P.probe_format(name, "cpu") == "" and P.check_format(name, "cpu") == ""
    assert P.measured_weight_bytes(model, "int8") == _direct_bytes(model, "int8")
    params = sum(p.numel() for p in model.parameters())
    assert P.measured_weight_bytes(model, "int8") > params  # the FP32 embedding and the row scales


@pytest.mark.parametrize("name, says, alternative", [("fp16", "cannot run FP16 arithmetic", "use BF16"),
                                                    ("int4", "cannot run INT4 kernels", "use INT8")])
def test_a_format_the_device_cannot_run_is_said_with_the_alternative(tiny, monkeypatch, name, says, alternative):
    model, tok = tiny
    real = P.probe_format
    monkeypatch.setattr(P, "probe_format", lambda n, d: "no kernel for this dtype" if n == name else real(n, d))
    why = P.check_format(name, "cpu")
    assert says in why and alternative in why and "no kernel for this dtype" in why
    rows = list(P.precision_sweep(model, tok, "cpu", ["fp32", name], texts=TEXTS[:1], new_tokens=3))
    assert rows[0].skipped == "" and rows[1].skipped == why
    assert f"skipped: {why}" in P.format_table(rows)


def test_slow_half_precision_on_this_cpu_is_noted(monkeypatch):
    monkeypatch.setattr(P, "cpu_flags", lambda: {"avx2", "f16c"})
    assert "no FP16 arithmetic" in P.speed_note("fp16", "cpu") and "BF16" in P.speed_note("bf16", "cpu")
    monkeypatch.setattr(P, "cpu_flags", lambda: {"avx512_fp16", "avx512_bf16"})
    assert P.speed_note("fp16", "cpu") == "" == P.speed_note("bf16", "cpu") == P.speed_note("fp16", "cuda")
