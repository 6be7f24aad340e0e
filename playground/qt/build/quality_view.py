"""Retrieval quality over the bundled questions: recall@k and MRR for dense, BM25 and hybrid, and answer
accuracy with and without retrieval, as a table and a chart."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.qt.build.xray_chart import METHOD_NAMES
from playground.qt.design import CHART_COLOURS, set_type
from playground.qt.widgets.make import button, hbox, note_label
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader


class QualityView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import EmptyState, make_canvas

        self.run_button = button("Measure", "Rank every chunk for every bundled question and count how often the "
                                 "passage that holds the answer comes in the top k (recall@k), and how high (MRR).")
        self.answers_check = QCheckBox("Also answer each question (slow)")
        self.answers_check.setToolTip("The loaded model answers each bundled question twice, with and without "
                                      "retrieval; the share whose "
                                      "answer holds the gold answer is its accuracy. Minutes on a CPU.")
        self.strip = ProgressStrip("Stop; nothing measured so far is shown (Esc).")
        self.header = ResultHeader("", "The measures appear here after Measure, with what made them.")
        self.table = QTableWidget(0, 0)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setMaximumHeight(140)
        self.explain = note_label("<b>recall@k</b>: the share of questions whose answer passage is among the k best "
                                  "chunks. <b>MRR</b>: the mean of 1 / the rank of that passage (1 when it is always "
                                  "first). <b>Accuracy</b>: the share of answers that hold the gold answer.")
        set_type(self.explain, "caption")
        self.figure, self.canvas = make_canvas(7.0, 2.0, min_size=(260, 150))
        self.recall_ax, self.accuracy_ax = self.figure.subplots(1, 2, width_ratios=(3, 2))
        self.empty = EmptyState(self.figure, "recall@k for dense, BM25 and hybrid search appears here after "
                                             "Measure, one line per method;\nwith the answers, the accuracy "
                                             "with and without retrieval beside it.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(hbox(self.run_button, 1))
        layout.addWidget(self.answers_check)
        layout.addWidget(self.strip)
        layout.addWidget(self.header)
        layout.addWidget(self.table)
        layout.addWidget(self.explain)
        layout.addWidget(self.canvas, 1)
        self.report = None
        self.accuracy = None

    def show_reports(self, report, accuracy) -> None:
        self.report, self.accuracy = report, accuracy
        rows = [list(r) for r in report.rows()]
        head = rows[0]
        if accuracy is not None:
            head = head + ["accuracy"]
            for r in rows[1:]:
                r.append("")
            rows.append(["Answers without retrieval"] + [""] * (len(head) - 2)
                        + [f"{100 * accuracy.mean('without'):.0f} %"])
            rows.append([f"Answers with {METHOD_NAMES.get(accuracy.method, accuracy.method)}, k={accuracy.k}"]
                        + [""] * (len(head) - 2) + [f"{100 * accuracy.mean('with'):.0f} %"])
        self.table.setColumnCount(len(head))
        self.table.setRowCount(len(rows) - 1)
        self.table.setHorizontalHeaderLabels(head)
        for r, row in enumerate(rows[1:]):
            for c, value in enumerate(row):
                item = QTableWidgetItem(value)
                if c:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._draw(report, accuracy)

    def _draw(self, report, accuracy) -> None:
        ax = self.recall_ax
        ax.clear()
        for i, method in enumerate(report.ranks):
            ax.plot(report.ks, [report.recall(method, k) for k in report.ks], marker="o",
                    color=CHART_COLOURS[i % len(CHART_COLOURS)],
                    label=f"{METHOD_NAMES.get(method, method)} (MRR {report.mrr(method):.2f})")
        ax.set_xticks(list(report.ks))
        ax.set_ylim(0, 1.05)
        ax.set_xlabel("k (chunks retrieved)")
        ax.set_ylabel("recall@k")
        ax.legend(fontsize=8, loc="lower right")
        bx = self.accuracy_ax
        bx.clear()
        if accuracy is not None:
            values = [accuracy.mean("without"), accuracy.mean("with")]
            bars = bx.bar(["without\nretrieval", f"with, k={accuracy.k}"], values, color=["#c9c9c9", CHART_COLOURS[0]])
            for bar, v in zip(bars, values):
                bx.annotate(f"{100 * v:.0f} %", (bar.get_x() + bar.get_width() / 2, v), ha="center", va="bottom",
                            fontsize=8)
            bx.set_ylim(0, 1.1)
            bx.set_ylabel("answers holding the gold answer")
        else:
            bx.text(0.5, 0.5, "Tick 'Also answer each question'\nfor the accuracy with and without.",
                    ha="center", va="center", fontsize=8, color="#3d3d3d", transform=bx.transAxes)
            bx.set_xticks([])
            bx.set_yticks([])
        self.empty.show(False)
        self.canvas.draw_idle()

    def clear(self, reason: str = "") -> None:
        self.report = self.accuracy = None
        self.table.setRowCount(0)
        self.table.setColumnCount(0)
        self.header.clear_result(reason)
        self.empty.show(True)
        self.canvas.draw_idle()
