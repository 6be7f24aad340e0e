"""The Benchmarks section's two charts: accuracy per benchmark (systems side by side, acc and acc_norm with
their 95% intervals, chance marked), and one item's choices (total log-likelihood and per byte, gold and
picks marked). Both are made once and redrawn in place."""

from __future__ import annotations

from playground.qt.widgets.plot import make_canvas


def _short(text: str, most: int = 38) -> str:
    text = " ".join(text.split())
    return text if len(text) <= most else text[: most - 1] + "…"


class AccuracyChart:
    """Grouped bars: one group per benchmark, one pair of bars per system (acc solid, acc_norm hatched),
    Wilson 95% intervals as error bars, the chance level as a dashed line across each group."""

    def __init__(self) -> None:
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.5, 3.0, min_size=(240, 180))
        self.canvas.setToolTip("acc: the choice with the highest total log-likelihood; acc_norm: the highest per "
                               "byte. Whiskers: Wilson 95% intervals. Dashed: the chance level (guessing).")
        self.ax = self.figure.add_subplot(111)
        self.empty = EmptyState(self.figure, "Accuracy per benchmark appears here, systems side by side,\n"
                                             "once a run scores its first items.")
        self.draw({}, {})

    def draw(self, summary: dict, titles: dict) -> None:
        from playground.qt.design import CHART_COLOURS, current_colours

        ax = self.ax
        ax.clear()
        self.empty.show(not summary)
        benches = list(dict.fromkeys(b for _, b in summary))
        systems = list(dict.fromkeys(s for s, _ in summary))
        ax.set_ylim(0, 100)
        ax.set_ylabel("accuracy (%)")
        if not summary:
            ax.set_xticks([])
            self.canvas.draw_idle()
            return
        width = 0.8 / (2 * len(systems))
        edge = current_colours().edge
        for si, system in enumerate(systems):
            colour = CHART_COLOURS[si % len(CHART_COLOURS)]
            for mi, metric in enumerate(("acc", "acc_norm")):
                xs, ys, lows, highs = [], [], [], []
                for bi, bench in enumerate(benches):
                    acc = summary.get((system, bench))
                    if acc is None:
                        continue
                    value = acc.acc if metric == "acc" else acc.acc_norm
                    low, high = acc.interval if metric == "acc" else acc.interval_norm
                    xs.append(bi - 0.4 + width * (2 * si + mi + 0.5))
                    ys.append(100 * value)
                    lows.append(max(0.0, 100 * (value - low)))  # rounding can put a bound a hair past
                    highs.append(max(0.0, 100 * (high - value)))
                ax.bar(xs, ys, width, color=colour, alpha=1.0 if mi == 0 else 0.45, hatch=None if mi == 0 else "//",
                       edgecolor=colour, label=f"{system} · {metric}")
                ax.errorbar(xs, ys, yerr=[lows, highs], fmt="none", ecolor=edge, elinewidth=0.8, capsize=2)
        for bi, bench in enumerate(benches):
            chance = next(a.chance for (s, b), a in summary.items() if b == bench)
            ax.hlines(100 * chance, bi - 0.45, bi + 0.45, colors=edge, linestyles="dashed", linewidth=1,
                      label="chance" if bi == 0 else None)
        ax.set_xticks(range(len(benches)))
        ax.set_xticklabels([_short(titles.get(b, b), 22) for b in benches])
        ax.set_xlim(-0.5, len(benches) - 0.5)
        ax.legend(loc="upper right", fontsize=7, ncol=2 if len(systems) > 1 else 1)
        self.canvas.draw_idle()


class ItemChart:
    """One item: each choice's total log-likelihood (left) and per byte (right); the gold choice green,
    acc's and acc_norm's picks marked."""

    def __init__(self) -> None:
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.5, 2.6, min_size=(240, 160))
        self.canvas.setToolTip("Each choice's log-likelihood after the context: the sum over its tokens (acc picks "
                               "the highest) and the same divided by its length in bytes (acc_norm picks the "
                               "highest). Closer to 0 is more likely.")
        self.left = self.figure.add_subplot(121)
        self.right = self.figure.add_subplot(122, sharey=self.left)
        self.empty = EmptyState(self.figure, "Pick an item in the table to see its choices' log-likelihoods.")
        self.draw(None)

    def draw(self, score) -> None:
        from playground.qt.design import current_colours

        for ax in (self.left, self.right):
            ax.clear()
        self.empty.show(score is None)
        if score is None:
            for ax in (self.left, self.right):
                ax.set_xticks([])
                ax.set_yticks([])
            self.canvas.draw_idle()
            return
        colours = current_colours()
        item = score.item
        ys = list(range(len(item.choices)))[::-1]
        colour = [colours.ok if i == item.gold else colours.placeholder for i in range(len(item.choices))]
        for ax, values, pick, title in ((self.left, score.logliks, score.pred, "total log-likelihood (acc)"),
                                        (self.right, score.per_byte, score.pred_norm, "per byte (acc_norm)")):
            ax.barh(ys, values, color=colour)
            ax.set_title(title)
            ax.axvline(0, color=colours.edge, linewidth=0.8)
            low = min(values)
            for y, v, i in zip(ys, values, range(len(values))):
                mark = "◀ picked" if i == pick else ""
                ax.annotate(f"{v:.2f} {mark}".strip(), (v, y), xytext=(3, 0), textcoords="offset points",
                            va="center", ha="left", fontsize=7, fontweight="bold" if i == pick else "normal")
            ax.set_xlim(low * 1.15, abs(low) * 0.35)
        self.left.set_yticks(ys)
        self.left.set_yticklabels([f"{i + 1}. {_short(c, 24)}" + (" ✓" if i == item.gold else "")
                                   for i, c in enumerate(item.choices)])
        self.right.tick_params(labelleft=False)
        self.canvas.draw_idle()
