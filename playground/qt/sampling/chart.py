"""The next-token bar chart: the model's softmax next to the distribution after the settings.

Built once. The axes, token labels and legend are drawn only when the step shown changes (or the
widget resizes) and kept as a background image; a slider move restores that image and draws only
the bars and lines on top (blitting), because drawing the ~60 labels again costs a frame or more.
"""

from __future__ import annotations

import html
import warnings

import numpy as np
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.transforms import Bbox, blended_transform_factory
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QSizePolicy, QToolTip

PLAIN = "#a9c4e2"       # the model's own probabilities
FINAL = "#e8772e"       # after temperature / top-k / top-p, renormalized
CUT_K = "#b4b4b4"       # removed by top-k (or by greedy)
CUT_P = "#dadada"       # removed by top-p
CUMULATIVE = "#3b6ea8"
WIDTH = 0.42
LABEL_CHARS = 12         # longer token labels are cut with "…"
LABEL_POINTS = 9
STATE_NAMES = ("kept", "cut by top-k (or greedy)", "cut by top-p")

# Vocabularies hold tokens from every script; a glyph the font lacks is drawn as a box, which is
# fine here, so its warning (repeated on every draw) is only noise.
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)


def _rects(left: np.ndarray, width: float, heights: np.ndarray) -> np.ndarray:
    """Vertices of bars as an (n, 4, 2) array, for a PolyCollection."""
    n = len(left)
    verts = np.empty((n, 4, 2))
    verts[:, 0, 0] = verts[:, 1, 0] = left
    verts[:, 2, 0] = verts[:, 3, 0] = left + width
    verts[:, 0, 1] = verts[:, 3, 1] = 0.0
    verts[:, 1, 1] = verts[:, 2, 1] = heights
    return verts


class _ChartFigure(Figure):
    """A figure whose saved image (the session handout) includes the blitted bars and lines."""

    animated: tuple = ()  # the chart's animated artists, set by DistributionChart

    def savefig(self, *args, **kwargs):
        # Animated artists are left out of a normal draw: they are painted only by the blit.
        for artist in self.animated:
            artist.set_animated(False)
        try:
            return super().savefig(*args, **kwargs)
        finally:
            for artist in self.animated:
                artist.set_animated(True)
            # Saving drew the figure at another size and dpi: the kept background is stale.
            invalidate = getattr(self.canvas, "invalidate", None)
            if invalidate is not None:
                invalidate()


class DistributionChart(FigureCanvasQTAgg):
    """Bars for the top ``n_bars`` tokens of one step, updated in place."""

    sig_token_clicked = Signal(int)
    """the token id of the bar the user clicked (to force that token)"""

    def __init__(self, n_bars: int = 30, parent=None) -> None:
        self.n_bars = n_bars
        from playground.qt.design import apply_chart_style, current_colours

        apply_chart_style()  # the app's chart style, in the theme on show
        self._background = current_colours().figure
        fig = _ChartFigure(figsize=(9, 4.2), dpi=100, facecolor=self._background)
        super().__init__(fig)
        self.setParent(parent)
        # As tall as the room left (its 4.2-inch preferred height would make the tab scroll at 1200x800),
        # never below a readable 240 px.
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.setMinimumHeight(240)
        # Margins in points, set by _fit_margins: a layout engine would re-measure every label
        # on every draw.
        ax = self.ax = fig.add_subplot(111)
        self._x = np.arange(n_bars, dtype=float)
        zeros = np.zeros(n_bars)
        # Bars as two polygon collections: one draw call each instead of one per bar.
        self.plain_bars = PolyCollection(_rects(self._x - WIDTH, WIDTH, zeros), facecolors=PLAIN,
                                         edgecolors="none", animated=True)
        self.final_bars = PolyCollection(_rects(self._x, WIDTH, zeros), facecolors=FINAL,
                                         edgecolors="none", animated=True)
        ax.add_collection(self.plain_bars)
        ax.add_collection(self.final_bars)
        # Veils of the background colour over the labels of cut tokens grey them out without redrawing the text.
        # They reach from the figure's bottom edge to the axes (see _fit_margins).
        below = blended_transform_factory(ax.transData, fig.transFigure)
        self.label_veils = PolyCollection(_rects(self._x - 0.5, 1.0, np.zeros(n_bars)), facecolors=(1, 1, 1, 0),
                                          edgecolors="none", transform=below, clip_on=False, animated=True)
        ax.add_collection(self.label_veils, autolim=False)
        (self.cumulative_line,) = ax.plot(self._x, zeros, color=CUMULATIVE, linewidth=1.4, marker="o",
                                          markersize=2.5, zorder=4, animated=True)
        self.top_p_line = ax.axhline(1.0, color=CUMULATIVE, linestyle="--", linewidth=1.0, zorder=3,
                                     animated=True)
        self._animated = [self.plain_bars, self.final_bars, self.cumulative_line, self.top_p_line,
                          self.label_veils]
        fig.animated = tuple(self._animated)
        ax.set_xlim(-0.6, n_bars - 0.4)
        ax.set_ylim(0, 1.04)
        ax.set_ylabel("probability")
        ax.set_xticks(self._x)
        ax.set_xticklabels([""] * n_bars, rotation=90, ha="center", va="top", fontsize=LABEL_POINTS,
                           family="monospace")
        ax.tick_params(axis="x", length=0, pad=3)
        ax.grid(axis="y", color="#eeeeee", linewidth=0.8)
        ax.set_axisbelow(True)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        self._legend = None
        self._legend_rows = 0
        self._plain_rgba = np.array([to_rgba(c) for c in (PLAIN, CUT_K, CUT_P)])
        self._background = None
        self.token_ids: list[int] = []
        self._labels: list[str] = []
        self._plain = self._final = np.zeros(0)
        self._cut = np.zeros(0, dtype=int)
        self.values_version = 0    # bumped by every set_values
        self.painted_version = -1  # the version last put on screen (for the latency bench)
        self.mpl_connect("draw_event", self._on_draw)
        self.mpl_connect("button_press_event", self._on_click)
        self.mpl_connect("motion_notify_event", self._on_motion)

    # data ---------------------------------------------------------------------------------
    def set_tokens(self, token_ids: list[int], labels: list[str], chosen: int | None = None) -> None:
        """Which tokens the bars stand for; changes only when the step shown changes (full draw)."""
        self.token_ids = list(token_ids)
        self._labels = [lab if len(lab) <= LABEL_CHARS else lab[:LABEL_CHARS - 1] + "…" for lab in labels]
        shown = self._labels + [""] * (self.n_bars - len(self._labels))
        ticks = self.ax.set_xticklabels(shown[: self.n_bars])
        for i, t in enumerate(ticks):
            t.set_fontweight("bold" if i == chosen else "normal")
        self._background = None
        self.draw_idle()

    def set_values(self, plain: np.ndarray, final: np.ndarray, cut: np.ndarray,
                   cumulative: np.ndarray | None, top_p: float | None, chosen: int | None = None) -> None:
        """Update heights and colours in place, then blit (or draw everything if needed).

        Parameters
        ----------
        plain, final
            Probabilities of the shown tokens before and after the settings.
        cut
            0 kept, 1 cut by top-k or greedy, 2 cut by top-p.
        cumulative
            The running sum top-p looks at, or None to hide it (greedy).
        top_p
            Where top-p cuts, or None when it is off.
        chosen
            Position of the token chosen at this step, outlined; None for none.
        """
        n = len(plain)
        self._plain, self._final, self._cut = plain, final, np.asarray(cut, dtype=int)
        heights_p = np.zeros(self.n_bars)
        heights_f = np.zeros(self.n_bars)
        heights_p[:n], heights_f[:n] = plain, final
        state = np.zeros(self.n_bars, dtype=int)
        state[:n] = self._cut
        self.plain_bars.set_verts(_rects(self._x - WIDTH, WIDTH, heights_p))
        self.final_bars.set_verts(_rects(self._x, WIDTH, heights_f))
        self.plain_bars.set_facecolor(self._plain_rgba[state])
        widths = np.zeros(self.n_bars)
        if chosen is not None and 0 <= chosen < self.n_bars:
            widths[chosen] = 1.6
        for coll in (self.plain_bars, self.final_bars):
            coll.set_edgecolor("#111111")
            coll.set_linewidth(widths)
        from matplotlib.colors import to_rgb

        veils = np.zeros((self.n_bars, 4))
        veils[:, :3] = to_rgb(self.figure.get_facecolor())  # the veil greys a label toward the background
        veils[:n, 3] = np.where(self._cut > 0, 0.62, 0.0)
        self.label_veils.set_facecolor(veils)
        if cumulative is None:
            self.cumulative_line.set_visible(False)
        else:
            self.cumulative_line.set_visible(True)
            self.cumulative_line.set_data(np.arange(len(cumulative)), cumulative)
        self.top_p_line.set_visible(top_p is not None)
        if top_p is not None:
            self.top_p_line.set_ydata([top_p, top_p])
        self.values_version += 1
        self._blit_or_draw()

    def clear(self) -> None:
        self.set_tokens([], [])
        zeros = np.zeros(0)
        self.set_values(zeros, zeros, np.zeros(0, dtype=int), None, None)

    # drawing --------------------------------------------------------------------------------
    def _set_legend(self, rows: int) -> None:
        """The legend in one row, or in two when the chart is narrow."""
        if rows == self._legend_rows:
            return
        if self._legend is not None:
            self._legend.remove()
        handles = [Patch(color=PLAIN, label="model (softmax)"),
                   Patch(color=FINAL, label="after your settings"),
                   Patch(color=CUT_K, label="cut by top-k / greedy"),
                   Patch(color=CUT_P, label="cut by top-p"),
                   Line2D([], [], color=CUMULATIVE, marker="o", markersize=3,
                          label="cumulative (what top-p adds up)"),
                   Line2D([], [], color=CUMULATIVE, linestyle="--", label="top-p cut-off")]
        self._legend = self.figure.legend(handles=handles, loc="upper right", ncols=6 // rows, fontsize=8,
                                          frameon=False, bbox_to_anchor=(0.99, 1.0), handlelength=1.2,
                                          columnspacing=1.2)
        self._legend_rows = rows

    def _fit_margins(self) -> None:
        """Margins that hold the legend, the y label and the longest token label at any size."""
        fig = self.figure
        w_pt, h_pt = fig.bbox.width * 72 / fig.dpi, fig.bbox.height * 72 / fig.dpi
        if w_pt < 50 or h_pt < 50:
            return
        rows = 1 if w_pt >= 640 else 2  # one row of the legend is about 600 points wide
        self._set_legend(rows)
        labels_pt = LABEL_CHARS * 0.62 * LABEL_POINTS + 10  # monospace: ~0.6 em per character
        bottom = min(0.45, labels_pt / h_pt)
        fig.subplots_adjust(left=min(0.2, 46 / w_pt), right=1 - min(0.05, 8 / w_pt),
                            top=1 - min(0.4, (14 + 14 * rows) / h_pt), bottom=bottom)
        verts = _rects(self._x - 0.5, 1.0, np.full(self.n_bars, bottom - 0.002))
        self.label_veils.set_verts(verts)

    def draw(self) -> None:
        self._fit_margins()
        super().draw()

    def _on_draw(self, event) -> None:
        """After a full draw: keep the background, then paint the moving parts on it."""
        self._background = self.copy_from_bbox(self.figure.bbox)
        # Only the axes and the label veils below them change on a slider move: repaint that.
        box = self.ax.bbox
        self._blit_box = Bbox.from_extents(box.x0 - 2, 0, box.x1 + 2, min(self.figure.bbox.y1, box.y1 + 2))
        self._draw_animated()

    def _draw_animated(self) -> None:
        for artist in self._animated:
            self.ax.draw_artist(artist)

    def _blit_or_draw(self) -> None:
        if self._background is None or getattr(self, "_draw_pending", False):
            self.draw_idle()
            return
        self.restore_region(self._background)
        self._draw_animated()
        self.blit(self._blit_box)

    def invalidate(self) -> None:
        """Forget the kept background and draw everything again (soon)."""
        self._background = None
        self.draw_idle()

    def resizeEvent(self, event) -> None:
        self._background = None
        super().resizeEvent(event)

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        self.painted_version = self.values_version

    # interaction ---------------------------------------------------------------------------
    def _index_at(self, event) -> int | None:
        if event.inaxes is not self.ax or event.xdata is None:
            return None
        i = round(event.xdata)
        return i if 0 <= i < len(self.token_ids) else None

    def _on_click(self, event) -> None:
        i = self._index_at(event)
        if i is not None and event.button == 1:
            self.sig_token_clicked.emit(self.token_ids[i])

    def _on_motion(self, event) -> None:
        i = self._index_at(event)
        if i is None or i >= len(self._plain):
            QToolTip.hideText()
            return
        text = (f"<b>{html.escape(self._labels[i])}</b> (id {self.token_ids[i]})<br>model: {self._plain[i]:.2%}"
                f"<br>after settings: {self._final[i]:.2%} · {STATE_NAMES[int(self._cut[i])]}"
                "<br><i>click to force this token</i>")
        from PySide6.QtGui import QCursor

        QToolTip.showText(QCursor.pos(), text, self)
