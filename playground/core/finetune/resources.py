"""Measuring what training costs: peak memory on the GPU or of the process."""

from __future__ import annotations

import sys


def peak_memory_bytes(device=None) -> int:
    """Peak memory so far: allocated on a CUDA device, else the process's peak resident size."""
    try:
        import torch

        if device is not None and str(device).startswith("cuda") and torch.cuda.is_available():
            return int(torch.cuda.max_memory_allocated(device))
    except Exception:  # memory is reported, never a reason to fail
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return int(peak if sys.platform == "darwin" else peak * 1024)  # bytes on macOS, KiB on Linux
    except (ImportError, OSError):
        pass
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:
        return 0
