"""A grouped bar chart of probabilities before and after a change (a grammar mask), shared by the
Structured output and ReAct sections: the Sampling tab's next-token idea (the model's bars beside the bars
actually used), drawn with the design module's chart colours. Made once; ``show`` redraws it in place."""

from __future__ import annotations

import numpy as np


class BeforeAfterChart:
    """``figure``/``canvas`` from the shared ``make_canvas``; ``show(labels, before, after, title)``."""

    def __init__(self, empty: str, before_label: str = "the model's probability",
                 after_label: str = "after the grammar's mask (renormalized)", ylabel: str = "probability") -> None:
        from playground.qt.widgets.plot import EmptyState, make_canvas

        self.figure, self.canvas = make_canvas(5.0, 3.4, min_size=(260, 220))
        self.ax = self.figure.add_subplot(111)
        self.before_label, self.after_label, self.ylabel = before_label, after_label, ylabel
        self.empty = EmptyState(self.figure, empty)
        self.shown: tuple = ()
        from playground.qt.widgets.make import note_label

        self.caption = note_label()  # the long sentence about the bars, above the chart (a title would be cut)
        self.caption.setWordWrap(True)

    def show(self, labels: list[str], before: list[float], after: list[float] | None, title: str,
             marked: int | None = None, caption: str = "") -> None:
        """Bars for each label, a short ``title``, the ``caption`` sentence above the chart; ``marked`` is the
        index of the chosen token (drawn with an edge)."""
        self.caption.setText(caption)
        from playground.qt.design import CHART_COLOURS, current_colours

        ax = self.ax
        ax.clear()
        x = np.arange(len(labels))
        width = 0.4 if after is not None else 0.7
        bars = ax.bar(x - (width / 2 if after is not None else 0), before, width, color=CHART_COLOURS[0],
                      alpha=0.45 if after is not None else 0.9, label=self.before_label)
        if after is not None:
            after_bars = ax.bar(x + width / 2, after, width, color=CHART_COLOURS[1], label=self.after_label)
            removed = [i for i, v in enumerate(after) if v == 0 and before[i] > 0]
            for i in removed:  # a forbidden token: its after-bar is zero, say so on the axis
                ax.text(x[i] + width / 2, 0, "×", ha="center", va="bottom", color=current_colours().error,
                        fontsize=10)
            if marked is not None and 0 <= marked < len(after_bars):
                after_bars[marked].set_edgecolor(current_colours().text)
                after_bars[marked].set_linewidth(1.5)
        elif marked is not None and 0 <= marked < len(bars):
            bars[marked].set_edgecolor(current_colours().text)
            bars[marked].set_linewidth(1.5)
        ax.set_xticks(x, [_short(t) for t in labels], rotation=45, ha="right")
        ax.set_ylabel(self.ylabel)
        ax.set_ylim(0, max([*before, *(after or []), 0.05]) * 1.15)
        ax.set_title(title, fontsize=9)
        ax.legend(loc="upper right")
        self.shown = (list(labels), list(before), list(after) if after is not None else None)
        self.empty.show(False)
        self.canvas.draw_idle()

    def clear(self) -> None:
        self.ax.clear()
        self.shown = ()
        self.caption.setText("")
        self.empty.show(True)
        self.canvas.draw_idle()


def _short(label: str, n: int = 10) -> str:
    label = label.replace("\n", "\\n")
    return label if len(label) <= n else label[:n - 1] + "…"
