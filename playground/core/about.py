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
    from playground.core.device import available_devices

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
