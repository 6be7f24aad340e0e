"""One attention heatmap with token labels, a window for long texts and values on hover."""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QSpinBox,
    QWidget,
)

from playground.core.base.errors import InputError
from playground.qt.widgets.make import hbox, vbox
from playground.qt.widgets.plot import EmptyState
from playground.qt.inside.common import (
    ATTENTION_CMAP,
    LayoutOnce,
    hover_label,
    make_canvas,
    matrix_rows,
    position_text,
    short,
    write_csv,
)

EMPTY = "Press Analyse: the attention map of the text appears here, a row for each token looking back at the others."
WINDOW_SIZES = [("All tokens", 0), ("32 tokens", 32), ("64 tokens", 64), ("128 tokens", 128)]
FULL_LABELS = 48   # up to this many tokens, every one gets its label
SMALL_LABELS = 96  # up to this many, small labels; beyond, every k-th


def colour_ceiling(shown: np.ndarray) -> float:
    """The weight drawn darkest. Small maps use their largest weight. On a long text each row's
    attention is spread over hundreds of tokens, so the few big weights (often the first token)
    would leave everything else white: the darkest colour starts at the top 0.5% of weights."""
    if not shown.size:
        return 1.0
    peak = float(shown.max())
    if min(shown.shape) > SMALL_LABELS:
        positive = shown[shown > 0]
        if positive.size:
            peak = min(peak, float(np.quantile(positive, 0.995)))
    return max(peak, 1e-6)


def tick_positions(start: int, count: int) -> tuple[list[int], float]:
    """Which token indices get a tick label, and the font size, for ``count`` visible tokens."""
    if count <= FULL_LABELS:
        return list(range(start, start + count)), 8
    if count <= SMALL_LABELS:
        return list(range(start, start + count)), 6
    step = int(np.ceil(count / 32))
    return list(range(start, start + count, step)), 7


class HeatmapView(QWidget):
    """Rows are the tokens that look (queries), columns the tokens they look at (keys)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.colors import PowerNorm

        self.matrix = np.zeros((1, 1), dtype=np.float32)
        self.row_labels: list[str] = [""]
        self.col_labels: list[str] = [""]
        self.row_spans: list[tuple[int, int]] = [(0, 1)]
        self.col_spans: list[tuple[int, int]] = [(0, 1)]
        self.title = ""
        self.has_data = False
        self.figure, self.canvas = make_canvas(5.5, 3.4)
        self.ax = self.figure.add_subplot(111)
        self.ax.grid(False)  # the chart style's grid would draw lines across the cells
        # A square-root colour scale lets the many small weights show next to the few big ones;
        # the colour bar keeps the true values.
        self.norm = PowerNorm(gamma=0.5, vmin=0.0, vmax=1.0)
        self.image = self.ax.imshow(self.matrix, cmap=ATTENTION_CMAP, norm=self.norm, aspect="auto",
                                    interpolation="nearest")
        self.colorbar = self.figure.colorbar(self.image, ax=self.ax, fraction=0.04, pad=0.02)
        self.colorbar.set_label("attention weight")
        self.ax.set_xlabel("attended-to token (key)")
        self.ax.set_ylabel("attending token (query)")
        self.layout_once = LayoutOnce(self.figure, self.canvas)
        # Before a result: a sentence, not a 1x1 map with meaningless ticks (issue 28).
        self.empty = EmptyState(self.figure, EMPTY, axes=[self.ax, self.colorbar.ax])
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.canvas.setToolTip("Each row is a token looking back at the text; the darker a cell, the more "
                               "of that row's attention goes to the column's token. Every row sums to 1.")

        self.window_combo = QComboBox()
        for label, size in WINDOW_SIZES:
            self.window_combo.addItem(label, size)
        self.window_combo.setToolTip("Long texts: show a window of tokens with readable labels. "
                                     "'All tokens' shows the whole map (labels thinned out to positions).")
        self.window_start = QSpinBox()
        self.window_start.setRange(0, 0)
        self.window_start.setToolTip("The first token of the window.")
        # Room for a long text's positions from the start (its size hint was measured for the range 0 to 0).
        self.window_start.setMinimumWidth(self.window_start.fontMetrics().horizontalAdvance("99999") + 36)
        self.window_combo.currentIndexChanged.connect(self.redraw)
        self.window_start.valueChanged.connect(self.redraw)
        self.hover = hover_label()
        controls = hbox(QLabel("Window"), self.window_combo, QLabel("from token"), self.window_start, 1)
        vbox(controls, (self.canvas, 1), self.hover, parent=self)

    def show_matrix(self, matrix: np.ndarray, row_labels: list[str], col_labels: list[str], title: str,
                    row_name: str = "attending token (query)", col_name: str = "attended-to token (key)",
                    row_spans: list[tuple[int, int]] | None = None,
                    col_spans: list[tuple[int, int]] | None = None) -> None:
        """Show a (rows, cols) matrix; keeps the window if it still fits.

        ``row_spans``/``col_spans`` give the tokens each row/column stands for when the map was
        downsampled (groups of tokens); positions on the axes and in the hover are token positions.
        """
        self.matrix = np.asarray(matrix, dtype=np.float32)
        self.row_labels, self.col_labels, self.title = row_labels, col_labels, title
        rows, cols = self.matrix.shape
        self.row_spans = list(row_spans) if row_spans else [(i, i + 1) for i in range(rows)]
        self.col_spans = list(col_spans) if col_spans else [(i, i + 1) for i in range(cols)]
        self.has_data = True
        self.empty.show(False)
        self.ax.set_xlabel(col_name)
        self.ax.set_ylabel(row_name)
        tokens = max(self.row_spans[-1][1], self.col_spans[-1][1])
        self.window_start.blockSignals(True)
        self.window_start.setRange(0, max(0, tokens - 1))
        self.window_start.blockSignals(False)
        self.redraw()

    def clear(self) -> None:
        """Forget the map (a new model): nothing is shown or saved until the next analysis."""
        self.has_data = False
        self.matrix = np.zeros((1, 1), dtype=np.float32)
        self.row_labels, self.col_labels, self.title = [""], [""], ""
        self.row_spans, self.col_spans = [(0, 1)], [(0, 1)]
        self.hover.setText(" ")
        self.empty.show(True)
        self.redraw()

    @staticmethod
    def _group_of(spans: list[tuple[int, int]], token: int) -> int:
        """The row/column holding ``token`` (the last one past the end)."""
        for i, (s, e) in enumerate(spans):
            if s <= token < e:
                return i
        return len(spans) - 1

    def window(self) -> tuple[int, int, int, int]:
        """(row start, row count, col start, col count) of what is shown, in rows and columns
        of the matrix (a pooled row holds several tokens, so a window of N tokens has fewer)."""
        rows, cols = self.matrix.shape
        size = self.window_combo.currentData() or 0
        if size <= 0:
            return 0, rows, 0, cols
        start = self.window_start.value()

        def fit(spans, n):
            per = max(1, spans[0][1] - spans[0][0])
            count = min(n, -(-size // per))
            first = min(self._group_of(spans, start), max(0, n - count))
            return first, count

        r0, nr = fit(self.row_spans, rows)
        c0, nc = fit(self.col_spans, cols)
        return r0, nr, c0, nc

    def redraw(self) -> None:
        r0, nr, c0, nc = self.window()
        shown = self.matrix[r0:r0 + nr, c0:c0 + nc]
        self.image.set_data(shown)
        # Data coordinates are token indices, so hovering reads them directly.
        self.image.set_extent((c0 - 0.5, c0 + nc - 0.5, r0 + nr - 0.5, r0 - 0.5))
        self.ax.set_xlim(c0 - 0.5, c0 + nc - 0.5)
        self.ax.set_ylim(r0 + nr - 0.5, r0 - 0.5)
        self.norm.vmax = colour_ceiling(shown)
        peak = float(shown.max()) if shown.size else 0.0
        self.colorbar.set_label("attention weight" if self.norm.vmax >= peak else
                                f"attention weight (darkest: {self.norm.vmax:.2f} and above)")
        self.image.changed()
        xt, xfs = tick_positions(c0, nc)
        yt, yfs = tick_positions(r0, nr)
        dense_x = nc > SMALL_LABELS
        dense_y = nr > SMALL_LABELS
        # Dense axes show token positions (where a row or column starts in the text), not labels.
        self.ax.set_xticks(xt, [f"{self.col_spans[i][0]}" if dense_x else short(self.col_labels[i]) for i in xt],
                           rotation=90, fontsize=xfs)
        self.ax.set_yticks(yt, [f"{self.row_spans[i][0]}" if dense_y else short(self.row_labels[i]) for i in yt],
                           fontsize=yfs)
        self.ax.set_title(self.title, fontsize=10)
        self.layout_once.labels_are((tuple(t.get_text() for t in self.ax.get_xticklabels()),
                                     tuple(t.get_text() for t in self.ax.get_yticklabels()),
                                     self.ax.get_xlabel(), self.ax.get_ylabel(), self.colorbar.ax.get_ylabel()))
        self.canvas.draw_idle()

    def cell_text(self, row: int, col: int) -> str:
        value = float(self.matrix[row, col])
        return (f"'{self.row_labels[row]}' ({position_text(self.row_spans, row)}) → '{self.col_labels[col]}' "
                f"({position_text(self.col_spans, col)}): {value:.4f}  ({value:.1%} of this row's attention)")

    def _on_motion(self, event) -> None:
        if event.inaxes is not self.ax or event.xdata is None:
            return
        row, col = round(event.ydata), round(event.xdata)
        if 0 <= row < self.matrix.shape[0] and 0 <= col < self.matrix.shape[1]:
            self.hover.setText(self.cell_text(row, col))

    # export ----------------------------------------------------------------------------------
    def export_png(self, path: str) -> None:
        self.figure.savefig(path, dpi=150)

    def export_csv(self, path: str) -> None:
        if not self.has_data:
            raise InputError("There is no attention map to save yet.", "Analyse a text first.")
        write_csv(path, matrix_rows(self.matrix, self.row_labels, self.col_labels, corner="query \\ key"))
