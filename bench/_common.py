"""Set-ups the bench scripts share (import it as ``_common``: the scripts run from bench/)."""

from __future__ import annotations

import os


def quiet_torch(threads: int | None):
    """Import torch with ``threads`` CPU threads (None or 0: torch's default) and silence the
    warnings and progress bars of transformers, so a child process prints only its figures."""
    import warnings

    import torch

    if threads:
        torch.set_num_threads(threads)
    warnings.filterwarnings("ignore")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    return torch


def main_window():
    """The whole app offscreen (every tab built), as a person starts it: (app, context, window)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    from playground.qt.app import create_app
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    app = create_app()
    ctx = AppContext()
    win = MainWindow(ctx)
    win.show()
    win.build_tabs()
    return app, ctx, win


def gap_summary(values: list[float]) -> str:
    """Ticks, median, p99 and the largest gap (ms) of a GUI-thread timer's gaps."""
    import statistics

    if not values:
        return "no ticks"
    values = sorted(values)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    return (f"{len(values):5d} ticks, median {statistics.median(values):5.1f} ms, p99 {p99:6.1f} ms, "
            f"largest gap {values[-1]:6.1f} ms")


class GapRecorder:
    """A 10 ms QTimer on the GUI thread: the gap between ticks per phase (``phase``), and every gap
    over 50 ms outside ``quiet`` phases with the job's last event (``event(name)``) before it."""

    def __init__(self, quiet=("loading", "done")) -> None:
        import time

        from PySide6.QtCore import QTimer

        self.phase, self.quiet = "loading", quiet
        self.gaps: dict[str, list[float]] = {}
        self.big: list[tuple[float, str, str, float]] = []
        self._clock = time.perf_counter
        self._last = self._clock()
        self._event, self._event_at = "", self._last
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def event(self, name: str) -> None:
        self._event, self._event_at = name, self._clock()

    def _tick(self) -> None:
        now = self._clock()
        gap = (now - self._last) * 1000
        self.gaps.setdefault(self.phase, []).append(gap)
        if gap > 50 and self.phase not in self.quiet:
            self.big.append((gap, self.phase, self._event, (self._last - self._event_at) * 1000))
        self._last = now

    def print_big(self, most: int = 10) -> None:
        print("Gaps over 50 ms (gap, phase, the job's last event, ms from that event to the gap's start):")
        for gap, name, event, after in sorted(self.big, reverse=True)[:most]:
            print(f"  {gap:6.1f} ms  {name:12s} after {event or '-':15s} +{after:7.0f} ms")
