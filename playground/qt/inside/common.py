"""Pieces the Inside views share: the canvas helper, CSV writing, a page with its lesson."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from playground.qt.panel import Panel
from playground.qt.widgets.plot import make_canvas  # noqa: F401 - the views import it from here

ATTENTION_CMAP = "Blues"


class LayoutOnce:
    """Constrained layout, worked out only when it can change: when the canvas is resized or the
    view says its labels changed. Working it out measures every tick label, which on a long text
    costs more than drawing the map, and moving through layers and heads changes no label."""

    def __init__(self, figure, canvas) -> None:
        self.figure = figure
        self.key = None
        canvas.mpl_connect("resize_event", lambda _event: self.invalidate())
        canvas.mpl_connect("draw_event", self._after_draw)

    def invalidate(self) -> None:
        self.figure.set_layout_engine("constrained")

    def labels_are(self, key) -> None:
        """Lay out again before the next draw if ``key`` (the labels on show) differs from last time."""
        if key != self.key:
            self.key = key
            self.invalidate()

    def _after_draw(self, _event) -> None:
        if self.figure.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine":
            self.figure.set_layout_engine("none")  # keeps the positions just computed


def write_csv(path: str | Path, rows: list[list]) -> None:
    """Write rows as CSV atomically (a failed write never leaves half a file)."""
    from playground.core.base.paths import atomic_write_text

    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    atomic_write_text(Path(path), buf.getvalue())


def matrix_rows(matrix, row_labels: list[str], col_labels: list[str], corner: str = "") -> list[list]:
    """A labelled matrix as CSV rows: a header of column labels, then one row per row label."""
    rows: list[list] = [[corner] + list(col_labels)]
    for label, values in zip(row_labels, matrix):
        rows.append([label] + [f"{float(v):.6g}" for v in values])
    return rows


def position_text(spans: list[tuple[int, int]] | None, i: int) -> str:
    """Where row/column ``i`` sits in the text: '#7' for one token, '#6–7' for a pooled group."""
    if not spans:
        return f"#{i}"
    start, end = spans[i]
    return f"#{start}" if end - start <= 1 else f"#{start}–{end - 1}"


def short(label: str, width: int = 14) -> str:
    """A tick label cut to a readable width."""
    return label if len(label) <= width else label[: width - 1] + "…"


class ViewPage(QWidget):
    """A view with its lesson on top, full width (one bold sentence, "More" for the rest): the
    explanation sits in one place on every tab and the chart keeps the whole width (issue 28)."""

    def __init__(self, view: QWidget, lesson: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.lesson_label = Panel.lesson(lesson)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.addWidget(self.lesson_label)
        layout.addWidget(view, 1)


def hover_label() -> QLabel:
    """The line under a plot that says what the mouse is over."""
    label = QLabel(" ")
    label.setObjectName("hover")
    label.setStyleSheet("QLabel#hover { color: palette(text); padding: 2px 4px; }")
    label.setMinimumHeight(22)
    return label
