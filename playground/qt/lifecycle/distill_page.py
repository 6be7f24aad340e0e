"""Distillation section: a smaller student trained on the teacher's soft targets, beside one trained
on the labels alone; their losses, both models' next-token bars, the soft targets at T, the results."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QWidget,
)

from playground.qt.binding import Draft, bind
from playground.qt.lifecycle.common import column_beside_plot
from playground.qt.lifecycle.distill_views import LossView, NextTokenChart, SoftTargetsChart
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, hbox, note_label
from playground.qt.widgets.progress_strip import ProgressStrip

LESSON = ("<b>Distillation trains a small student to copy a large teacher's whole next-token distribution, "
          "not only the right token.</b> The student here is the teacher with every other layer (as DistilBERT "
          "was made), with the same tokenizer. Its loss mixes the KL divergence from the teacher at a temperature "
          "T (the soft targets: T &gt; 1 brings out the small probabilities of the other tokens, the teacher's "
          "'dark knowledge') with the ordinary next-token loss on the real summary (the hard labels), weighted "
          "by α. A second student trained with α = 1 (hard labels only) for the same steps measures what the "
          "soft targets are worth.")
SETTINGS = ("distill.student_layers", "distill.temperature", "distill.alpha", "distill.direction",
            "training.max_steps", "data.max_train_examples", "evaluation.test_examples")


def _rate(text: str):
    """The learning rate as typed: a number, or the text itself for the job's check to refuse."""
    try:
        return float(text)
    except ValueError:
        return text.strip()


class DistillPage(QWidget):
    sig_trained = Signal(dict)
    """a run finished: {"alpha", "temperature", "layers", "steps", "perplexity": {kind: float}, "run_dir"}"""
    sig_used = Signal(str)
    """a student was put in every tab: its folder"""

    notebook_kind = "distillation"

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.distill.config import DistillJob
        from playground.qt.widgets.compact_form import compact_rows
        from playground.qt.widgets.result_header import ResultHeader

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.view_slot = TaskSlot(context.runner, parent=self)
        self.draft = Draft(DistillJob(), self)
        self.form, self.fields = compact_rows(self.draft, *SETTINGS)
        self.fields["training.max_steps"].setSpecialValueText("one epoch")
        self.rate_edit = QLineEdit()
        self.rate_edit.setMaximumWidth(90)
        self.rate_edit.setToolTip("AdamW's learning rate for both students (e.g. 1e-4). The student starts as a "
                                  "cut-down teacher: a rate near full fine-tuning's works.")
        bind(self.rate_edit, self.draft, "training.learning_rate", parse=_rate, fmt=lambda v: f"{v:g}"
             if isinstance(v, (int, float)) else str(v))
        self.form.add_pair(note_label("Learning rate"), self.rate_edit)
        self.compare_check = bind(_check(self.draft), self.draft, "distill.compare_hard")
        self.train_button = button("Train the students", "Make the student from the loaded model and train it on "
                                   "the soft targets, then a hard-label student for the same steps (Ctrl+Enter).",
                                   self.train)
        self.pause_button = button("Pause", "Hold training between two steps; click again to continue.",
                                   self.set_paused, checkable=True)
        self.resume_button = button("Resume", "Continue the stopped run from its last checkpoint.", self.resume)
        self.strip = ProgressStrip("Stop after the current step; a checkpoint is kept and Resume continues (Esc).")
        self.strip.attach(self.slot, graceful=True)
        self.message = note_label()
        self.slot.say = self.message.setText
        self.view_slot.say = self.message.setText
        self.slot.sig_busy_changed.connect(self._busy)
        self.header = ResultHeader(empty="No students yet: set T and α and press Train the students. The table "
                                         "compares them with the teacher on the bundled test dialogues.")
        from playground.core.distill.measure import COLUMNS

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setToolTip("Perplexity: on held-out test summaries (lower is better). ROUGE-L: greedy "
                              "summaries of the test dialogues against the references (0-100).")
        self.use_combo = QComboBox()
        self.use_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.use_combo.setToolTip("Which student to put in every tab.")
        self.use_button = button("Use this student", "Load the chosen student (a Hugging Face folder) as the "
                                 "app's model, for every tab.", self.use_student)
        self.use_button.setEnabled(False)
        self.context_edit = QLineEdit()
        from playground.core.distill.view import DEFAULT_CONTEXT

        self.context_edit.setText(DEFAULT_CONTEXT.replace("\n", " "))
        self.context_edit.setToolTip("The context both models read for the next-token bars and the soft targets.")
        self.compare_button = button("Compare", "Teacher and student on this context: next-token bars, KL per "
                                     "token and the soft targets at T.", self.compare)
        self.losses, self.next_token, self.soft = LossView(), NextTokenChart(), SoftTargetsChart()
        self.charts = QTabWidget()
        self.charts.addTab(self.losses.canvas, "Loss")
        self.charts.addTab(self.next_token.canvas, "Next token")
        self.charts.addTab(self.soft.canvas, "Soft targets")
        right = QWidget()
        column = QHBoxLayout()
        column.addWidget(self.context_edit, 1)
        column.addWidget(self.compare_button)
        from playground.qt.widgets.make import vbox

        vbox(column, (self.charts, 1), parent=right).setContentsMargins(0, 0, 0, 0)
        self.rows, self.students, self.run_dir, self.stopped = [], {}, "", False
        self._kind, self._teacher = "", None
        column_beside_plot(self, [self.form, self.compare_check,
                                  hbox(self.train_button, self.pause_button, self.resume_button, 1),
                                  self.message, self.header, (self.table, 1),
                                  hbox(self.use_combo, self.use_button, 1)], right, stretch=(1, 1),
                           lesson_text=LESSON, strip=self.strip)
        self._busy(False)

    # --- the model -----------------------------------------------------------------------------
    def teacher(self):
        """The app's model as loaded (no adapter, FP32 when a lower precision is in use), or None."""
        base = self.context.session.base
        return base.extras.get("precision_of", base) if base is not None else None

    def on_model_changed(self, loaded) -> None:
        if self.rows and self.teacher() is not self._teacher:
            self.header.mark_stale("another model is loaded; train again to distil it")

    # --- training ------------------------------------------------------------------------------
    def job(self):
        """A checked copy of the draft, for the loaded teacher, in a fresh run folder."""
        from playground.core.distill.store import distill_runs_root
        from playground.core.finetune.runs import model_source_text

        job = self.draft.value.copy()
        job.model.source = model_source_text(self.teacher())
        job.model.device = (self.teacher().device or "cpu").split(":")[0]  # train where the shared model is
        job.output.dir = str(_fresh(distill_runs_root()))
        return job.validate()

    def train(self) -> None:
        loaded = self.context.ready_model(self.message.setText)
        if loaded is None or self.slot.busy:
            return
        from playground.core.base.errors import describe_exception

        try:
            job = self.job()
        except Exception as exc:  # plain words for the person; nothing starts
            self.message.setText(" ".join(describe_exception(exc)))
            return
        self._start(job, resume=False)

    def resume(self) -> None:
        if not self.run_dir or self.slot.busy or self.context.session.base is None:
            return
        from playground.core.distill.job import resume_job

        self._start(resume_job(self.run_dir), resume=True)

    def _start(self, job, resume: bool) -> None:
        from playground.core.distill.job import run_distill

        teacher, context = self.teacher(), self.context_edit.text()
        self._teacher, self.run_dir, self.stopped = teacher, job.output.dir, False
        if not resume:
            self.rows, self.students = [], {}
            self.table.setRowCount(0)
            self.losses.clear()
            self.use_combo.clear()
            self.use_button.setEnabled(False)
        d = job.distill
        self.header.show_for(teacher, prompt=f"{job.evaluation.test_examples} bundled test dialogues "
                                             "(perplexity on 20 test summaries)",
                             settings=f"student {d.student_layers or 'every other'} layer(s), T = {d.temperature:g}, "
                                      f"α = {d.alpha:g} (hard-label weight), {job.training.max_steps} steps",
                             extra="teacher: the model as loaded, no adapter")
        self._job = job
        self.slot.start("distillation", lambda h: run_distill(job, h, resume, teacher=teacher, view_context=context),
                        on_item=self._event, on_progress=self.strip.on_progress, on_finished=self._finished)

    def set_paused(self, paused: bool) -> None:
        (self.slot.pause if paused else self.slot.resume)()
        self.pause_button.setText("Continue" if paused else "Pause")

    def _busy(self, busy: bool) -> None:
        self.train_button.setEnabled(not busy)
        self.pause_button.setEnabled(busy)
        self.resume_button.setEnabled(not busy and self.stopped)
        if not busy and self.pause_button.isChecked():
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)

    def _event(self, ev) -> None:
        from playground.core.distill import events as de
        from playground.core.finetune.events import StageEvent, StoppedEvent

        if isinstance(ev, de.DistillStepEvent):
            self.losses.add(ev.kind, ev.step.step, ev.step.loss, ev.kl, ev.ce)
        elif isinstance(ev, de.ViewEvent) and ev.kind == "soft":  # the student the soft targets teach
            self._show_view(ev.view, f"soft-target student at step {ev.step}")
        elif isinstance(ev, de.StudentEvent):
            self.message.setText(ev.describe())
        elif isinstance(ev, de.MeasuredEvent):
            self._add_row(ev.row)
        elif isinstance(ev, StageEvent) and ev.milestone:
            self.message.setText(ev.describe())
        elif isinstance(ev, StoppedEvent):
            self.stopped = bool(ev.checkpoint) or ev.step == 0
            self.message.setText(ev.describe() + " Resume continues the run.")
        elif isinstance(ev, de.DistillDoneEvent):
            self._done(ev)

    def _add_row(self, row) -> None:
        self.rows = [r for r in self.rows if r.kind != row.kind] + [row]
        self.table.setRowCount(len(self.rows))
        for r, shown in enumerate(self.rows):
            for c, text in enumerate(shown.cells()):
                item = QTableWidgetItem(text)
                item.setToolTip(shown.settings)
                self.table.setItem(r, c, item)

    def _done(self, ev) -> None:
        self.students = dict(ev.students)
        from playground.core.distill.measure import LABELS

        self.use_combo.clear()
        for kind, folder in self.students.items():
            self.use_combo.addItem(LABELS[kind].replace("Student, ", ""), folder)
        self.use_button.setEnabled(bool(self.students))
        self.message.setText(ev.report.get("verdict") or f"Done: the students are saved in {ev.run_dir}.")
        ppl = {r.kind: r.perplexity for r in self.rows}
        d = self._job.distill
        self.sig_trained.emit({"alpha": d.alpha, "temperature": d.temperature, "layers": d.student_layers,
                               "steps": self._job.training.max_steps, "perplexity": ppl, "run_dir": ev.run_dir,
                               "compared": "hard" in self.students})

    def _finished(self, task) -> None:
        self.resume_button.setEnabled(self.stopped)

    # --- the view ------------------------------------------------------------------------------
    def _show_view(self, view, title: str) -> None:
        self.next_token.show_view(view, title)
        self.soft.show_view(view)

    def compare(self) -> None:
        """Teacher and student on the context: the newest saved student, else the untrained cut."""
        teacher = self.teacher()
        if teacher is None:
            self.message.setText("The model is still loading. Try again in a moment.")
            return
        folder = self.students.get("soft", "")
        d, text = self.draft.value.distill, self.context_edit.text()
        self.view_slot.start("compare", lambda h: _view_of(teacher, folder, d.student_layers, text, d.temperature),
                             on_done=lambda out: self._compared(out))

    def _compared(self, out) -> None:
        self._show_view(*out)
        if self.charts.currentWidget() is self.losses.canvas:  # show what Compare drew, not the loss curves
            self.charts.setCurrentWidget(self.next_token.canvas)

    # --- use ------------------------------------------------------------------------------------
    def use_student(self) -> None:
        folder = self.use_combo.currentData()
        if not folder:
            return
        from playground.core.models.sources import ModelSource

        self.context.load_model(ModelSource("local", folder), device="auto", dtype="float32")
        self.sig_used.emit(folder)
        self.message.setText(f"Loading the student from {folder} for every tab (the model bar shows it).")

    # --- labs and notebooks ---------------------------------------------------------------------
    def lab_events(self) -> dict:
        return {"distill.trained": (self.sig_trained, dict), "distill.used": (self.sig_used, lambda f: {"folder": f})}

    def reveal(self, control: str) -> QWidget | None:
        return {"distill_train": self.train_button, "distill_use": self.use_button}.get(control)

    def notebook_state(self) -> dict | None:
        """The finished run as a notebook experiment (None before one)."""
        if not self.students:
            return None
        from playground.core.distill.notebook import distillation_experiment
        from playground.core.evaluation.datasets import load_split
        from playground.core.lifecycle.precision import default_texts

        train = [f"{e.input}\nSummary: {e.reference}" for e in load_split("train").head(16)]
        return distillation_experiment(self._job, self.rows, train, default_texts(20))


def _check(draft):
    from PySide6.QtWidgets import QCheckBox

    meta = draft.field("distill.compare_hard").metadata
    box = QCheckBox(meta["text"])
    box.setToolTip(meta["help"])
    return box


def _fresh(root: Path) -> Path:
    import time

    stamp = time.strftime("%Y%m%d-%H%M%S")
    path, n = root / stamp, 2
    while path.exists():
        path, n = root / f"{stamp}-{n}", n + 1
    return path


def _view_of(teacher, folder: str, layers: int, context: str, temperature: float):
    """(NextTokenView, title) for the Compare button, off the GUI thread."""
    from playground.core.distill.view import next_token_view

    if folder:
        from transformers import AutoModelForCausalLM

        student, title = AutoModelForCausalLM.from_pretrained(folder).eval(), "trained soft-target student"
    else:
        from playground.core.distill.student import make_student

        student, title = make_student(teacher.model, layers)[0].eval(), "student as cut, before training"
    return next_token_view(teacher.model, student, teacher.tokenizer, context, temperature), title
