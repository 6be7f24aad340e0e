"""The Distillation section's charts: the two students' training losses, the teacher's and the
student's next-token bars on one context with the KL per token, and the teacher's soft targets at
T = 1 and at the chosen T. Each is made once and updated in place."""

from __future__ import annotations

from playground.qt.lifecycle.common import make_canvas


def _colours():
    from playground.qt.design import CHART_COLOURS, DARK_CHART_COLOURS, is_dark

    return DARK_CHART_COLOURS if is_dark() else CHART_COLOURS


class LossView:
    """Loss per step: the soft student's mix and its two parts, and the hard-label student's loss."""

    SERIES = (("soft", "loss"), ("soft", "ce"), ("soft", "kl"), ("hard", "ce"))
    NAMES = {("soft", "loss"): "soft targets: the mixed loss", ("soft", "ce"): "soft targets: its CE on the labels",
             ("soft", "kl"): "soft targets: its KL to the teacher (T)", ("hard", "ce"): "hard labels only: CE"}

    def __init__(self) -> None:
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.5, 3.4)
        self.ax = self.figure.add_subplot(111)
        self.ax.set_xlabel("optimizer step")
        self.ax.set_ylabel("loss per summary token (nats)")
        from matplotlib.ticker import MaxNLocator

        self.ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
        c = _colours()
        styles = {("soft", "loss"): (c[0], "-"), ("soft", "ce"): (c[0], ":"), ("soft", "kl"): (c[2], "--"),
                  ("hard", "ce"): (c[1], "-")}
        self.lines = {key: self.ax.plot([], [], color=styles[key][0], linestyle=styles[key][1],
                                        label=self.NAMES[key])[0] for key in self.SERIES}
        self.ax.legend(loc="upper right", fontsize=7)
        self.data = {key: ([], []) for key in self.SERIES}
        self.empty = EmptyState(self.figure, "The two students' losses appear here, step by step,\n"
                                             "once training starts.")

    def clear(self) -> None:
        for key in self.SERIES:
            self.data[key] = ([], [])
            self.lines[key].set_data([], [])
        self.empty.show(True)
        self.canvas.draw_idle()

    def add(self, kind: str, step: int, loss: float, kl: float, ce: float) -> None:
        values = {"loss": loss, "ce": ce, "kl": kl}
        for (k, part), (xs, ys) in self.data.items():
            if k == kind:
                xs.append(step)
                ys.append(values[part])
                self.lines[(k, part)].set_data(xs, ys)
        self.empty.show(False)
        self.ax.relim()
        self.ax.autoscale_view()
        self.canvas.draw_idle()


class NextTokenChart:
    """Teacher and student side by side on the next token, and the KL between them at every position."""

    def __init__(self) -> None:
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.5, 3.6)
        self.bars_ax = self.figure.add_subplot(211)
        self.kl_ax = self.figure.add_subplot(212)
        self.empty = EmptyState(self.figure, "The teacher's and the student's next-token probabilities\n"
                                             "on the context above appear here, with the KL per token.")
        self.view = None

    def show_view(self, view, title: str) -> None:
        import numpy as np

        self.view = view
        c = _colours()
        ax = self.bars_ax
        ax.clear()
        y = np.arange(len(view.tokens))
        ax.barh(y - 0.2, view.teacher, 0.4, color=c[0], label="teacher")
        if view.student:
            ax.barh(y + 0.2, view.student, 0.4, color=c[1], label="student")
        ax.set_yticks(y, [repr(t)[1:-1] for t in view.tokens], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlabel("probability of the next token (T = 1)")
        ax.set_title(title, fontsize=8)
        ax.legend(loc="lower right", fontsize=7)
        ax = self.kl_ax
        ax.clear()
        if view.kl_per_token:
            x = np.arange(len(view.kl_per_token))
            ax.bar(x, view.kl_per_token, color=c[2])
            ax.set_xticks(x, [repr(t)[1:-1] for t in view.context_tokens], rotation=60, fontsize=6, ha="right")
            ax.set_ylabel("KL (nats)", fontsize=8)
            ax.set_title("KL(teacher ‖ student) after each context token", fontsize=8)
        else:
            ax.text(0.5, 0.5, "No student yet: train one to see the KL per token.", ha="center", va="center",
                    transform=ax.transAxes, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        self.empty.show(False)
        self.canvas.draw_idle()


class SoftTargetsChart:
    """The teacher's top next tokens at T = 1 and at the chosen T: what a higher T brings out."""

    def __init__(self) -> None:
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.5, 3.4)
        self.ax = self.figure.add_subplot(111)
        self.empty = EmptyState(self.figure, "The teacher's soft targets at T = 1 and at your T appear here:\n"
                                             "the small probabilities a higher T makes visible.")

    def show_view(self, view) -> None:
        import numpy as np

        c = _colours()
        ax = self.ax
        ax.clear()
        y = np.arange(len(view.soft_tokens))
        ax.barh(y - 0.2, view.soft_t1, 0.4, color=c[0], label=f"T = 1 (outside the top token: {view.rest_t1:.0%})")
        ax.barh(y + 0.2, view.soft_t, 0.4, color=c[3],
                label=f"T = {view.temperature:g} (outside the top token: {view.rest_t:.0%})")
        ax.set_yticks(y, [repr(t)[1:-1] for t in view.soft_tokens], fontsize=7)
        ax.invert_yaxis()
        # A log axis: at T > 1 over a vocabulary of tens of thousands the targets are small, and the lesson
        # is in their ratios (how much closer the runners-up come to the top token), which a log axis shows.
        ax.set_xscale("log")
        ax.set_xlabel("teacher's probability (the student's target), log scale")
        ax.legend(loc="lower right", fontsize=7)
        self.empty.show(False)
        self.canvas.draw_idle()
