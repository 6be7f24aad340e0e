"""Measuring what training costs: the peak memory of one run, on the GPU or of the process.

A process's lifetime peak (``ru_maxrss``) would count everything the app did before the run (an
earlier run, a generation, loading another model), so a run starts a ``PeakMeter``: on a CUDA
device it resets PyTorch's peak counter; on Linux it resets the kernel's high-water mark of the
resident size (``/proc/self/clear_refs``); elsewhere a background thread samples the resident
size every 20 ms.
"""

from __future__ import annotations

import sys
import threading

_STATUS = "/proc/self/status"


def _rss_now() -> int:
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # memory is reported, never a reason to fail
        return 0


def _linux_hwm() -> int | None:
    """The resident size's high-water mark (bytes), or None where the kernel does not say."""
    try:
        with open(_STATUS, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_linux_hwm() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as f:
            f.write("5")  # 5: reset the peak resident size to the current one (Linux 4.0+)
        return _linux_hwm() is not None
    except OSError:
        return False


class PeakMeter:
    """The peak memory since ``start()``: allocated on a CUDA device, else the resident size.

    ``start_bytes`` is the memory in use at the start, so ``added()`` is what the run itself
    needed on top of what the process already held. ``mark()`` starts a phase (the training
    steps, after loading and scoring): ``peak()`` still covers the whole run, ``phase_added()`` is
    the phase's own peak less what was in use when it began.
    """

    def __init__(self, device=None) -> None:
        self.cuda = False
        try:
            import torch

            self.cuda = device is not None and str(device).startswith("cuda") and torch.cuda.is_available()
        except Exception:
            pass
        self.device = device
        self.start_bytes = 0
        self._sampled = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._hwm = False
        self._earlier = 0       # the peak before the current phase began
        self.mark_bytes = 0     # memory in use when the current phase began

    def start(self) -> PeakMeter:
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
            self.start_bytes = int(torch.cuda.memory_allocated(self.device))
            return self
        self.start_bytes = _rss_now()
        self._hwm = _reset_linux_hwm()
        if not self._hwm:
            self._sampled = self.start_bytes
            self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
            self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            self._sampled = max(self._sampled, _rss_now())

    def mark(self) -> PeakMeter:
        """Begin a phase: remember the peak so far, reset the high-water mark, note what is in use."""
        self._earlier = self.peak()
        if self.cuda:
            import torch

            torch.cuda.reset_peak_memory_stats(self.device)
            self.mark_bytes = int(torch.cuda.memory_allocated(self.device))
            return self
        self.mark_bytes = _rss_now()
        if self._hwm:
            self._hwm = _reset_linux_hwm()
        if not self._hwm:
            self._sampled = self.mark_bytes
            if self._thread is None:
                self._thread = threading.Thread(target=self._sample, name="peak-memory", daemon=True)
                self._thread.start()
        return self

    def phase_peak(self) -> int:
        """The peak since ``mark()`` (since ``start()`` without one)."""
        if self.cuda:
            import torch

            return int(torch.cuda.max_memory_allocated(self.device))
        if self._hwm:
            return _linux_hwm() or _rss_now()
        self._sampled = max(self._sampled, _rss_now())
        return self._sampled

    def peak(self) -> int:
        return max(self._earlier, self.phase_peak())

    def added(self) -> int:
        return max(0, self.peak() - self.start_bytes)

    def phase_added(self) -> int:
        """What the phase needed on top of what was in use when it began."""
        return max(0, self.phase_peak() - (self.mark_bytes or self.start_bytes))

    def stop(self) -> None:
        self._stop.set()
