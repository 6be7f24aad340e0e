"""The KV cache section's three charts, each made once and updated in place: the cache per layer with the
new token's attention over it, cache memory against context length, and time per token with vs without
the cache."""

from __future__ import annotations

import numpy as np

from playground.qt.lifecycle.common import make_canvas

MAX_TICKS = 28  # token labels under the attention row; past that, every n-th


class CacheChart:
    """Top: one strip per layer, one cell per cached position, shaded by how much the newest token's query
    reads it (averaged over heads); the positions this pass added are framed. Bottom: one layer's row."""

    def __init__(self) -> None:
        from matplotlib.patches import Rectangle

        from playground.qt.design import CHART_COLOURS
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.6, 4.4)
        grid = self.figure.add_gridspec(2, 1, height_ratios=[1, 1])
        self.ax = self.figure.add_subplot(grid[0])
        self.row_ax = self.figure.add_subplot(grid[1])
        self.image = self.ax.imshow(np.zeros((1, 1)), aspect="auto", cmap="Blues", interpolation="nearest",
                                    vmin=0, vmax=1)
        self.ax.set_ylabel("layer")
        self.ax.set_xlabel("cached position (a key and a value per KV head in each layer)", fontsize=8)
        # The positions the last pass wrote, framed (the whole prompt after Prefill, one column after a step).
        self.added = Rectangle((0, 0), 1, 1, fill=False, lw=1.6, ec=CHART_COLOURS[1])
        self.ax.add_patch(self.added)
        (self.row_line,) = self.row_ax.plot([], [], "o-", ms=3, lw=1, color=CHART_COLOURS[0])
        self.row_ax.set_ylabel("attention")
        self.empty = EmptyState(self.figure, "Press Prefill: each layer's cache appears here as a strip\n"
                                             "that grows by one position per decode step, shaded by\n"
                                             "what the new token's query reads.")

    def show(self, step, labels: list[str], layer: int, head: int | None, step_text: str) -> None:
        """Draw ``step`` (a CacheStep with its attention rows); ``labels`` are the cached tokens, readable."""
        att = step.attention
        if att is None:
            return
        layers, heads, n = att.shape
        grid = att.mean(axis=1)
        # Each layer's row scaled to its own largest weight: a row is a distribution over the positions,
        # and one sink position (often the first) would otherwise leave the rest white.
        shaded = grid / np.maximum(grid.max(axis=1, keepdims=True), 1e-12)
        self.image.set_data(shaded)
        self.image.set_extent((-0.5, n - 0.5, layers - 0.5, -0.5))
        self.ax.set_xlim(-0.5, n - 0.5)
        self.ax.set_ylim(layers - 0.5, -0.5)
        self.added.set_bounds(n - step.added - 0.5, -0.5, step.added, layers)
        what = "prefill wrote all of them" if step.index == 0 else f"step {step.index} wrote the framed one"
        self.ax.set_title(f"Cache: {layers} layers × {n} positions ({what}); shade: what the new query reads",
                          fontsize=8)
        row = att[layer].mean(axis=0) if head is None else att[layer, head]
        self.row_line.set_data(np.arange(n), row)
        self.row_ax.set_xlim(-0.5, n - 0.5)
        self.row_ax.set_ylim(0, max(float(row.max()) * 1.1, 1e-3))
        every = max(1, int(np.ceil(n / MAX_TICKS)))
        ticks = list(range(n - 1, -1, -every))[::-1]
        self.row_ax.set_xticks(ticks)
        self.row_ax.set_xticklabels([labels[i][:10] if i < len(labels) else "" for i in ticks], rotation=90,
                                    fontsize=6)
        who = "mean of the heads" if head is None else f"head {head + 1} of {heads}"
        self.row_ax.set_title(f"Layer {layer + 1}: the attention row of '{step_text[:16]}' ({who})", fontsize=8)
        self.empty.show(False)
        self.canvas.draw_idle()

    def clear(self) -> None:
        self.empty.show(True)
        self.canvas.draw_idle()


class MemoryChart:
    """Cache bytes against context length, log–log: the loaded model and the bundled configs; dashed, the
    same model with full multi-head attention; a dot for the cache being stepped."""

    def __init__(self) -> None:
        from playground.qt.design import current_colours
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.6, 4.4)
        self.ax = self.figure.add_subplot(111)
        self.lines: list = []
        (self.here,) = self.ax.plot([], [], "o", ms=6, color=current_colours().text, label="the cache stepped now")
        self.empty = EmptyState(self.figure, "Cache memory against context length appears here\nonce a model is loaded.")

    def show(self, shapes) -> None:
        from playground.core.lifecycle.kv_cache import memory_curves
        from playground.qt.design import CHART_COLOURS

        for line in self.lines:
            line.remove()
        self.lines = []
        colour = {}
        for curve in memory_curves(shapes):
            name = curve.label.split(" ")[0]
            c = colour.setdefault(name, CHART_COLOURS[len(colour) % len(CHART_COLOURS)])
            (line,) = self.ax.plot(curve.tokens, curve.bytes, "--" if curve.dashed else "-",
                                   color=c, lw=1.0 if curve.dashed else 1.8, label=curve.label)
            self.lines.append(line)
        ax = self.ax
        ax.set_xscale("log", base=2)
        ax.set_yscale("log", base=8)  # ticks at 8 MiB, 64 MiB, 512 MiB, 4 GiB, …: round binary sizes
        from matplotlib.ticker import FuncFormatter

        from playground.core.base.units import format_bytes

        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1024:g}K" if x >= 1024 else f"{x:g}"))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda y, _: format_bytes(y)))
        ax.set_xlabel("context length (tokens cached)")
        ax.set_ylabel("KV cache memory (batch of one)")
        ax.set_title("Cache memory grows linearly with the context; GQA divides it", fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
        ax.grid(True, which="major", alpha=0.3)
        self.empty.show(False)
        self.canvas.draw_idle()

    def mark(self, positions: int, measured_bytes: int) -> None:
        self.here.set_data([positions], [measured_bytes])
        self.canvas.draw_idle()


class TimingChart:
    """Milliseconds per new token against the context length, with and without the cache."""

    def __init__(self) -> None:
        from playground.qt.design import CHART_COLOURS
        from playground.qt.widgets.plot import EmptyState

        self.figure, self.canvas = make_canvas(5.6, 4.4)
        ax = self.ax = self.figure.add_subplot(111)
        (self.with_line,) = ax.plot([], [], "o-", color=CHART_COLOURS[0], label="with the cache (one token fed)")
        (self.without_line,) = ax.plot([], [], "s-", color=CHART_COLOURS[1],
                                       label="without (the whole prefix recomputed)")
        ax.set_xlabel("context length (tokens already read)")
        ax.set_ylabel("time per new token (ms)")
        ax.legend(fontsize=7, loc="upper left")
        ax.grid(True, alpha=0.3)
        self.empty = EmptyState(self.figure, "Press 'Measure with vs without cache': time per token\n"
                                             "at each context length appears here, both ways.")

    def show(self, points) -> None:
        xs = [p.length for p in points]
        self.with_line.set_data(xs, [p.with_cache_s * 1000 for p in points])
        self.without_line.set_data(xs, [p.without_cache_s * 1000 for p in points])
        if points:
            last = points[-1]
            self.ax.set_title(f"At {last.length} tokens: {last.with_cache_s * 1000:.0f} ms with the cache, "
                              f"{last.without_cache_s * 1000:.0f} ms without ({last.ratio:.1f}×)", fontsize=8)
        self.ax.relim()
        self.ax.autoscale_view()
        if points:  # from zero on both axes: the gap is read against the whole time, not a zoomed range
            self.ax.set_xlim(0, max(xs) * 1.05)
            self.ax.set_ylim(0, max(p.without_cache_s for p in points) * 1000 * 1.1)
        self.empty.show(not points)
        self.canvas.draw_idle()
