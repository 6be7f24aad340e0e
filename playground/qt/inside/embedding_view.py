"""Words as vectors: a cosine-similarity matrix and a 2-D map of the words the user types."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from playground.qt.inside.common import (
    hover_label,
    make_canvas,
    matrix_rows,
    short,
    write_csv,
)
from playground.qt.widgets.make import button, check, note_label

DEFAULT_WORDS = "king, queen, man, woman, cat, dog, apple, banana, Paris, London"
ANNOTATE_UP_TO = 14  # print the numbers in the cells when the matrix is this small


def label_offsets(xy: np.ndarray) -> list[tuple[int, int]]:
    """Where to put each point's label (points offset) so labels of close points do not overlap:
    each label takes the corner farthest from the labels already placed nearby."""
    span = np.ptp(xy, axis=0) + 1e-9
    unit = (xy - xy.min(axis=0)) / span          # 0..1 in both directions, like the plot
    corners = [(5, 4), (5, -4), (-5, 4), (-5, -4)]
    placed: list[np.ndarray] = []
    out = []
    for p in unit:
        best, best_gap = corners[0], -1.0
        for dx, dy in corners:
            spot = p + np.array([dx, dy]) * 0.012   # the label's rough place in plot units
            gap = min((float(np.linalg.norm(spot - q)) for q in placed), default=1.0)
            if gap > best_gap + 1e-9:
                best, best_gap = (dx, dy), gap
        placed.append(p + np.array(best) * 0.012)
        out.append(best)
    return out


class EmbeddingView(QWidget):
    sig_compare_requested = Signal(str, bool)
    """(the words as typed, look them up with a leading space)"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.colors import Normalize

        self.result = None
        self.words_edit = QLineEdit(DEFAULT_WORDS)
        self.words_edit.setToolTip("Words or short phrases separated by commas. A word cut into several tokens "
                                   "gets the average of their vectors.")
        self.words_edit.returnPressed.connect(self._request)
        self.space_check = check("as inside a sentence", "Look words up with a space before them (' cat'), the "
                                 "way they usually appear mid-sentence. For many tokenizers 'cat' and ' cat' are "
                                 "different tokens with different vectors.", checked=True)
        self.compare_button = button("Compare", "Look up each word's input embedding and compare them (Enter).",
                                     self._request)
        self.figure, self.canvas = make_canvas(8.0, 3.4)
        self.ax_sim = self.figure.add_subplot(1, 2, 1)
        self.ax_map = self.figure.add_subplot(1, 2, 2)
        # Nothing to draw before the first Compare: an empty matrix and a line saying what to do.
        self.sim_image = self.ax_sim.imshow(np.full((2, 2), np.nan), cmap="RdBu_r", norm=Normalize(-1, 1),
                                            interpolation="nearest")
        self.colorbar = self.figure.colorbar(self.sim_image, ax=self.ax_sim, fraction=0.046, pad=0.03)
        self.colorbar.set_label("cosine similarity")
        self.ax_sim.set_title("How alike (cosine similarity)", fontsize=10)
        self.scatter = self.ax_map.scatter([], [], s=36, color="#1565c0", zorder=3)
        self.ax_map.set_title("Map of the vectors (PCA, 2-D)", fontsize=10)
        self.ax_map.grid(True, color="#e0e0e0", linewidth=0.6)
        self.cell_texts: list = []
        self.point_texts: list = []
        self.empty_texts = [ax.text(0.5, 0.5, "Type a few words above\nand press Compare", transform=ax.transAxes,
                                    ha="center", va="center", fontsize=10, color="#666") for ax in (self.ax_sim, self.ax_map)]
        self._show_empty(True)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.hover = hover_label()
        self.pieces_label = note_label("Type a few words and press Compare to see how alike their vectors are.")
        row = QHBoxLayout()
        row.addWidget(QLabel("Words"))
        row.addWidget(self.words_edit, 1)
        row.addWidget(self.space_check)
        row.addWidget(self.compare_button)
        from playground.qt.widgets.result_header import ResultHeader

        # The model whose embedding table the vectors come from (the panel fills it on a result).
        self.header = ResultHeader(empty="Press Compare: the vectors will name the model they come from.")
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.header)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hover)
        layout.addWidget(self.pieces_label)

    def _request(self) -> None:
        self.sig_compare_requested.emit(self.words_edit.text(), self.space_check.isChecked())

    def clear(self) -> None:
        """Forget the words' vectors (a new model has other embeddings)."""
        if self.result is None:
            return
        self.result = None
        for t in self.cell_texts + self.point_texts:
            t.remove()
        self.cell_texts, self.point_texts = [], []
        self.sim_image.set_data(np.full((2, 2), np.nan))
        self.sim_image.set_extent((-0.5, 1.5, 1.5, -0.5))
        self.scatter.set_offsets(np.zeros((0, 2)))
        self._show_empty(True)
        self.pieces_label.setText("A new model: press Compare to look the words up in its embeddings.")
        self.header.clear_result()
        self.hover.setText(" ")
        self.canvas.draw_idle()

    def _show_empty(self, empty: bool) -> None:
        """Before a result: no ticks, no axis names, the empty-state line in both plots."""
        for t in self.empty_texts:
            t.set_visible(empty)
        if empty:
            for ax in (self.ax_sim, self.ax_map):
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_xlabel("")
                ax.set_ylabel("")

    @property
    def has_data(self) -> bool:
        return self.result is not None

    def show_result(self, result) -> None:
        self.result = result
        from matplotlib.ticker import AutoLocator

        self._show_empty(False)
        self.ax_map.xaxis.set_major_locator(AutoLocator())  # the empty state took the map's ticks away
        self.ax_map.yaxis.set_major_locator(AutoLocator())
        n = len(result.words)
        labels = [short(w, 12) for w in result.words]
        self.sim_image.set_data(result.similarity)
        self.sim_image.set_extent((-0.5, n - 0.5, n - 0.5, -0.5))
        self.ax_sim.set_xticks(range(n), labels, rotation=90, fontsize=8)
        self.ax_sim.set_yticks(range(n), labels, fontsize=8)
        for t in self.cell_texts + self.point_texts:
            t.remove()
        self.cell_texts, self.point_texts = [], []
        if n <= ANNOTATE_UP_TO:
            for i in range(n):
                for j in range(n):
                    v = float(result.similarity[i, j])
                    self.cell_texts.append(self.ax_sim.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6.5,
                                                            color="white" if abs(v) > 0.6 else "black"))
        xy = result.coords
        self.scatter.set_offsets(xy)
        pad = 0.15 * (np.ptp(xy, axis=0) + 1e-6)
        for (x, y), w, (dx, dy) in zip(xy, result.words, label_offsets(xy)):
            self.point_texts.append(self.ax_map.annotate(w, (x, y), xytext=(dx, dy), textcoords="offset points",
                                                         fontsize=9, ha="left" if dx > 0 else "right",
                                                         va="bottom" if dy > 0 else "top"))
        self.ax_map.set_xlim(xy[:, 0].min() - pad[0], xy[:, 0].max() + pad[0] * 2)
        self.ax_map.set_ylim(xy[:, 1].min() - pad[1], xy[:, 1].max() + pad[1])
        a, b = result.explained
        self.ax_map.set_xlabel(f"direction 1 ({a:.0%} of the spread)", fontsize=8)
        self.ax_map.set_ylabel(f"direction 2 ({b:.0%})", fontsize=8)
        split = [f"{w} → {' · '.join(p)}" for w, p in zip(result.words, result.pieces) if len(p) > 1]
        self.pieces_label.setText("Cut into several tokens (their vectors are averaged): " + "; ".join(split)
                                  if split else "Every word is a single token here.")
        self.canvas.draw_idle()

    def _on_motion(self, event) -> None:
        r = self.result
        if r is None or event.xdata is None:
            return
        if event.inaxes is self.ax_sim:
            i, j = round(event.ydata), round(event.xdata)
            if 0 <= i < len(r.words) and 0 <= j < len(r.words):
                self.hover.setText(f"'{r.words[i]}' ↔ '{r.words[j]}': cosine similarity "
                                   f"{float(r.similarity[i, j]):.3f}")
        elif event.inaxes is self.ax_map:
            hit, info = self.scatter.contains(event)
            if hit:
                self.hover.setText(self.point_text(int(info["ind"][0])))

    def point_text(self, i: int) -> str:
        """What a point of the map stands for: its word, place and closest words by cosine similarity
        (the map is only a flat shadow of the vectors, so the true neighbours are worth saying)."""
        r = self.result
        order = [j for j in np.argsort(-r.similarity[i]) if j != i][:3]
        near = ", ".join(f"'{r.words[j]}' {float(r.similarity[i, j]):.2f}" for j in order)
        x, y = (float(v) for v in r.coords[i])
        return f"'{r.words[i]}' at ({x:.2f}, {y:.2f}); most alike: {near}"

    # export ----------------------------------------------------------------------------------
    def export_png(self, path: str) -> None:
        self.figure.savefig(path, dpi=150)

    def export_csv(self, path: str) -> None:
        r = self.result
        rows = matrix_rows(r.similarity, r.words, r.words, corner="cosine similarity")
        rows += [[], ["word", "pca_x", "pca_y", "tokens"]]
        rows += [[w, f"{x:.6g}", f"{y:.6g}", " ".join(p)] for w, (x, y), p in zip(r.words, r.coords, r.pieces)]
        write_csv(path, rows)
