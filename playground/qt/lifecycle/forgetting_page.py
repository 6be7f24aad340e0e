"""Forgetting section: the probes on the base model, its BF16 noise floor, and the fine-tuned model."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from playground.qt.lifecycle.common import RunBar, lesson
from playground.qt.task_slot import TaskSlot

LESSON = ("<b>Catastrophic forgetting</b>: training on one task can cost skills elsewhere. The probes are "
          "short general questions (scored on the first sentence of the reply) and two-choice facts "
          "(scored by log-likelihood: the margin in nats is the sensitive signal), kept only where the base "
          "model is right. The noise floor is the same probes on the base rounded to BF16, with no training: "
          "a change inside it is noise. Fine-tune a model (or attach an adapter) to compare it with the base.")
COLUMNS = ["model", "questions passed", "facts right", "mean margin (nats)", "replies changed"]


def _probe_rows(base, current, handle):
    """Generator run off the GUI thread: (label, ProbeResult, note) rows, base first."""
    from playground.core.lifecycle.forgetting import load_probes, noise_floor, run_probes

    probes = load_probes()
    before = run_probes(base.model, base.tokenizer, probes, handle)
    yield ("base", before, None)
    noise = noise_floor(base.model, base.tokenizer, before, probes, handle)
    yield ("base rounded to BF16 (noise floor)", noise["result"], noise)
    if current is not None and current is not base:
        after = run_probes(current.model, current.tokenizer, probes, handle)
        yield (f"fine-tuned ({current.info.name})", after, {"before": before, "noise": noise})


class ForgettingPage(QWidget):
    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.rows = []
        self.base_result = None
        self.bar = RunBar("Run the probes", self.slot)
        self.bar.run_button.setToolTip("Ask the base model, its BF16 copy and the fine-tuned model (if any) "
                                       "the same probes.")
        self.bar.run_button.clicked.connect(self.run)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.verdict = lesson("")
        layout = QVBoxLayout(self)
        layout.addWidget(lesson(LESSON))
        layout.addWidget(self.bar)
        layout.addWidget(self.bar.message)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.verdict)

    def run(self) -> None:
        session = self.context.session
        if session.base is None:
            self.bar.message.setText("The model is still loading. Try again in a moment.")
            return
        base = session.base.extras.get("precision_of", session.base)
        current = session.adapter
        self.rows = []
        self.table.setRowCount(0)
        self.verdict.setText("")
        self.slot.start("forgetting probes", lambda h: _probe_rows(base, current, h), on_item=self._row,
                        on_progress=self.bar.on_progress, on_finished=self._finished)

    def _row(self, item) -> None:
        label, result, extra = item
        self.rows.append(item)
        changed = ""
        if extra is not None and "replies_changed" in extra:
            changed = str(extra["replies_changed"])
        elif extra is not None:
            changed = str(sum(a.strip() != b.strip() for a, b in zip(extra["before"].replies, result.replies)))
        r = self.table.rowCount()
        self.table.insertRow(r)
        values = [label, f"{result.questions_passed}/{len(result.question_pass)}",
                  f"{result.facts_right}/{len(result.margins)}", f"{result.mean_margin:.2f}", changed]
        for c, v in enumerate(values):
            self.table.setItem(r, c, QTableWidgetItem(v))
        if extra is not None and "noise" in extra:
            from playground.core.lifecycle.forgetting import ForgettingReport

            self.verdict.setText(ForgettingReport(extra["before"], result, extra["noise"]).verdict())

    def _finished(self, task) -> None:
        if task.outcome == "cancelled":
            self.bar.message.setText(f"Stopped: {len(self.rows)} finished row(s) kept.")
        elif task.outcome == "done":
            if self.context.session.adapter is None:
                self.bar.message.setText("Base and noise floor measured. Fine-tune a model (Fine-tune tab) "
                                         "and run the probes again to see what it forgot.")
            else:
                self.bar.message.setText("Probes finished.")
