"""Lines from one token to the tokens it attends to, thicker for more attention."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from playground.core.base.errors import InputError
from playground.qt.widgets.plot import EmptyState
from playground.qt.inside.common import (
    LayoutOnce,
    hover_label,
    make_canvas,
    position_text,
    short,
    write_csv,
)

MAX_SHOWN = 40           # tokens per column; longer texts show a window / the strongest keys
LINE_COLOUR = (0.13, 0.40, 0.75)
X_LEFT, X_RIGHT = 0.30, 0.70


class LinesView(QWidget):
    """Left: the tokens that look (queries); right: the tokens looked at (keys)."""

    sig_query_chosen = Signal(int)
    """the query token (index) the user picked"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.collections import LineCollection

        self.matrix = np.zeros((1, 1), dtype=np.float32)
        self.row_labels: list[str] = [""]
        self.col_labels: list[str] = [""]
        self.row_spans: list[tuple[int, int]] | None = None
        self.col_spans: list[tuple[int, int]] | None = None
        self.has_data = False
        self.query = 0
        self._rows_seen = 0
        self.shown_rows: list[int] = []
        self.shown_cols: list[int] = []
        self.figure, self.canvas = make_canvas(5.5, 3.4)
        self.ax = self.figure.add_subplot(111)
        self.ax.set_axis_off()
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(1.03, -0.07)
        self.lines = LineCollection([], capstyle="round")
        self.ax.add_collection(self.lines)
        # Text artists are made once and reused: only their text, place and style change.
        self.left = [self.ax.text(X_LEFT - 0.02, 0, "", ha="right", va="center", fontsize=9, picker=True)
                     for _ in range(MAX_SHOWN)]
        self.right = [self.ax.text(X_RIGHT + 0.02, 0, "", ha="left", va="center", fontsize=9)
                      for _ in range(MAX_SHOWN)]
        self.title = self.ax.set_title("", fontsize=10)
        for x, ha, text in ((X_LEFT - 0.02, "right", "attending token"), (X_RIGHT + 0.02, "left", "attended-to token")):
            self.ax.text(x, -0.03, text, ha=ha, va="bottom", fontsize=8, color="#607d8b", style="italic")
        # The tokens sit at fixed places on a bare axes: one layout per size is enough.
        self.layout_once = LayoutOnce(self.figure, self.canvas)
        self.empty = EmptyState(self.figure, "Press Analyse: lines from a token to the tokens it attends to "
                                "appear here, thicker for more attention.", axes=[self.ax])
        self.canvas.mpl_connect("pick_event", self._on_pick)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.setToolTip("Click a token on the left: lines go to the tokens it attends to, thicker for "
                               "more attention.")
        self.query_spin = QSpinBox()
        self.query_spin.setToolTip("The token whose attention is drawn (its position in the text).")
        self.query_spin.valueChanged.connect(self._on_spin)
        self.query_label = QLabel("")
        self.spin_label = QLabel("Token")
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.hover = hover_label()
        controls = QHBoxLayout()
        controls.addWidget(self.spin_label)
        controls.addWidget(self.query_spin)
        controls.addWidget(self.query_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.note)
        layout.addWidget(self.hover)

    def show_attention(self, matrix: np.ndarray, row_labels: list[str], col_labels: list[str], title: str,
                       query: int | None = None, row_spans: list[tuple[int, int]] | None = None,
                       col_spans: list[tuple[int, int]] | None = None) -> None:
        """Show the attention of one row (``query``) of a (rows, cols) matrix. The spans say which
        tokens each row/column stands for when the map was downsampled into groups."""
        self.matrix = np.asarray(matrix, dtype=np.float32)
        self.row_labels, self.col_labels = row_labels, col_labels
        pooled = any(e - s > 1 for s, e in (row_spans or []) + (col_spans or []))
        self.row_spans, self.col_spans = (row_spans, col_spans) if pooled else (None, None)
        self.spin_label.setText("Token group" if pooled else "Token")
        self.has_data = True
        self.empty.show(False)
        rows = self.matrix.shape[0]
        if query is None:
            # Keep the user's choice across layers and heads; a new text starts at its last token.
            query = self.query if self._rows_seen == rows and self.query < rows else rows - 1
        self._rows_seen = rows
        self.title.set_text(title)
        self.query_spin.blockSignals(True)
        self.query_spin.setRange(0, max(0, rows - 1))
        self.query_spin.setValue(query)
        self.query_spin.blockSignals(False)
        self.select_query(query)

    def clear(self) -> None:
        """Forget the attention (a new model)."""
        self.has_data = False
        self.matrix = np.zeros((1, 1), dtype=np.float32)
        self.row_labels, self.col_labels = [""], [""]
        self.row_spans = self.col_spans = None
        self._rows_seen = 0
        self.empty.show(True)
        self.lines.set_segments([])
        for text in self.left + self.right:
            text.set_visible(False)
        self.title.set_text("")
        self.query_label.setText("")
        self.note.setText("")
        self.hover.setText(" ")
        self.canvas.draw_idle()

    def select_query(self, query: int) -> None:
        rows, cols = self.matrix.shape
        self.query = max(0, min(int(query), rows - 1))
        if self.query_spin.value() != self.query:
            self.query_spin.blockSignals(True)
            self.query_spin.setValue(self.query)
            self.query_spin.blockSignals(False)
        weights = self.matrix[self.query]
        # Queries: all of them, or a window around the chosen one.
        start = max(0, min(self.query - MAX_SHOWN // 2, rows - MAX_SHOWN))
        self.shown_rows = list(range(start, min(rows, start + MAX_SHOWN)))
        # Keys: all of them, or the ones with the most weight, kept in text order.
        if cols <= MAX_SHOWN:
            self.shown_cols = list(range(cols))
        else:
            self.shown_cols = sorted(np.argsort(weights)[::-1][:MAX_SHOWN].tolist())
        covered = float(weights[self.shown_cols].sum())
        # Past one screen, positions tell apart repeated words that are far from each other.
        self._place(self.left, self.shown_rows, self.row_labels, lambda i: i == self.query, numbered=rows > MAX_SHOWN)
        self._place(self.right, self.shown_cols, self.col_labels, lambda i: False, weights, numbered=cols > MAX_SHOWN)
        y_left = self._y(self.shown_rows.index(self.query), len(self.shown_rows))
        segments, widths, colours = [], [], []
        peak = max(float(weights.max()), 1e-9)
        for j, col in enumerate(self.shown_cols):
            w = float(weights[col])
            if w < 0.002:
                continue
            segments.append([(X_LEFT, y_left), (X_RIGHT, self._y(j, len(self.shown_cols)))])
            widths.append(0.4 + 10.0 * w)
            colours.append((*LINE_COLOUR, 0.2 + 0.8 * w / peak))
        self.lines.set_segments(segments)
        self.lines.set_linewidths(widths)
        self.lines.set_colors(colours)
        self.query_label.setText(f"'{self.row_labels[self.query]}' ({self._where(True, self.query)})")
        note = ""
        unit = "token groups" if self.col_spans else "tokens"
        if cols > MAX_SHOWN:
            note = (f"Showing the {MAX_SHOWN} {unit} this one attends to most (they hold {covered:.0%} of its "
                    f"attention), in text order.")
        if self.row_spans:
            size = self.row_spans[0][1] - self.row_spans[0][0]
            note += (f" The map was downsampled to fit the memory limit: each line joins groups of {size} "
                     f"tokens.")
        self.note.setText(note.strip())
        self.canvas.draw_idle()
        self.sig_query_chosen.emit(self.query)

    def _where(self, row: bool, i: int) -> str:
        return position_text(self.row_spans if row else self.col_spans, i)

    @staticmethod
    def _y(i: int, n: int) -> float:
        return i / (n - 1) if n > 1 else 0.5

    def _place(self, texts, indices, labels, bold, weights=None, numbered: bool = False) -> None:
        n = len(indices)
        small = 9 if n <= 24 else 7
        for k, text in enumerate(texts):
            if k >= n:
                text.set_visible(False)
                continue
            i = indices[k]
            label = short(labels[i], 18)
            if numbered:
                where = position_text(self.col_spans if weights is not None else self.row_spans, i)
                label = f"{label} {where}" if weights is None else f"{where} {label}"
            if weights is not None and weights[i] >= 0.01:
                label = f"{label}  {weights[i]:.0%}"
            text.set_text(label)
            text.set_position((text.get_position()[0], self._y(k, n)))
            text.set_visible(True)
            text.set_fontsize(small)
            chosen = bold(i)
            text.set_fontweight("bold" if chosen else "normal")
            text.set_bbox({"boxstyle": "round,pad=0.2", "fc": "#ffe0b2", "ec": "#ff6f00"} if chosen else None)

    def _on_spin(self, value: int) -> None:
        self.select_query(value)

    def _on_pick(self, event) -> None:
        if event.artist in self.left:
            k = self.left.index(event.artist)
            if k < len(self.shown_rows):
                self.select_query(self.shown_rows[k])

    def _on_motion(self, event) -> None:
        for k, text in enumerate(self.right[: len(self.shown_cols)]):
            if text.contains(event)[0]:
                col = self.shown_cols[k]
                self.hover.setText(f"'{self.row_labels[self.query]}' ({self._where(True, self.query)}) gives "
                                   f"{float(self.matrix[self.query, col]):.4f} of its attention to "
                                   f"'{self.col_labels[col]}' ({self._where(False, col)})")
                return

    # export ----------------------------------------------------------------------------------
    def export_png(self, path: str) -> None:
        self.figure.savefig(path, dpi=150)

    def export_csv(self, path: str) -> None:
        if not self.has_data:
            raise InputError("There is no attention to save yet.", "Analyse a text first.")
        # Positions in the text too: a downsampled row or column stands for several tokens.
        rows: list[list] = [["query_index", "query_tokens", "query", "key_index", "key_tokens", "key", "weight"]]
        q = self.query
        for col, w in enumerate(self.matrix[q]):
            rows.append([q, self._where(True, q).lstrip("#"), self.row_labels[q], col,
                         self._where(False, col).lstrip("#"), self.col_labels[col], f"{float(w):.6g}"])
        write_csv(path, rows)
