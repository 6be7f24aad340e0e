"""Choosing where a model runs (CUDA, Apple MPS, CPU) and in which number format."""

from __future__ import annotations

from playground.core.base.errors import PlaygroundError

DTYPE_NAMES = ("auto", "float32", "float16", "bfloat16")


def available_devices() -> list[str]:
    """Devices present on this machine, best first."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    found.append("cpu")
    return found


def pick_device(requested: str | None = "auto") -> str:
    """Resolve 'auto' to the best device; refuse a device that is not there, in plain words."""
    requested = (requested or "auto").lower()
    have = available_devices()
    if requested == "auto":
        return have[0]
    base = requested.split(":")[0]
    if base not in ("cuda", "mps", "cpu"):
        raise PlaygroundError(f"Unknown device '{requested}'.", "Use auto, cuda, mps or cpu.")
    if base not in have:
        names = {"cuda": "NVIDIA GPU (CUDA)", "mps": "Apple GPU (MPS)"}
        raise PlaygroundError(
            f"This computer has no {names.get(base, base)} that PyTorch can use.",
            f"Choose 'auto' or 'cpu'. Devices found: {', '.join(have)}. For CUDA, install a "
            "CUDA build of PyTorch (see the README).",
        )
    return requested


def supported_dtypes(device: str) -> list[str]:
    """Number formats worth offering on a device."""
    import torch

    base = device.split(":")[0]
    if base == "cuda":
        out = ["float32", "float16"]
        if torch.cuda.is_bf16_supported():
            out.append("bfloat16")
        return out
    if base == "mps":
        return ["float32", "float16"]
    return ["float32", "bfloat16"]


def resolve_dtype(name: str | None, device: str):
    """Turn a dtype name into a torch dtype valid on the device ('auto' = a sensible default)."""
    import torch

    name = (name or "auto").lower()
    if name == "auto":
        base = device.split(":")[0]
        if base == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    table = {"float32": torch.float32, "fp32": torch.float32, "float16": torch.float16,
             "fp16": torch.float16, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16}
    if name not in table:
        raise PlaygroundError(f"Unknown number format '{name}'.", "Use auto, float32, float16 or bfloat16.")
    canonical = {torch.float32: "float32", torch.float16: "float16", torch.bfloat16: "bfloat16"}
    if canonical[table[name]] not in supported_dtypes(device):
        raise PlaygroundError(
            f"{canonical[table[name]]} is not supported on {device}.",
            f"Choose one of: {', '.join(supported_dtypes(device))}.",
        )
    return table[name]
