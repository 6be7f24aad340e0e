"""Pieces the Lifecycle sections share: a canvas made once, the section's layout (its explanation at
the top, its column beside its plot), a run bar (Run, then the shared progress strip with Stop), and
the provenance of a result no loaded model made."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLayout,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.provenance import Provenance
from playground.qt.panel import Panel
from playground.qt.widgets.make import note_label, splitter
from playground.qt.widgets.progress_strip import ProgressStrip


def make_canvas(width: float = 5.5, height: float = 3.6):
    """A (figure, canvas) pair; made once, then only updated in place (the shared lazy canvas)."""
    from playground.qt.widgets import plot

    return plot.make_canvas(width, height, min_size=(240, 220))


def column_beside_plot(page: QWidget, items: list, canvas, stretch: tuple[int, int] = (3, 2),
                       lesson_text: str = "", strip: QWidget | None = None) -> None:
    """Lay out a section: its explanation at the top, full width (the one place, as in every tab); under
    it its widgets and layouts in a column on the left (an item given as ``(widget, stretch)`` grows),
    the plot on the right, with a splitter between them; the progress ``strip`` under both, full width."""
    left = QWidget()
    column = QVBoxLayout(left)
    column.setContentsMargins(0, 0, 0, 0)
    for item in items:
        widget, grow = item if isinstance(item, tuple) else (item, 0)
        (column.addLayout if isinstance(widget, QLayout) else column.addWidget)(widget, grow)
    outer = QVBoxLayout(page)
    if lesson_text:
        outer.addWidget(lesson(lesson_text))
    split = splitter((left, stretch[0]), (canvas, stretch[1]))
    fit_below_lesson(split)
    outer.addWidget(split, 1)
    if strip is not None:
        outer.addWidget(strip)


def fit_below_lesson(widget: QWidget, minimum_height: int = 360) -> None:
    """The part under a section's explanation shares the room it is given instead of asking for its
    whole height (a wrapped explanation above makes the tab's height follow its width, and the tab would
    scroll down by what the part's size hint asks)."""
    widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
    widget.setMinimumHeight(minimum_height)


lesson = Panel.lesson


class RunBar(QWidget):
    """Run, the one progress strip of every long job (phase, step x of y, elapsed, time left, Stop) tied
    to the section's slot, and the section's message line (``message``, put under it). The strip sits
    beside Run until the page puts it elsewhere (``column_beside_plot(strip=…)``: full width, at the foot)."""

    def __init__(self, run_text: str, slot, parent: QWidget | None = None,
                 stop_tip: str = "Stop after the current step; finished rows stay (Esc).") -> None:
        super().__init__(parent)
        self.run_button = QPushButton(run_text)
        self.strip = ProgressStrip(stop_tip).attach(slot)
        self.strip.phase_label.setWordWrap(True)  # a long phase name wraps rather than widening the page
        self.stop_button = self.strip.stop_button
        self.message = note_label()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.run_button)
        row.addWidget(self.strip, 1)
        row.addStretch(0)
        self.slot = slot
        slot.say = self.message.setText
        slot.sig_busy_changed.connect(self._busy)

    def _busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)

    def on_progress(self, fraction, message: str) -> None:
        self.strip.on_progress(fraction, message)


class MadeHere(Provenance):
    """A result no loaded model made (the scaling experiment's tiny models, trained from scratch here):
    named as it is, with no adapter to speak of."""

    @property
    def model_text(self) -> str:
        return self.model

    def as_dict(self) -> dict:
        return {**super().as_dict(), "adapter": ""}
