"""Every chunk's score for one question, sorted, for dense, BM25 and hybrid search side by side, with the
top-k cut (a vertical line), the score threshold (a horizontal line on the method that feeds the prompt)
and the chunks of the passage that holds the answer in green."""

from __future__ import annotations

METHODS = ("dense", "bm25", "hybrid")
METHOD_TITLES = {"dense": "Dense (cosine of vectors)", "bm25": "BM25 (shared keywords)",
                 "hybrid": "Hybrid (reciprocal rank fusion)"}
METHOD_NAMES = {"dense": "dense", "bm25": "BM25", "hybrid": "hybrid"}
#: the most bars drawn per method: the rest are counted in the caption (a 10 MB file makes 20,000 chunks)
MAX_BARS = 200
KEPT, DROPPED, GOLD, GOLD_DROPPED = "#2f6fd1", "#c9c9c9", "#2e9e5b", "#a8d8b9"


def best_rank(scores, chunks, doc_id) -> int | None:
    """The 1-based rank of ``doc_id``'s best chunk when every chunk is sorted by ``scores`` (None: no chunk)."""
    import numpy as np

    order = np.argsort(-np.asarray(scores), kind="stable")
    for rank, i in enumerate(order, start=1):
        if chunks[int(i)].doc_id == doc_id:
            return rank
    return None


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class XRayChart:
    """Three sorted bar charts on one figure, made once; ``show`` draws a question's scores, ``cut`` moves
    the top-k and threshold lines and recolours the bars in place."""

    def __init__(self) -> None:
        from playground.qt.widgets.plot import EmptyState, make_canvas

        self.figure, self.canvas = make_canvas(9.0, 2.0, min_size=(260, 130))
        self.axes = dict(zip(METHODS, self.figure.subplots(1, 3)))
        self.empty = EmptyState(self.figure, "Every chunk's score for your question appears here, sorted best first, "
                                             "one bar per chunk:\ndense, BM25 and hybrid search side by side, with "
                                             "the top-k cut and the score threshold.")
        self.bars: dict = {}
        self.orders: dict = {}
        self.k_lines: dict = {}
        self.threshold_line = None
        self.scores: dict = {}
        self.gold: set = set()

    def show(self, scores: dict, chunks, gold_doc: str | None, k: int, threshold, method: str) -> None:
        import numpy as np

        self.scores = {m: np.asarray(scores[m], dtype=float) for m in METHODS if m in scores}
        self.gold = {i for i, c in enumerate(chunks) if gold_doc is not None and c.doc_id == gold_doc}
        self.threshold_line = None
        for m, ax in self.axes.items():
            ax.clear()
            values = self.scores.get(m, np.zeros(0))
            order = np.argsort(-values, kind="stable")[:MAX_BARS]
            self.orders[m] = order
            self.bars[m] = ax.bar(np.arange(len(order)), values[order], width=0.85, color=DROPPED, linewidth=0)
            self.k_lines[m] = ax.axvline(k - 0.5, color="#b00020", linestyle="--", linewidth=1)
            more = len(values) - len(order)
            ax.set_title(METHOD_TITLES[m], fontsize=9)
            ax.set_xlabel(f"chunks, best first ({len(values):,}" + (f"; first {len(order)} drawn)" if more else ")"),
                          fontsize=8)
            ax.tick_params(labelsize=7)
        self.axes["dense"].set_ylabel("score", fontsize=8)
        self.empty.show(False)
        self.cut(k, threshold, method)

    def cut(self, k: int, threshold, method: str) -> None:
        """The top-k line at k, the threshold line on ``method``'s chart, and the bars each keeps coloured."""
        if not self.scores:
            return
        if self.threshold_line is not None:
            self.threshold_line.remove()
            self.threshold_line = None
        for m, bars in self.bars.items():
            self.k_lines[m].set_xdata([k - 0.5, k - 0.5])
            values = self.scores[m]
            for rank, (bar, i) in enumerate(zip(bars, self.orders[m])):
                kept = rank < k and (m != method or threshold is None or values[i] >= threshold)
                gold = int(i) in self.gold
                bar.set_color((GOLD if gold else KEPT) if kept else (GOLD_DROPPED if gold else DROPPED))
            self.axes[m].set_facecolor("#f4f8ff" if m == method else "white")
        if threshold is not None and method in self.axes:
            self.threshold_line = self.axes[method].axhline(threshold, color="#8a5a00", linewidth=1)
        self.canvas.draw_idle()

    def clear(self) -> None:
        self.scores = {}
        for ax in self.axes.values():
            ax.clear()
        self.empty.show(True)
        self.canvas.draw_idle()
