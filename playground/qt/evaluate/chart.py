"""The Evaluate tab's grouped bar chart: each system's ROUGE and BLEU (0-100) with interval whiskers."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.core.evaluation.metrics import METRIC_KEYS, METRIC_LABELS

COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")


class ScoreChart(QWidget):
    """A grouped bar chart (one group per metric, one bar per system) with interval whiskers.

    The figure is built once; new scores change bar heights in place. Only a change in the set of
    systems re-creates the bars (on the same axes).
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import make_canvas

        self.figure, self.canvas = make_canvas(5, 2.6, min_size=(220, 180))
        self.ax = self.figure.add_subplot(111)
        self.labels: list[str] = []
        self.bars: list = []
        self.whiskers: list = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._setup_axes()
        from playground.qt.widgets.plot import EmptyState

        self.empty = EmptyState(self.figure, "Each system's ROUGE and BLEU (0-100) appear here as bars,\n"
                                             "with their 95% intervals, once an evaluation runs.", axes=[self.ax])

    def _setup_axes(self) -> None:
        import numpy as np

        ax = self.ax
        ax.cla()
        # Slanted, so neighbouring labels never run together on a narrow chart ("ROUGE-1ROUGE-2…").
        ax.set_xticks(np.arange(len(METRIC_KEYS)), [METRIC_LABELS[k] for k in METRIC_KEYS], fontsize=8,
                      rotation=30, ha="right", rotation_mode="anchor")
        ax.set_ylabel("score (0-100)", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylim(0, 60)
        ax.grid(axis="y", alpha=0.3)

    def _build_bars(self, labels: list[str]) -> None:
        import numpy as np

        self._setup_axes()
        self.labels = list(labels)
        x = np.arange(len(METRIC_KEYS))
        width = 0.8 / max(1, len(labels))
        self.bars, self.whiskers = [], []
        for i, label in enumerate(labels):
            offset = (i - (len(labels) - 1) / 2) * width
            self.bars.append(self.ax.bar(x + offset, np.zeros(len(x)), width * 0.95, label=label,
                                         color=COLOURS[i % len(COLOURS)]))
            self.whiskers.append(self.ax.vlines(x + offset, 0, 0, colors="#222", linewidth=1))
        if labels:
            # Above the axes, so it never hides a bar.
            self.ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(labels)),
                           frameon=False)

    def set_scores(self, values: dict[str, dict[str, float]],
                   intervals: dict[str, dict[str, tuple[float, float]]] | None = None) -> None:
        """Bar heights per system and metric (0-100), and optional (low, high) whiskers."""
        labels = list(values)
        if labels != self.labels:
            self._build_bars(labels)
        top = 10.0
        for i, label in enumerate(labels):
            segments = []
            for j, key in enumerate(METRIC_KEYS):
                v = values[label].get(key, 0.0)
                bar = self.bars[i][j]
                bar.set_height(v)
                x = bar.get_x() + bar.get_width() / 2
                lo, hi = (intervals or {}).get(label, {}).get(key, (v, v))
                segments.append([(x, lo), (x, hi)])
                top = max(top, v, hi)
            self.whiskers[i].set_segments(segments)
        self.ax.set_ylim(0, min(100.0, top * 1.15 + 2))
        if hasattr(self, "empty"):
            self.empty.show(not any(values.get(label) for label in labels))
        self.canvas.draw_idle()
