"""The Evaluate tab's Benchmarks section: multiple-choice benchmarks scored as lm-evaluation-harness scores
them (log-likelihood of every choice; acc and acc_norm), systems side by side, one item at a time."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHeaderView,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.errors import describe_exception
from playground.qt.evaluate.benchmark_charts import AccuracyChart, ItemChart
from playground.qt.evaluate.benchmark_controls import BenchmarkControls
from playground.qt.panel import Panel
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import note_label, splitter
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

LESSON = (
    "<b>A benchmark asks multiple-choice questions and scores the model by which answer it finds most likely.</b> "
    "As lm-evaluation-harness does for HellaSwag, ARC and MMLU, the model reads the context, then each choice, "
    "and adds up the log-probabilities of the choice's tokens: nothing is generated. <i>acc</i> counts the items "
    "where the right choice has the highest total; <i>acc_norm</i> divides each total by the choice's length in "
    "bytes first, because every extra token costs log-probability and a long right answer would lose to a "
    "short wrong one. Read the accuracy beside the chance level (guessing) and its 95% interval: with 25 "
    "items an interval is about ±18 points wide."
)
COLUMNS = ["item", "system", "gold", "acc", "acc_norm"]


class BenchmarkPage(BenchmarkControls, QWidget):
    notebook_kind = "benchmark"

    sig_scored = Signal(object)
    """dict: the run's summary as plain data (systems, benchmarks, acc, acc_norm, items) once it ends"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.evaluation.benchmark import CONTAMINATION_NOTE

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.results: list = []
        self.starts: dict = {}
        self.benches: list = []
        self.summary: dict = {}
        self._run_base = None
        self._redraw = QTimer(self, singleShot=True, interval=150, timeout=self._draw_summary)

        column = QVBoxLayout()
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._build_benchmarks())
        column.addWidget(self._build_systems())
        self.run_button = QPushButton("Score the benchmarks")
        self.run_button.setToolTip("Score every choice of every item with every ticked system (Ctrl+Enter).")
        self.run_button.clicked.connect(self.run)
        self.strip = ProgressStrip("Stop after the current item; the items scored so far are kept (Esc).").attach(
            self.slot)
        self.strip.phase_label.setWordWrap(True)
        self.stop_button = self.strip.stop_button
        self.message = note_label()
        self.slot.say = self._say
        self.slot.sig_busy_changed.connect(lambda busy: self.run_button.setEnabled(not busy))
        column.addWidget(self.run_button)
        column.addWidget(self.message)
        self.contamination = note_label(f"<i>Contamination:</i> {html.escape(CONTAMINATION_NOTE)}")
        column.addWidget(self.contamination)
        column.addStretch(1)
        inside = QWidget()
        inside.setLayout(column)
        left = QScrollArea()  # the wrapped message and note keep their height; a zoomed font scrolls
        left.setWidgetResizable(True)
        left.setFrameShape(QScrollArea.Shape.NoFrame)
        left.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        left.setWidget(inside)
        left.setMinimumWidth(inside.minimumSizeHint().width() + left.verticalScrollBar().sizeHint().width())

        self.header = ResultHeader(empty="No scores yet: tick benchmarks and systems, then press Score the "
                                         "benchmarks.")
        self.accuracy = AccuracyChart()
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        head = self.table.horizontalHeader()
        for c, name in enumerate(COLUMNS):  # the long texts share what is left, so the table never scrolls sideways
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch if name in ("system", "item")
                                      else QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setToolTip("Every scored item: the right choice (gold, counted from 1) and the choice acc and acc_norm "
                              "picked (✓ right, ✗ wrong). "
                              "Click one to see its choices' log-likelihoods.")
        self.table.itemSelectionChanged.connect(self._show_selected)
        self.only_disagree = QCheckBox("Only items where acc ≠ acc_norm")
        self.only_disagree.setToolTip("Only the items where acc and acc_norm disagree, where dividing by the length "
                                      "changed the pick: the long-choice penalty at work.")
        self.only_disagree.toggled.connect(self._filter_rows)
        self.item_chart = ItemChart()
        self.explain = note_label("")
        self.explain.setTextFormat(Qt.TextFormat.RichText)
        items_box = QWidget()
        ilay = QVBoxLayout(items_box)
        ilay.setContentsMargins(0, 0, 0, 0)
        ilay.addWidget(self.only_disagree)
        ilay.addWidget(self.table, 1)
        item_side = QWidget()
        slay = QVBoxLayout(item_side)
        slay.setContentsMargins(0, 0, 0, 0)
        slay.addWidget(self.item_chart.canvas, 1)
        slay.addWidget(self.explain)
        lower = splitter((items_box, 5), (item_side, 6))
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(0, 0, 0, 0)
        rlay.addWidget(self.header)
        inner = splitter((self.accuracy.canvas, 2), (lower, 3))
        inner.setOrientation(Qt.Orientation.Vertical)
        rlay.addWidget(inner, 1)
        split = splitter((left, 0), (right, 1))
        split.setChildrenCollapsible(False)
        split.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        split.setMinimumHeight(420)
        outer = QVBoxLayout(self)
        outer.addWidget(Panel.lesson(LESSON))
        outer.addWidget(split, 1)
        outer.addWidget(self.strip)
        from playground.qt.shortcuts import run_shortcut

        run_shortcut(self, self.run)
        context.sig_adapter_changed.connect(self._offer_attached)
        self._offer_attached(context.session.adapter)

    def _say(self, text: str) -> None:
        """The message line, tall enough for its wrapped text (a label in a scrolled column gets only one line)."""
        self.message.setText(text)
        self.message.setMinimumHeight(self.message.heightForWidth(max(200, self.message.width())) if text else 0)

    # run ------------------------------------------------------------------------------------------
    def run(self) -> None:
        if self.slot.busy:
            return
        self._say("")
        try:
            benches, systems = self.plan()
        except Exception as exc:  # every refusal is a message under the button
            self._say(" ".join(describe_exception(exc)).strip())
            return
        loaded = self.context.ready_model(self._say)
        if loaded is None:
            return
        from playground.core.evaluation.benchmark_run import run_benchmarks

        loaded = self.context.session.base or loaded
        self._run_base = loaded
        self.results, self.starts, self.benches, self.summary = [], {}, benches, {}
        self.table.setRowCount(0)
        self.item_chart.draw(None)
        self.explain.setText("")
        self.accuracy.draw({}, {})
        self.header.clear_result("Scoring…")
        batched = self.batched.isChecked()
        self.slot.start("benchmarks", lambda h: run_benchmarks(loaded, benches, systems, batched=batched, handle=h),
                        on_item=self._on_event, on_progress=self.strip.on_progress, on_finished=self._finished)

    def _on_event(self, event) -> None:
        from playground.core.evaluation.benchmark_run import SystemStart

        if isinstance(event, SystemStart):
            self.starts[event.system] = event
            self._show_header()
            for note in event.notes:
                self._say(note)
            return
        self.results.append(event)
        self._add_row(event)
        self._redraw.start()

    def _show_header(self) -> None:
        from dataclasses import replace

        if not self.starts:
            return
        first = next(iter(self.starts.values())).provenance
        others = [s for s in self.starts][1:]
        extra = first.extra + (f" · also: {', '.join(others)}" if others else "")
        self.header.show_provenance(replace(first, extra=extra))
        lines = "\n".join(f"{name}: {s.provenance.line()}" for name, s in self.starts.items())
        self.header.setToolTip("Each system's scores were made with:\n" + lines)

    def _add_row(self, result) -> None:
        score = result.score
        r = self.table.rowCount()
        self.table.insertRow(r)
        gold = score.item.gold
        values = [score.item.id, result.system, str(gold + 1),
                  f"{score.pred + 1} {'✓' if score.correct else '✗'}",
                  f"{score.pred_norm + 1} {'✓' if score.correct_norm else '✗'}"]
        for c, v in enumerate(values):
            cell = QTableWidgetItem(v)
            cell.setData(Qt.ItemDataRole.UserRole, len(self.results) - 1)
            cell.setToolTip(f"{result.benchmark}: {score.item.context}")
            self.table.setItem(r, c, cell)
        self.table.setRowHidden(r, self.only_disagree.isChecked() and score.pred == score.pred_norm)

    def _filter_rows(self) -> None:
        only = self.only_disagree.isChecked()
        for r in range(self.table.rowCount()):
            score = self.results[self.table.item(r, 0).data(Qt.ItemDataRole.UserRole)].score
            self.table.setRowHidden(r, only and score.pred == score.pred_norm)

    def _draw_summary(self) -> None:
        from playground.core.evaluation.benchmark_run import summarize

        self.summary = summarize(self.results)
        self.accuracy.draw(self.summary, {b.name: b.title for b in self.benches})

    def _show_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        result = self.results[self.table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole)]
        self.show_item(result)

    def show_item(self, result) -> None:
        from playground.core.evaluation.benchmark import doc_text

        score = result.score
        self.item_chart.draw(score)
        text = doc_text(score.item)
        shown = html.escape(text if len(text) < 260 else "…" + text[-260:]).replace("\n", "<br>")
        why = score.disagreement() or ("acc and acc_norm pick the same choice here"
                                       + (": the right one." if score.correct else ", a wrong one."))
        cut = f" The context was cut by {score.truncated} tokens to fit the window." if score.truncated else ""
        self.explain.setText(f"<b>{html.escape(result.system)}</b> · {html.escape(score.item.id)} · gold: choice "
                             f"{score.item.gold + 1}<br><span>{shown}</span><br>{html.escape(why)}{cut}")

    def _finished(self, task) -> None:
        self._redraw.stop()
        self._draw_summary()
        stopped = task.outcome == "cancelled"
        if stopped and self.header.provenance is not None:
            from dataclasses import replace

            self.header.show_provenance(replace(self.header.provenance,
                                                extra=self.header.provenance.extra + " · stopped early"))
        if self.results:
            disagree = [r for r in self.results if r.score.pred != r.score.pred_norm]
            self._select(disagree[0] if disagree else self.results[0])
            done = "Stopped: " if stopped else "Scored: "
            self._say(f"{done}{len(self.results)} item(s); acc and acc_norm disagree on "
                                 f"{len(disagree)} (see 'Only items where…').")
            self.sig_scored.emit(self.scored_payload())
        elif not stopped:
            self.header.clear_result("Nothing was scored.")

    def _select(self, result) -> None:
        index = self.results.index(result)
        for r in range(self.table.rowCount()):
            if self.table.item(r, 0).data(Qt.ItemDataRole.UserRole) == index:
                self.table.selectRow(r)
                return

    def on_model_changed(self, loaded) -> None:
        if self._run_base is not None and self.context.session.base is not self._run_base:
            self.header.mark_stale("another model is loaded; score again to compare")

    # labs and notebooks ---------------------------------------------------------------------------
    def scored_payload(self) -> dict:
        from playground.core.evaluation.benchmark_report import summary_dict

        rows = summary_dict(self.summary)
        return {"systems": list(dict.fromkeys(r["system"] for r in rows)),
                "benchmarks": list(dict.fromkeys(r["benchmark"] for r in rows)), "rows": rows,
                "items": len(self.results),
                "disagreements": sum(r.score.pred != r.score.pred_norm for r in self.results)}

    def lab_events(self) -> dict:
        return {"benchmark.scored": (self.sig_scored, lambda payload: payload or None)}

    def reveal(self, control: str) -> QWidget | None:
        return {"benchmark_run_button": self.run_button}.get(control)

    def notebook_state(self) -> dict | None:
        """The last run's first benchmark for the first system: its items, the prompts and what the app scored."""
        if not self.results:
            return None
        first = self.results[0]
        chosen = [r for r in self.results if r.system == first.system and r.benchmark == first.benchmark]
        start = self.starts.get(first.system)
        return {"kind": "benchmark", "system": first.system, "benchmark": first.benchmark,
                "contexts": [r.context for r in chosen], "choices": [list(r.score.item.choices) for r in chosen],
                "gold": [r.score.item.gold for r in chosen], "logliks": [r.score.logliks for r in chosen],
                "provenance": start.provenance.as_dict() if start is not None else {}}
