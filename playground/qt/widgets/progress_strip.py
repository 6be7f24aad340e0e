"""One progress strip for every long job: the phase, step x of y, elapsed and time left, and Stop.

A job reports ``(fraction, message)``; when the message is a ``StepMessage``
(``core/base/progress.py``) the strip shows its phase by name and its own count, and the bar fills
once per phase, so scoring the test set before training never reads as "66 % trained". A plain
message is shown as the phase, with the fraction on the bar.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

from playground.core.base.progress import PhaseClock, StepMessage, format_duration
from playground.qt.design import set_icon, set_type
from playground.qt.widgets.make import button


class ProgressStrip(QWidget):
    """Phase · bar · "12 of 40 · 0:21 elapsed · about 0:30 left" · Stop.

    ``attach(slot)`` ties it to a ``TaskSlot``: the strip shows while the slot is busy, Stop asks
    the slot to stop (``graceful`` for work that saves on Stop), and it empties when the work ends.
    """

    sig_stop = Signal()
    """Stop was pressed (no payload): the attached slot is asked to stop"""

    def __init__(self, stop_tip: str = "Stop after the current step; what is finished stays (Esc).",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("progressStrip")
        self.phase_label = QLabel("")
        self.phase_label.setObjectName("progressPhase")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(False)
        self.bar.setMinimumWidth(120)
        self.count_label = QLabel("")
        self.count_label.setObjectName("progressCount")
        set_type(self.count_label, "caption")
        self.stop_button = button("Stop", stop_tip, self.sig_stop.emit)
        set_icon(self.stop_button, "stop")  # the same Stop on every long job
        self.stop_button.setEnabled(False)
        # Both texts wrap onto a second line where the room is narrow (a section beside the Labs dock, the
        # presenter's zoom) instead of widening the page while a job runs.
        for label in (self.phase_label, self.count_label):
            label.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.phase_label)
        row.addWidget(self.bar, 1)
        row.addWidget(self.count_label)
        row.addWidget(self.stop_button)
        self._clock: PhaseClock | None = None
        self._last: tuple[float | None, str] = (None, "")
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._refresh_times)
        self.setVisible(False)

    # --- tied to a slot ------------------------------------------------------------------------
    def attach(self, slot, graceful: bool = False) -> ProgressStrip:
        self.sig_stop.connect(lambda: slot.stop(graceful=graceful))
        slot.sig_busy_changed.connect(self.set_busy)
        return self

    def set_busy(self, busy: bool) -> None:
        if busy:
            self.start()
        else:
            self.finish()

    def start(self, phase: str = "Starting") -> None:
        self._clock = PhaseClock()
        self._last = (None, phase)
        self.phase_label.setText(phase)
        self.count_label.setText("")
        self.bar.setRange(0, 0)  # busy until the first report says how far
        self.stop_button.setEnabled(True)
        self.setVisible(True)
        self._tick.start()

    def finish(self) -> None:
        self._tick.stop()
        self._clock = None
        self.stop_button.setEnabled(False)
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.setVisible(False)

    # --- reports -------------------------------------------------------------------------------
    def on_progress(self, fraction, message: str = "") -> None:
        if self._clock is None:
            self.start()
        self._last = (fraction, message)
        if isinstance(message, StepMessage):
            self._clock.update(message.phase, message.done)
            self.phase_label.setText(message.phase + (f" ({message.detail})" if message.detail else ""))
            fraction = message.fraction if message.fraction is not None else fraction
        elif message:
            self.phase_label.setText(str(message))
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(max(0.0, min(1.0, fraction)) * 1000))
        self._refresh_times()

    def _refresh_times(self) -> None:
        if self._clock is None:
            return
        message = self._last[1]
        parts = []
        if isinstance(message, StepMessage):
            parts.append(f"{message.done} of {message.total}" if message.total else f"{message.done}")
            left = self._clock.remaining(message.done, message.total)
        else:
            left = None
        parts.append(f"{format_duration(self._clock.elapsed())} elapsed")
        parts.append(f"about {format_duration(left)} left" if left is not None else "time left: estimating…")
        self.count_label.setText(" · ".join(parts))

    def text(self) -> str:
        """What the strip says, for tests and the screen reader."""
        return f"{self.phase_label.text()} · {self.count_label.text()}"
