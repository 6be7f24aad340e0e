"""The wizard's plots: the token-length histogram and the live loss curves. Built once, updated
in place."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

TRAIN_COLOUR, VAL_COLOUR, LR_COLOUR, MAX_COLOUR = "#4c72b0", "#dd8452", "#55a868", "#c44e52"


class _Canvas(QWidget):
    def __init__(self, figsize, parent=None) -> None:
        super().__init__(parent)
        from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)


class LengthHistogram(_Canvas):
    """Tokens per training example, with the chosen maximum as a red line."""

    def __init__(self, parent=None) -> None:
        super().__init__((5.5, 2.2), parent)
        self.canvas.setMinimumHeight(180)
        self.ax = self.figure.add_subplot(111)
        self.lengths: list[int] = []
        self.bars = None
        self.max_line = self.ax.axvline(512, color=MAX_COLOUR, linewidth=1.5, label="maximum length")
        self.max_text = self.ax.text(512, 1, " max", color=MAX_COLOUR, fontsize=8, va="top")
        self._style()

    def _style(self) -> None:
        self.ax.set_xlabel("tokens per example (prompt + summary)", fontsize=8)
        self.ax.set_ylabel("examples", fontsize=8)
        self.ax.tick_params(labelsize=8)
        self.ax.grid(axis="y", alpha=0.3)

    def set_lengths(self, lengths: list[int], max_length: int) -> None:
        """New data: the bars are rebuilt (only here, never while the maximum moves)."""
        import numpy as np

        self.lengths = list(lengths)
        if self.bars is not None:
            self.bars.remove()
            self.bars = None
        if self.lengths:
            hi = max(max(self.lengths), max_length)
            bins = np.linspace(0, hi * 1.05, 31)
            counts, edges = np.histogram(self.lengths, bins=bins)
            self.bars = self.ax.bar(edges[:-1], counts, width=np.diff(edges), align="edge", color=TRAIN_COLOUR,
                                    alpha=0.85)
            self.ax.set_xlim(0, edges[-1])
            self.ax.set_ylim(0, max(1, counts.max()) * 1.15)
        self.set_max(max_length)

    def set_max(self, max_length: int) -> None:
        self.max_line.set_xdata([max_length, max_length])
        over = sum(1 for n in self.lengths if n > max_length)
        top = self.ax.get_ylim()[1]
        self.max_text.set_position((max_length, top * 0.97))
        self.max_text.set_text(f" max {max_length}\n {over} longer")
        lo, hi = self.ax.get_xlim()
        if max_length > hi:
            self.ax.set_xlim(lo, max_length * 1.1)
        self.canvas.draw_idle()


class LossChart(_Canvas):
    """Training loss per step, validation loss at its steps, and the learning rate below."""

    def __init__(self, parent=None) -> None:
        super().__init__((6.0, 3.4), parent)
        self.canvas.setMinimumHeight(260)
        self.ax, self.lr_ax = self.figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        (self.train_line,) = self.ax.plot([], [], color=TRAIN_COLOUR, linewidth=1.2, label="training loss")
        (self.val_line,) = self.ax.plot([], [], color=VAL_COLOUR, marker="o", linewidth=1.2, markersize=4,
                                        label="validation loss")
        (self.lr_line,) = self.lr_ax.plot([], [], color=LR_COLOUR, linewidth=1.2)
        self.ax.set_ylabel("loss per summary token", fontsize=8)
        self.ax.legend(fontsize=7, loc="upper right", frameon=False)
        self.ax.grid(alpha=0.3)
        self.lr_ax.set_ylabel("learning rate", fontsize=8)
        self.lr_ax.set_xlabel("optimizer step", fontsize=8)
        self.lr_ax.grid(alpha=0.3)
        for ax in (self.ax, self.lr_ax):
            ax.tick_params(labelsize=8)
        self.lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        self.lr_ax.yaxis.get_offset_text().set_fontsize(7)
        self.clear()

    def clear(self) -> None:
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.val_steps: list[int] = []
        self.val_losses: list[float] = []
        self.total_steps = 0
        self._redraw()

    def set_total_steps(self, total: int) -> None:
        self.total_steps = int(total)
        self._rescale()

    def add_step(self, step: int, loss: float, lr: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        self.lrs.append(lr)
        self._redraw()

    def add_validation(self, step: int, loss: float) -> None:
        self.val_steps.append(step)
        self.val_losses.append(loss)
        self._redraw()

    def load_curves(self, train: list, validation: list) -> None:
        """Curves from a report or checkpoint: [[step, loss, lr], ...] and [[step, loss], ...]."""
        self.steps = [int(c[0]) for c in train]
        self.losses = [float(c[1]) for c in train]
        self.lrs = [float(c[2]) if len(c) > 2 else 0.0 for c in train]
        self.val_steps = [int(c[0]) for c in validation if c[1] is not None]
        self.val_losses = [float(c[1]) for c in validation if c[1] is not None]
        self._redraw()

    def _redraw(self) -> None:
        self.train_line.set_data(self.steps, self.losses)
        self.val_line.set_data(self.val_steps, self.val_losses)
        self.lr_line.set_data(self.steps, self.lrs)
        self._rescale()

    def _rescale(self) -> None:
        right = max([self.total_steps, *self.steps, *self.val_steps, 1])
        self.ax.set_xlim(0, right * 1.02)
        values = self.losses + self.val_losses
        if values:
            lo, hi = min(values), max(values)
            pad = (hi - lo) * 0.1 or 0.5
            self.ax.set_ylim(max(0.0, lo - pad), hi + pad)
        if self.lrs:
            self.lr_ax.set_ylim(0, max(self.lrs) * 1.15 or 1e-3)
        self.canvas.draw_idle()
