"""Where the answer came from: per retrieved chunk, how much the answer's log-probability drops when that
chunk is left out of the prompt (leave-one-out, one forward pass per chunk), as bars."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.qt.design import set_type
from playground.qt.widgets.make import button, hbox, note_label
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

NOT_ATTENTION = ("<b>Attention is not attribution; leave-one-out is.</b> Where the model's attention went says "
                 "what it looked at, not what its answer needed. Taking a chunk out and measuring how much less "
                 "likely the same answer becomes (its log-probability drop) says what the answer depended on: a "
                 "tall bar is a chunk the answer came from; a bar near zero, one it did without.")


class AttributionView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import EmptyState, make_canvas

        self.run_button = button("Leave each chunk out", "For the answer with retrieval: run the model once per "
                                 "retrieved chunk with that chunk removed, and measure how much less likely the "
                                 "answer becomes.")
        self.strip = ProgressStrip("Stop; the chunks measured so far stay (Esc).")
        self.header = ResultHeader("Leave-one-out", "Answer with retrieval first, then leave each chunk out.")
        self.explain = note_label(NOT_ATTENTION)
        set_type(self.explain, "caption")
        self.verdict = note_label("")
        self.figure, self.canvas = make_canvas(6.0, 2.4, min_size=(260, 200))
        self.ax = self.figure.add_subplot(111)
        self.empty = EmptyState(self.figure, "One bar per retrieved chunk appears here: how much the answer's "
                                             "log-probability\ndrops when that chunk is left out of the prompt.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.explain)
        layout.addLayout(hbox(self.run_button, (self.strip, 1)))
        layout.addWidget(self.header)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.verdict)
        self.effects: list = []

    def show_effects(self, effects, labels: dict) -> None:
        """Bars of each ChunkEffect's drop (nats), labelled with the chunk's rank and id."""
        self.effects = list(effects)
        self.ax.clear()
        if not self.effects:
            self.empty.show(True)
            self.canvas.draw_idle()
            return
        names = [labels.get(e.chunk_id, e.chunk_id) for e in self.effects]
        drops = [e.drop for e in self.effects]
        ys = list(range(len(drops)))
        colours = ["#2f6fd1" if d > 0 else "#c9c9c9" for d in drops]
        self.ax.barh(ys, drops, color=colours)
        self.ax.set_yticks(ys, names, fontsize=8)
        self.ax.invert_yaxis()
        self.ax.axvline(0, color="#666666", linewidth=0.8)
        self.ax.set_xlabel("drop in the answer's log-probability when the chunk is left out (nats)")
        self.empty.show(False)
        self.canvas.draw_idle()
        best = max(self.effects, key=lambda e: e.drop)
        name = labels.get(best.chunk_id, best.chunk_id)
        if best.drop > 0:
            self.verdict.setText(f"The answer depends most on <b>{name}</b>: without it, the answer's log-probability "
                                 f"falls by {best.drop:.2f} (from {best.logprob_with:.2f} to "
                                 f"{best.logprob_without:.2f}).")
        else:
            self.verdict.setText("No chunk's removal makes the answer less likely: the model did not need the "
                                 "retrieved text for this answer.")

    def clear(self, reason: str = "") -> None:
        self.effects = []
        self.ax.clear()
        self.empty.show(True)
        self.canvas.draw_idle()
        self.verdict.setText("")
        self.header.clear_result(reason)
