"""Live curves of an align run (reward, KL, entropy, monitor ROUGE-L) and the reward-model
histograms: one figure each, lines updated in place (set_data + draw_idle)."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget


class AlignCurves(QWidget):
    """Four small plots sharing the step axis."""

    NAMES = (("reward", "reward (optimized)"), ("kl", "KL to reference"), ("entropy", "entropy (nats)"),
             ("monitor", "monitor ROUGE-L, 0-100 (not optimized)"))

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import make_canvas

        self.figure, self.canvas = make_canvas(6, 1.8, min_size=(260, 160))  # grows with the room it gets
        axes = self.figure.subplots(2, 2, sharex=True)
        self.axes, self.lines, self.data = {}, {}, {}
        for ax, (key, title) in zip(axes.flat, self.NAMES):
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=8)
            (self.lines[key],) = ax.plot([], [], marker="o", markersize=3)
            self.axes[key], self.data[key] = ax, ([], [])
        for ax in axes[1]:
            ax.set_xlabel("step", fontsize=8)
        from playground.qt.widgets.plot import EmptyState

        self.empty = EmptyState(self.figure, "The reward, the KL to the reference, the entropy and the monitor's\n"
                                             "ROUGE-L appear here, step by step, once you press Start.")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas)

    def clear(self) -> None:
        for key in self.data:
            self.data[key] = ([], [])
            self.lines[key].set_data([], [])
        self.empty.show(True)
        self.canvas.draw_idle()

    def add(self, key: str, step: int, value: float) -> None:
        xs, ys = self.data[key]
        xs.append(step)
        ys.append(value)
        self.lines[key].set_data(xs, ys)
        self.empty.show(False)
        ax = self.axes[key]
        ax.relim()
        ax.autoscale_view()
        self.canvas.draw_idle()

    def values(self, key: str) -> list:
        return list(self.data[key][1])


class RewardHistogram(QWidget):
    """Held-out scores of chosen vs rejected texts (redrawn when a reward model is trained)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import make_canvas

        self.figure, self.canvas = make_canvas(4, 2.2, min_size=(260, 120))
        self.ax = self.figure.add_subplot()
        self.ax.set_axis_off()
        self.ax.text(0.5, 0.5, "The rewards of the held-out pairs' chosen and rejected texts appear here\n"
                     "once a reward model is trained: the more they separate, the better it ranks.",
                     ha="center", va="center", fontsize=9, color="0.4", transform=self.ax.transAxes)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.canvas)

    def show_scores(self, chosen: list, rejected: list) -> None:
        self.ax.cla()
        self.ax.set_axis_on()
        self.ax.hist([chosen, rejected], bins=12, label=["chosen", "rejected"], color=["tab:green", "tab:red"],
                     alpha=0.7)
        self.ax.legend(fontsize=8)
        self.ax.set_xlabel("reward", fontsize=8)
        self.ax.set_ylabel("held-out texts", fontsize=8)
        self.canvas.draw_idle()
