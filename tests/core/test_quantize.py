"""Weight-only INT8 / INT4 / INT2 on torch's prebuilt kernels (issue 29, item 7).

The oracle is written here, not read from the module: quantize the float weight by the formula the
tab states (INT8: one symmetric scale per row; INT4 / INT2: min and scale per group of columns),
dequantize, and multiply.
"""

import pytest
import torch

from playground.core.lifecycle import precision as P
from playground.core.lifecycle import quantize as Q


def _oracle_weight(weight: torch.Tensor, bits: int, group: int) -> torch.Tensor:
    w = weight.detach().float()
    if bits == 8:
        scale = w.abs().amax(1, keepdim=True) / 127
        return torch.round(w / scale).clamp(-127, 127) * scale
    out_f, in_f = w.shape
    g = w.reshape(out_f, in_f // group, group)
    lo, hi = g.amin(-1, keepdim=True), g.amax(-1, keepdim=True)
    scale = (hi - lo) / (2 ** bits - 1)
    return (torch.round((g - lo) / scale).clamp(0, 2 ** bits - 1) * scale + lo).reshape(out_f, in_f)


@pytest.mark.parametrize("bits, kernel", [(8, "int8pack"), (4, "int4pack_cpu"), (2, "reference")])
@pytest.mark.parametrize("in_f, out_f", [(64, 48), (576, 96), (256, 32)])
def test_a_quantized_linear_equals_dequantize_then_matmul(bits, kernel, in_f, out_f):
    torch.manual_seed(in_f + bits)
    linear = torch.nn.Linear(in_f, out_f)
    layer = Q.quantize_linear(linear, bits)
    assert layer.kernel == kernel  # the prebuilt torch kernel on this CPU, the reference only for INT2
    group = in_f if bits == 8 else next(g for g in (128, 64, 32) if in_f % g == 0)
    assert layer.group == group
    want_w = _oracle_weight(linear.weight, bits, group)
    x = torch.randn(3, 5, in_f)
    with torch.no_grad():
        got = layer(x)
        want = x @ want_w.t() + linear.bias
        full = linear(x)
    # torch's kernels take BF16 inputs on the CPU (their fast path): the input's rounding, no more
    assert layer.compute_dtype == (None if bits == 2 else torch.bfloat16) and got.dtype == torch.float32
    tol = 1e-5 if bits == 2 else 1e-2
    assert float((got - want).abs().max()) <= tol * float(want.abs().max())
    # and the rounding itself is bounded: half a step per weight, so the output stays near FP32
    err = (got - full).abs().max() / full.abs().max()
    assert float(err) < {8: 0.02, 4: 0.12, 2: 0.6}[bits]
    reference = Q.quantize_linear(linear, bits, use_kernels=False)  # dequantize, then multiply in FP32
    assert reference.kernel == "reference" and reference.compute_dtype is None
    with torch.no_grad():
        assert torch.allclose(reference(x), want, rtol=1e-4, atol=1e-5 * float(want.abs().max()))


def test_codes_pack_and_unpack_and_an_odd_width_falls_back_to_the_reference():
    codes = torch.randint(0, 4, (5, 16), dtype=torch.uint8)
    assert Q.pack_codes(codes, 2).shape == (5, 4) and torch.equal(Q.unpack_codes(Q.pack_codes(codes, 2), 2), codes)
    layer = Q.quantize_linear(torch.nn.Linear(100, 8), 4)  # 100 columns: no group the int4 kernel takes
    assert layer.kernel == "reference" and layer.group == 100 and layer.codes.shape == (8, 50)
    layer = Q.quantize_linear(torch.nn.Linear(64, 40), 4)  # 40 rows: the int4 packing wants multiples of 16
    assert layer.kernel == "reference" and layer.group == 64
    x = torch.randn(2, 64)
    with torch.no_grad():
        assert torch.allclose(layer(x), x @ layer.dequantized_weight().t() + layer.bias)


@pytest.fixture(scope="module")
def tiny(tiny_llama_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir), dtype=torch.float32).eval()


def test_a_quantized_tiny_llama_stays_close_to_fp32(tiny):
    ids = torch.randint(0, tiny.config.vocab_size, (1, 12), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        ref = torch.log_softmax(tiny(input_ids=ids).logits, -1)
        kls = {}
        for name in ("int8", "int4", "int2"):
            converted = P.convert(tiny, name)
            kinds = {m.kernel for n, m in converted.named_modules() if isinstance(m, Q.WeightOnlyLinear)
                     and n != "lm_head"}
            assert kinds == ({"reference"} if name == "int2" else {"int8pack" if name == "int8" else "int4pack_cpu"})
            assert converted.lm_head.bits == 8 and converted.lm_head.kernel == "int8pack"  # the head's own INT8 copy
            assert converted.model.embed_tokens.weight.dtype == torch.float32  # the embedding stays FP32
            out = torch.log_softmax(converted(input_ids=ids).logits, -1)
            kls[name] = float((ref.exp() * (ref - out)).sum(-1).mean())
    assert kls["int8"] < 1e-3 and kls["int8"] < kls["int4"] < kls["int2"]


def test_no_int_format_compiles_anything(tiny, monkeypatch, tmp_path):
    """Where the compile path would fail (no compiler, cpp_extension refusing), every INT format still runs."""
    import torch.utils.cpp_extension as cpp

    def refuse(*args, **kwargs):
        raise AssertionError("a C++ extension was compiled or loaded")

    for name in ("load", "load_inline", "_jit_compile"):
        monkeypatch.setattr(cpp, name, refuse)
    monkeypatch.setenv("CXX", "/bin/false")
    monkeypatch.setenv("CC", "/bin/false")
    monkeypatch.setenv("PATH", str(tmp_path))  # no compiler, no ninja on the path
    P.probe_format.cache_clear()
    try:
        for name in ("int8", "int4", "int2"):
            assert P.probe_format(name, "cpu") == ""
            with torch.no_grad():
                logits = P.convert(tiny, name)(input_ids=torch.tensor([[1, 2, 3]])).logits
            assert torch.isfinite(logits).all()
    finally:
        P.probe_format.cache_clear()
