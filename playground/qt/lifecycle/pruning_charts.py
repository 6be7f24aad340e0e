"""The Pruning section's one figure: which weights go (a histogram of magnitudes with the cut marked, and
one matrix's mask or the heads / layers kept) and, after a sweep, quality against sparsity for each kind."""

from __future__ import annotations

from playground.qt.lifecycle.common import make_canvas

CURVE_EMPTY = "Press Sweep: each kind of pruning at\n0-90%, one curve per kind."


class PruningCharts:
    """Three axes made once and updated in place: ``hist`` (magnitudes and the cut), ``mask`` (the mask
    picture) and ``curve`` (perplexity against sparsity, one line per method)."""

    def __init__(self) -> None:
        self.figure, self.canvas = make_canvas(5.2, 5.6)
        grid = self.figure.add_gridspec(2, 2, height_ratios=(1, 1.15))
        self.hist = self.figure.add_subplot(grid[0, 0])
        self.mask = self.figure.add_subplot(grid[0, 1])
        self.curve = self.figure.add_subplot(grid[1, :])
        self.hist.set_xlabel("|weight|")
        self.hist.set_ylabel("weights (sample)")
        self.hist.set_title("|w| and the cut", fontsize=8)
        self.mask.set_title("mask", fontsize=8)
        self.mask.set_xticks([])
        self.mask.set_yticks([])
        self.curve.set_xlabel("sparsity (share removed)")
        self.curve.set_ylabel("perplexity (log)")
        self.curve.set_yscale("log")
        self.curve.set_visible(False)  # no empty axes: a sentence says what will appear here
        from playground.qt.design import current_colours

        self.curve_note = self.figure.text(0.5, 0.27, CURVE_EMPTY, ha="center", va="center", fontsize=9,
                                           color=current_colours().lesson)
        self.cut_line = None
        self.image = None
        self.lines: dict[str, object] = {}
        from playground.qt.widgets.plot import EmptyState

        self.empty = EmptyState(self.figure, "Which weights go (a histogram of their magnitudes with the cut\n"
                                             "marked, and one matrix's mask) appears here once a run starts;\n"
                                             "Sweep adds quality against sparsity for each kind.")

    def show_magnitudes(self, values) -> None:
        """The histogram of the dense model's weight magnitudes (a sample), drawn once per model."""
        import numpy as np

        self.hist.cla()
        self.hist.hist(np.asarray(values), bins=80, log=True)
        self.hist.set_xlabel("|weight|")
        self.hist.set_ylabel("weights (sample)")
        self.hist.set_title("|w| and the cut", fontsize=8)
        self.cut_line = None
        self.empty.show(False)
        self.canvas.draw_idle()

    def show_row(self, row) -> None:
        """Mark the row's cut on the histogram (unstructured) and show its mask picture."""
        from playground.qt.design import CHART_COLOURS

        if self.cut_line is not None:
            self.cut_line.remove()
            self.cut_line = None
        if row.cut > 0:
            self.cut_line = self.hist.axvline(row.cut, color=CHART_COLOURS[3], linewidth=1.5,
                                              label=f"cut {row.cut:.3g}")
            self.hist.set_title(f"|w|: the {row.sparsity:.0%} left of the cut go", fontsize=8)
        else:
            self.hist.set_title("|w| (no cut: whole pieces go)", fontsize=8)
        if row.picture:
            if self.image is not None:
                self.image.remove()
            self.image = self.mask.imshow(row.picture, cmap="viridis", vmin=0, vmax=1, aspect="auto",
                                          interpolation="nearest")
            self.mask.set_title(row.picture_title, fontsize=8)
        self.empty.show(False)
        self.canvas.draw_idle()

    def show_curves(self, rows) -> None:
        """Perplexity against sparsity, one line per method, the dense model at 0% on every line."""
        from playground.qt.design import CHART_COLOURS

        dense = next((r for r in rows if r.method == "dense"), None)
        methods = list(dict.fromkeys(r.method for r in rows if r.method != "dense"))
        for line in self.lines.values():
            line.remove()
        self.lines = {}
        from playground.core.lifecycle.pruning import METHODS

        for i, method in enumerate(methods):
            mine = sorted((r for r in rows if r.method == method), key=lambda r: r.sparsity)
            points = ([(0.0, dense.perplexity)] if dense is not None else []) + [(r.sparsity, r.perplexity)
                                                                                  for r in mine]
            xs, ys = zip(*points)
            (self.lines[method],) = self.curve.plot(xs, ys, marker="o", color=CHART_COLOURS[i % len(CHART_COLOURS)],
                                                    label=METHODS[method].label)
        self.curve_note.set_visible(not methods)
        self.curve.set_visible(bool(methods))
        if methods:
            self.curve.legend(fontsize=8, loc="upper left")
            self.curve.relim()
            self.curve.autoscale_view()
            self.curve.xaxis.set_major_formatter(_percent())
        self.empty.show(False)
        self.canvas.draw_idle()


def _percent():
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0)
