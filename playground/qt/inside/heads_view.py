"""All heads of one layer as thumbnails; click one to see it large."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.core.attention import pool_matrix
from playground.qt.widgets.plot import EmptyState
from playground.qt.inside.common import (
    ATTENTION_CMAP,
    LayoutOnce,
    hover_label,
    make_canvas,
    matrix_rows,
    write_csv,
)

THUMB_SIDE = 96        # thumbnails are pooled to at most this many rows and columns
SELECTED_COLOUR = "#ff6f00"


EMPTY = "Press Analyse: every head of the chosen layer appears here, small, side by side."


class HeadGridView(QWidget):
    """A grid of every head of a layer, drawn small so their patterns can be compared."""

    sig_head_clicked = Signal(int)
    """the head (0-based) the user clicked, to be shown large"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure, self.canvas = make_canvas(5.5, 3.4)
        self.axes: list = []
        self.images: list = []
        self.weights = np.zeros((0, 1, 1), dtype=np.float32)
        self.row_labels: list[str] = []
        self.col_labels: list[str] = []
        self.selected = 0
        self.square = True
        self.layout_once = LayoutOnce(self.figure, self.canvas)
        self.empty = EmptyState(self.figure, EMPTY, axes=[])  # before a result: a sentence (issue 28)
        self.canvas.mpl_connect("button_press_event", self._on_click)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.setToolTip("Every head of the chosen layer. Heads learn different jobs: some look at the "
                               "previous token, some at the first token, some at related words. Click one to "
                               "enlarge it.")
        self.hover = hover_label()
        layout = QVBoxLayout(self)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hover)

    def _build(self, heads: int) -> None:
        """Lay out one small axes per head; only when the number of heads changes (a new model)."""
        from matplotlib.colors import PowerNorm

        self.figure.clear()
        self.axes, self.images = [], []
        cols = max(1, math.ceil(math.sqrt(heads)))
        rows = max(1, math.ceil(heads / cols))
        for h in range(heads):
            ax = self.figure.add_subplot(rows, cols, h + 1)
            image = ax.imshow(np.zeros((2, 2)), cmap=ATTENTION_CMAP, norm=PowerNorm(0.5, vmin=0, vmax=1),
                              aspect="equal", interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.grid(False)
            self.axes.append(ax)
            self.images.append(image)
        self._title = self.figure.suptitle("", fontsize=10)
        self.empty = EmptyState(self.figure, EMPTY, axes=[])
        self.empty.show(False)
        self.layout_once.invalidate()

    def show_layer(self, weights: np.ndarray, row_labels: list[str], col_labels: list[str], title: str,
                   selected: int = 0, square: bool = True) -> None:
        """Show (heads, Tq, Tk) weights; each thumbnail scaled to its own largest weight."""
        self.weights = np.asarray(weights, dtype=np.float32)
        self.square = square
        self.row_labels, self.col_labels = row_labels, col_labels
        heads = self.weights.shape[0]
        if heads != len(self.axes):
            self._build(heads)
        for h, (ax, image) in enumerate(zip(self.axes, self.images)):
            thumb = pool_matrix(self.weights[h], THUMB_SIDE)
            image.set_data(thumb)
            image.set_extent((-0.5, thumb.shape[1] - 0.5, thumb.shape[0] - 0.5, -0.5))
            image.norm.vmax = max(float(thumb.max()), 1e-6)
            image.changed()
            ax.set_title(f"head {h}", fontsize=8)
        self._title.set_text(title)
        self.set_selected(selected)

    def set_selected(self, head: int) -> None:
        self.selected = head
        for h, ax in enumerate(self.axes):
            for spine in ax.spines.values():
                spine.set_edgecolor(SELECTED_COLOUR if h == head else "#b0bec5")
                spine.set_linewidth(2.5 if h == head else 0.8)
        self.canvas.draw_idle()

    def clear(self) -> None:
        """Forget the layer (a new model)."""
        self.weights = np.zeros((0, 1, 1), dtype=np.float32)
        self.figure.clear()
        self.axes, self.images = [], []
        self.empty = EmptyState(self.figure, EMPTY, axes=[])
        self.hover.setText(" ")
        self.canvas.draw_idle()

    @property
    def has_data(self) -> bool:
        return self.weights.shape[0] > 0

    def head_at(self, event) -> int | None:
        for h, ax in enumerate(self.axes):
            if event.inaxes is ax:
                return h
        return None

    def _on_click(self, event) -> None:
        head = self.head_at(event)
        if head is not None:
            self.sig_head_clicked.emit(head)

    def _on_motion(self, event) -> None:
        head = self.head_at(event)
        if head is None:
            return
        w = self.weights[head]
        # Where the head looks on average: a one-line summary of its pattern.
        first = float(w[:, 0].mean())
        text = f"head {head}: on average {first:.0%} of attention goes to the first token"
        if self.square and w.shape[0] > 1:
            prev = float(np.diagonal(w, offset=-1).mean())
            text += f", {prev:.0%} to the previous one"
        self.hover.setText(text + " · click to enlarge")

    # export ----------------------------------------------------------------------------------
    def export_png(self, path: str) -> None:
        self.figure.savefig(path, dpi=150)

    def export_csv(self, path: str) -> None:
        rows: list[list] = []
        for h in range(self.weights.shape[0]):
            rows.extend(matrix_rows(self.weights[h], self.row_labels, self.col_labels, corner=f"head {h}"))
            rows.append([])
        write_csv(path, rows)
