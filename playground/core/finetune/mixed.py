"""Which precision a training run's forward and backward passes use, decided in one place.

"auto" is BF16 mixed precision wherever the hardware multiplies BF16 natively: GPUs that support
it, and CPUs with AVX-512 BF16 or AMX (the weights, gradients and AdamW states stay FP32; only the
matrix products of the forward and backward passes run in BF16 under ``torch.autocast``). A CPU
without those instructions would emulate BF16 through conversions (slower than FP32), so "auto"
stays FP32 there; an explicit "bf16" on such a CPU still runs, slowly.

The precision is named as the Lifecycle tab's Precision section names it ("BF16"), on the run's
report and result header: BF16 rounds the forward pass, so the loss differs slightly from FP32's
(bench/finetune_throughput.py prints the validation loss of both).
"""

from __future__ import annotations

import functools

#: CPU flags (Linux /proc/cpuinfo) of native BF16 matrix arithmetic.
NATIVE_BF16_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})
#: How results name each training precision (the Lifecycle Precision section's labels).
PRECISION_LABELS = {"no": "FP32", "bf16": "BF16 mixed precision (FP32 weights)",
                    "fp16": "FP16 mixed precision (FP32 weights)"}


@functools.lru_cache(maxsize=None)
def cpu_has_native_bf16() -> bool:
    """True when this CPU multiplies BF16 natively and a BF16 matrix product runs here."""
    from playground.core.lifecycle.precision import cpu_flags, probe_format

    return bool(cpu_flags() & NATIVE_BF16_FLAGS) and probe_format("bf16", "cpu") == ""


def resolve_precision(precision: str, device: str) -> str:
    """The precision a run really uses: "auto" resolved for ``device`` ("cpu", "cuda", "cuda:0"...);
    an explicit "no", "bf16" or "fp16" is returned as it is (the caller refuses fp16 on the CPU)."""
    if precision != "auto":
        return precision
    base = device.split(":")[0]
    if base == "cuda":
        import torch

        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    if base == "cpu":
        return "bf16" if cpu_has_native_bf16() else "no"
    return "no"


def precision_label(precision: str) -> str:
    """How a result names a run's training precision ("no" is FP32)."""
    return PRECISION_LABELS.get(precision, precision)


def autocast_dtype(precision: str):
    """The torch dtype of the forward pass under ``precision`` (None: FP32, no autocast)."""
    import torch

    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)


def training_autocast(device: str, precision: str):
    """A context in which the forward pass runs at ``precision`` (a no-op for FP32)."""
    import torch

    dtype = autocast_dtype(precision)
    return torch.autocast(device.split(":")[0], dtype=dtype or torch.bfloat16, enabled=dtype is not None)
