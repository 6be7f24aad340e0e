"""Progress in steps and phases, the same for every long job: what it is doing, step x of y, time left.

Long work reports ``handle.report(fraction, message)``. A message made with ``step_message`` is still
a plain string (a log or the command line prints it as it is) and also carries its phase and step
count, so the GUI's progress strip can show "Scoring the test set · 12 of 40 · 0:21 left" with a bar
that fills once per phase instead of one bar that jumps between phases.
"""

from __future__ import annotations

import math
import time


class StepMessage(str):
    """A progress message that also knows its phase name and step count (``done`` of ``total``)."""

    phase: str
    done: int
    total: int | None
    detail: str

    def __new__(cls, phase: str, done: int, total: int | None, detail: str = "") -> StepMessage:
        count = f"{done} of {total}" if total else f"{done}"
        text = f"{phase} · {count}" + (f" · {detail}" if detail else "")
        self = super().__new__(cls, text)
        self.phase, self.done, self.total, self.detail = phase, done, total, detail
        return self

    @property
    def fraction(self) -> float | None:
        """How far through its phase (None when the phase has no known length)."""
        return min(1.0, self.done / self.total) if self.total else None


def step_message(phase: str, done: int, total: int | None, detail: str = "") -> StepMessage:
    return StepMessage(phase, done, total, detail)


def report_step(handle, phase: str, done: int, total: int | None, detail: str = "") -> None:
    """``handle.report`` with the phase's own fraction and a ``StepMessage`` (a None handle is fine)."""
    if handle is not None:
        message = StepMessage(phase, done, total, detail)
        handle.report(message.fraction, message)


class PhaseClock:
    """Elapsed time and an estimate of the time left, per phase: a new phase name restarts the estimate.

    The estimate is the phase's mean time per step times the steps left; it is None before the
    first step ends (nothing to go on) and for a phase of unknown length.
    """

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self.started = clock()
        self.phase = ""
        self._phase_started = self.started
        self._first_done: int | None = None

    def update(self, phase: str, done: int) -> None:
        now = self._clock()
        if phase != self.phase:
            self.phase, self._phase_started, self._first_done = phase, now, done
        elif self._first_done is None:
            self._first_done = done

    def elapsed(self) -> float:
        return self._clock() - self.started

    def remaining(self, done: int, total: int | None) -> float | None:
        """Seconds left in this phase, or None when there is nothing to estimate from yet."""
        if not total or self._first_done is None:
            return None
        steps = done - self._first_done
        if steps <= 0:
            return None
        per_step = (self._clock() - self._phase_started) / steps
        return max(0.0, per_step * (total - done))


def format_duration(seconds: float | None) -> str:
    """'0:07', '2:05', '1:02:03'; '–' when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "–"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
