"""The wizard's plots: the token-length histogram and the live loss curves. Built once, updated
in place."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.qt.widgets.plot import lazy_canvas

TRAIN_COLOUR, VAL_COLOUR, LR_COLOUR, MAX_COLOUR = "#4c72b0", "#dd8452", "#55a868", "#c44e52"


class _Canvas(QWidget):
    def __init__(self, figsize, parent=None) -> None:
        super().__init__(parent)
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=figsize, layout="constrained")
        self.canvas = lazy_canvas(self.figure)
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
        from matplotlib.ticker import MaxNLocator

        self.ax.set_xlabel("tokens per example (prompt + summary)", fontsize=8)
        self.ax.set_ylabel("examples", fontsize=8)
        self.ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of examples are whole numbers
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
        lo, hi = self.ax.get_xlim()
        if max_length > hi:
            self.ax.set_xlim(lo, max_length * 1.1)
            lo, hi = self.ax.get_xlim()
        # The label sits on the side of the line with room for it, so it is never cut at the edge.
        right_half = max_length > lo + 0.6 * (hi - lo)
        self.max_text.set_position((max_length, top * 0.97))
        self.max_text.set_horizontalalignment("right" if right_half else "left")
        label = (f"max {max_length} ", f"{over} longer ") if right_half else (f" max {max_length}", f" {over} longer")
        self.max_text.set_text("\n".join(label))
        self.canvas.draw_idle()


class LossChart(_Canvas):
    """Training loss per step, validation loss at its steps, and the learning rate below.

    The curves are drawn with blitting: a new step redraws only the lines over a saved image of
    the axes, a few milliseconds on the GUI thread instead of a whole figure. The axes are laid
    out again (a full draw) only when the data leaves their limits.
    """

    def __init__(self, parent=None) -> None:
        super().__init__((6.0, 3.4), parent)
        self.canvas.setMinimumHeight(220)
        self.ax, self.lr_ax = self.figure.subplots(2, 1, sharex=True, height_ratios=[3, 1])
        (self.train_line,) = self.ax.plot([], [], color=TRAIN_COLOUR, linewidth=1.2, label="training loss",
                                          animated=True)
        (self.val_line,) = self.ax.plot([], [], color=VAL_COLOUR, marker="o", linewidth=1.2, markersize=4,
                                        label="validation loss", animated=True)
        (self.lr_line,) = self.lr_ax.plot([], [], color=LR_COLOUR, linewidth=1.2, animated=True)
        self.ax.set_ylabel("loss per summary token", fontsize=8)
        self.ax.legend(fontsize=7, loc="upper right", frameon=False)
        self.ax.grid(alpha=0.3)
        self.lr_ax.set_ylabel("learning rate", fontsize=8)
        self.lr_ax.set_xlabel("optimizer step", fontsize=8)
        self.lr_ax.grid(alpha=0.3)
        for ax in (self.ax, self.lr_ax):
            ax.tick_params(labelsize=8)
        self.lr_ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2))
        # Few ticks: the one full redraw during training (when the first loss sets the y-axis) is
        # mostly tick text, and it runs on the GUI thread.
        from matplotlib.ticker import MaxNLocator

        self.ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
        self.lr_ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
        self.lr_ax.yaxis.set_major_locator(MaxNLocator(nbins=2))
        self.lr_ax.yaxis.get_offset_text().set_fontsize(7)
        # Before any step: a sentence instead of empty axes (and no made-up learning-rate scale).
        self.empty_text = self.ax.text(0.5, 0.5, "The loss and the learning rate appear here\nonce training starts.",
                                       transform=self.ax.transAxes, ha="center", va="center", fontsize=9,
                                       color="#777777")
        self.background = None
        self.full_draws = 0
        self.canvas.mpl_connect("draw_event", self._on_full_draw)
        self.canvas.mpl_connect("resize_event", self._on_resize)
        self.clear()

    def clear(self) -> None:
        self.steps: list[int] = []
        self.losses: list[float] = []
        self.lrs: list[float] = []
        self.val_steps: list[int] = []
        self.val_losses: list[float] = []
        self.total_steps = 0
        self.peak_lr = 0.0
        self._y_fitted = self._lr_fitted = False
        self.ax.set_ylim(0.0, 1.0)  # no negative losses on the empty chart; the first value fits it
        from matplotlib.ticker import NullLocator

        self.lr_ax.set_ylim(0.0, 1.0)
        self.lr_ax.yaxis.set_major_locator(NullLocator())  # no scale until the run's learning rate is known
        self._update()

    def set_total_steps(self, total: int, peak_lr: float | None = None) -> None:
        self.total_steps = int(total)
        if peak_lr:
            self.peak_lr = float(peak_lr)
        self._update()

    def add_step(self, step: int, loss: float, lr: float) -> None:
        self.steps.append(step)
        self.losses.append(loss)
        self.lrs.append(lr)
        self._update()

    def add_validation(self, step: int, loss: float) -> None:
        self.val_steps.append(step)
        self.val_losses.append(loss)
        self._update()

    def load_curves(self, train: list, validation: list) -> None:
        """Curves from a report or checkpoint: [[step, loss, lr], ...] and [[step, loss], ...]."""
        self.steps = [int(c[0]) for c in train]
        self.losses = [float(c[1]) for c in train]
        self.lrs = [float(c[2]) if len(c) > 2 else 0.0 for c in train]
        self.val_steps = [int(c[0]) for c in validation if c[1] is not None]
        self.val_losses = [float(c[1]) for c in validation if c[1] is not None]
        self._y_fitted = self._lr_fitted = False
        self._update()

    # --- drawing ------------------------------------------------------------------------------------

    def _update(self) -> None:
        self.train_line.set_data(self.steps, self.losses)
        self.val_line.set_data(self.val_steps, self.val_losses)
        self.lr_line.set_data(self.steps, self.lrs)
        if self._fit_limits() or self.background is None:
            self.canvas.draw_idle()  # the axes change: a full draw (it saves a new background)
        else:
            self._blit()

    def _fit_limits(self) -> bool:
        """Widen (or, when the data shrank to a small part, tighten) the limits; True if they changed."""
        empty = not (self.steps or self.val_steps)
        changed = self.empty_text.get_visible() != empty
        self.empty_text.set_visible(empty)
        right = max([self.total_steps, *self.steps, *self.val_steps, 1])
        lo_x, hi_x = self.ax.get_xlim()
        want = right * 1.02 if self.total_steps else right * 1.5 + 1
        if right > hi_x or (self.total_steps and hi_x > want * 1.5):
            self.ax.set_xlim(0, want)
            changed = True
        values = self.losses + self.val_losses
        if values:
            # From 0 (a loss cannot go lower) to half again the highest value: a falling loss
            # never leaves the axes, so training steps cost no full draw.
            hi = max(values)
            if not self._y_fitted or hi > self.ax.get_ylim()[1]:
                self.ax.set_ylim(0.0, hi * 1.5 or 1.0)
                self._y_fitted = True
                changed = True
        top = max([self.peak_lr, *self.lrs, 0.0])
        if top > 0 and (not self._lr_fitted or top > self.lr_ax.get_ylim()[1]):
            from matplotlib.ticker import MaxNLocator

            self.lr_ax.set_ylim(0, top * 1.15)
            self.lr_ax.yaxis.set_major_locator(MaxNLocator(nbins=2))
            self._lr_fitted = True
            changed = True
        return changed

    def _on_resize(self, _event) -> None:
        self.background = None
        self.figure.set_layout_engine("constrained")  # lay out again for the new size, once

    def _on_full_draw(self, _event) -> None:
        # The layout engine runs on every full draw and costs about as much as the drawing: once
        # laid out for this size, keep the positions (a resize lays out again).
        if self.figure.get_layout_engine() is not None and self.canvas.width() > 1:
            self.figure.set_layout_engine("none")
        self.full_draws += 1
        self.background = self.canvas.copy_from_bbox(self.figure.bbox)
        self._draw_lines()

    def _draw_lines(self) -> None:
        self.ax.draw_artist(self.train_line)
        self.ax.draw_artist(self.val_line)
        self.lr_ax.draw_artist(self.lr_line)

    def _blit(self) -> None:
        if not self.canvas.isVisible():
            self.canvas.stale_while_hidden = True
            return
        self.canvas.restore_region(self.background)
        self._draw_lines()
        self.canvas.blit(self.figure.bbox)
