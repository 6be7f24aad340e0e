"""Pieces the Lifecycle sections share: a canvas made once, a run bar with progress and Stop."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QHBoxLayout,
    QLayout,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from playground.qt.panel import Panel
from playground.qt.widgets.make import button, note_label, show_progress, splitter


def make_canvas(width: float = 5.5, height: float = 3.6):
    """A (figure, canvas) pair; made once, then only updated in place (the shared lazy canvas)."""
    from playground.qt.widgets import plot

    return plot.make_canvas(width, height, min_size=(320, 240))


def column_beside_plot(page: QWidget, items: list, canvas, stretch: tuple[int, int] = (3, 2)) -> None:
    """Lay out a section: its widgets and layouts in a column on the left (an item given as
    ``(widget, stretch)`` grows), the plot on the right, with a splitter between them."""
    left = QWidget()
    column = QVBoxLayout(left)
    for item in items:
        widget, grow = item if isinstance(item, tuple) else (item, 0)
        (column.addLayout if isinstance(widget, QLayout) else column.addWidget)(widget, grow)
    QVBoxLayout(page).addWidget(splitter((left, stretch[0]), (canvas, stretch[1])))


lesson = Panel.lesson


class RunBar(QWidget):
    """Run / Stop buttons, a progress bar and the message line of one section, tied to a slot."""

    def __init__(self, run_text: str, slot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.run_button = QPushButton(run_text)
        self.stop_button = button("Stop", "Stop after the current step; finished rows stay (Esc).")
        self.stop_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.message = note_label()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.run_button)
        row.addWidget(self.stop_button)
        row.addWidget(self.progress, 1)
        self.slot = slot
        slot.say = self.message.setText
        self.stop_button.clicked.connect(slot.stop)
        slot.sig_busy_changed.connect(self._busy)

    def _busy(self, busy: bool) -> None:
        self.run_button.setEnabled(not busy)
        self.stop_button.setEnabled(busy)
        if not busy:
            self.progress.setValue(0)

    def on_progress(self, fraction, message: str) -> None:
        show_progress(self.progress, fraction, 1000)
        if message:
            self.message.setText(message)
