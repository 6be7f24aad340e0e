"""The Evaluate tab: summarize dialogues with up to four systems, score them with ROUGE and BLEU,
and see which words matched."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.errors import InputError, describe_exception
from playground.core.evaluation.run import ADAPTER, FILE, K_SHOT, MAX_SYSTEMS, ZERO_SHOT
from playground.qt.evaluate.arena_page import ArenaPage
from playground.qt.evaluate.benchmark_page import BenchmarkPage
from playground.qt.evaluate.data import DataMixin
from playground.qt.evaluate.exports import ExportsMixin
from playground.qt.evaluate.generation import GenerationMixin
from playground.qt.evaluate.provenance import FileProvenance, system_provenance  # noqa: F401 (re-exported)
from playground.qt.evaluate.results import ResultsView
from playground.qt.evaluate.systems import SystemRow
from playground.qt.panel import Panel
from playground.qt.sections import SectionsMixin
from playground.qt.shortcuts import run_shortcut
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, group, note_label, splitter
from playground.qt.widgets.progress_strip import ProgressStrip

LESSON = (
    "<b>ROUGE and BLEU score a summary by the words it shares with one a person wrote.</b> "
    "ROUGE compares an output with a reference written by a person. "
    "<i>ROUGE-1</i> counts the words they share, <i>ROUGE-2</i> the pairs of neighbouring words, "
    "<i>ROUGE-L</i> the longest run of words found in both in the same order (gaps allowed); each is "
    "the F1 of precision (how much of the output matches) and recall (how much of the reference is "
    "recovered). <i>BLEU</i>, from translation, multiplies the precisions of 1- to 4-word n-grams and "
    "penalises short outputs. Their limits: they count surface words, so a correct summary in other "
    "words (synonyms, 'agreed' for 'said yes') scores low, and ROUGE-1 ignores word order ('the dog bit "
    "the man' = 'the man bit the dog'). Compare systems on the same examples, mind the intervals, and "
    "read the outputs too."
)


class EvaluatePanel(DataMixin, ExportsMixin, GenerationMixin, SectionsMixin, Panel):
    title = "Evaluate"
    guide = ("Score summaries with ROUGE and BLEU, multiple-choice benchmarks by log-likelihood, and two systems "
             "in a blind arena.")
    help = """<h2>Evaluate: ROUGE and BLEU, benchmarks, the arena</h2>
<p><b>ROUGE-1</b> counts shared words between a summary and a reference, <b>ROUGE-2</b> shared word pairs,
<b>ROUGE-L</b> the longest common subsequence (words in the same order). <b>BLEU</b> averages n-gram
precisions, with a penalty for short outputs. Both only match exact words: a good summary in other words
(synonyms) scores low, and a summary with the right words in a wrong order can score high.</p>
<p><b>Benchmarks</b> score multiple choice the way lm-evaluation-harness does: the log-likelihood of each
choice after the context; <b>acc</b> picks the highest total, <b>acc_norm</b> the highest per byte (a long
choice is not penalised for its length). A benchmark seen in training says nothing (contamination).
<b>Arena</b>: two systems answer blind as A and B; the votes fit Bradley&ndash;Terry strengths with
intervals, and become preference pairs for the Align tab's reward model.</p>"""
    notebook_kind = "evaluation"

    def lab_events(self) -> dict:
        def finished(reports) -> dict | None:
            if not reports:
                return None
            return {"systems": list(reports), "rouge": {label: {k: float(r.rouge[k]) for k in ("rouge1", "rouge2", "rougeL")}
                                                        for label, r in reports.items()}}

        events = {"evaluation": (self.sig_evaluation_finished, finished)}
        return {**events, **self.pages_lab_events()}

    def notebook_state(self) -> dict | None:
        results = list(self.results_view.results)
        if not results or not self.labels:
            return None
        label = self.labels[-1]
        provenance = (self.run_info.get("provenance") or {}).get(label)
        return {"kind": "evaluation", "system": label, "predictions": [r.outputs[label] for r in results],
                "references": [r.example.reference for r in results],
                "provenance": provenance.as_dict() if provenance is not None else {}}

    def reveal(self, control: str) -> QWidget | None:
        if control == "run_button":
            self.sections.setCurrentWidget(self.summaries)
            return self.run_button
        return self.reveal_in_pages(control)

    sig_evaluation_finished = Signal(object)
    """dict label -> ScoreReport once a run is scored (also after Stop); {} when nothing finished"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.task = None
        self.score_task = None
        # Scoring follows a run in its own slot: Stop ends the run, never the scoring of what it kept.
        self.score_slot = TaskSlot(context.runner, parent=self)
        self.user_data = None
        self.labels: list[str] = []
        self.total = 0
        self._started = 0.0
        self.stopped = False
        self.reports: dict = {}
        self.run_info: dict = {}
        self._run_base = None  # the base model the shown scores were made with
        self._build_draft()

        data_box = self._build_data_box()

        sys_box = self._build_systems_box()
        gen_box = self._build_generation_box()

        self._build_run_controls()

        controls = QVBoxLayout()
        controls.setContentsMargins(0, 0, 0, 0)
        controls.addWidget(data_box)
        controls.addWidget(sys_box)
        controls.addWidget(gen_box)
        controls.addWidget(self.run_button)
        controls.addWidget(self.message_label)
        controls.addStretch(1)
        left = QWidget()
        left.setLayout(controls)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(left)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # As wide as the controls need (the systems' rows are the widest), so nothing is cut at
        # the right edge; a projector's zoom that makes them wider still gets a scroll bar.
        self._left_scroll = scroll
        self._fit_left()
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

        # The results: one line naming what made them, the exports beside it, the progress strip.
        self.results_view = ResultsView()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.results_view.header, 1)
        top.addWidget(self.csv_button)
        top.addWidget(self.html_button)
        right = QWidget()
        rlay = QVBoxLayout(right)
        rlay.setContentsMargins(0, 0, 0, 0)
        rlay.addLayout(top)
        rlay.addWidget(self.strip)
        rlay.addWidget(self.rate_label)
        rlay.addWidget(self.results_view, 1)
        split = splitter((scroll, 0), (right, 1))
        split.setChildrenCollapsible(False)
        # Its size hint is the whole results' height: ignored, so the tab fits the window (with the
        # lesson above it) and the parts inside share the room instead of the tab scrolling down.
        from PySide6.QtWidgets import QSizePolicy

        split.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        split.setMinimumHeight(420)
        # Sections: summaries scored by ROUGE and BLEU (this page), then the others (add_section).
        summaries = QWidget()
        inner = QVBoxLayout(summaries)
        inner.addWidget(self.lesson(LESSON))  # the section's explanation: one place, at the top
        inner.addWidget(split, 1)
        self.summaries = summaries
        self.make_sections().addTab(summaries, "Summaries (ROUGE, BLEU)")
        self.add_section(BenchmarkPage(context), "Benchmarks")
        self.add_section(ArenaPage(context), "Arena")
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.sections)

        run_shortcut(self, self.run)
        self._show_systems(self.draft.value.systems)
        self.draft.connect_path("data", self._data_changed)
        self._data_changed()
        for r in self.system_rows:
            r.sig_changed.connect(self._systems_changed)
        context.sig_adapter_changed.connect(self._adapter_changed)
        self._offer_attached(context.session.adapter)

    def _build_draft(self) -> None:
        from playground.core.evaluation.datasets import SPLITS
        from playground.core.evaluation.evaluate_settings import EvaluateSettings
        from playground.qt.binding import Draft, persist

        # The ``evaluate`` section of the settings: every row below is bound to one of its fields, and
        # a run reads this value, not the widgets.
        self.draft = Draft(EvaluateSettings(), self)
        persist(self.draft, self.context.settings)
        if self.draft.value.data not in SPLITS:  # a file of one's own is not remembered
            self.draft.set("data", "test")

    def _build_systems_box(self) -> QGroupBox:
        defaults = [(ZERO_SHOT, True), (K_SHOT, False), (ADAPTER, False), (FILE, False)]
        self.system_rows = [SystemRow(i + 1, kind, on) for i, (kind, on) in enumerate(defaults[:MAX_SYSTEMS])]
        sys_layout = QVBoxLayout()
        for r in self.system_rows:
            sys_layout.addWidget(r)
        return group("Systems to compare (up to 4)", sys_layout)

    def _build_run_controls(self) -> None:
        self.run_button = button("Evaluate  (Ctrl+Enter)", "Generate a summary with every system for each "
                                 "example, then score them.", self.run)
        # One progress strip for the run and its scoring: phase, examples x of y, elapsed, time left, Stop.
        self.strip = ProgressStrip("Stop after the current token; the examples already finished are scored (Esc).")
        self.strip.sig_stop.connect(self.stop)
        self.stop_button = self.strip.stop_button
        self.rate_label = note_label("")
        self.message_label = self.message_line()
        self.csv_button = button("Export CSV…", "Every example: dialogue, reference, each output and its ROUGE "
                                 "(0-100).", self._ask_export_csv)
        self.html_button = button("Export HTML…", "One self-contained report: where each system's outputs came "
                                  "from, settings, scores, chart and every example.", self._ask_export_html)
        for b in (self.csv_button, self.html_button):
            b.setEnabled(False)

    def _fit_left(self) -> None:
        scroll = self._left_scroll
        need = (scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
                + 2 * scroll.frameWidth())
        scroll.setMinimumWidth(max(320, need))

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent, QTimer

        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "_left_scroll"):  # the presenter's zoom
            QTimer.singleShot(0, self._fit_left)

    # systems ------------------------------------------------------------------------------------
    def _offer_attached(self, adapted) -> None:
        """Fill the adapter row with the fine-tuned model attached in the model bar (if it is free)."""
        folder = adapted.extras.get("adapter_dir", "") if adapted is not None else ""
        row = next((r for r in self.system_rows if r.kind == ADAPTER), None)
        if not folder or row is None or row.path_edit.text().strip():
            return
        row.set_path(folder)
        row.enabled_check.setChecked(True)

    def _show_systems(self, records: list) -> None:
        """Put the kept systems back in their rows (before the rows' changes are listened to)."""
        for row, item in zip(self.system_rows, records or []):
            path = row.path_edit.text().strip() if row.show_state(item) else ""
            if row.kind == ADAPTER and path:
                self._prompt_from = path  # its prompt settings were restored above, as saved

    def _systems_changed(self) -> None:
        """Keep the rows in the draft (the one place they are synced), and for an adapter from a
        Fine-tune run, build prompts as it was trained (template, chat template)."""
        from playground.core.evaluation.run import training_prompt

        self.draft.set("systems", [r.state() for r in self.system_rows])
        for r in self.system_rows:
            path = r.path_edit.text().strip()
            if r.kind != ADAPTER or not r.is_enabled() or not path or path == self._prompt_from:
                continue
            trained = training_prompt(path)
            if trained is None:
                continue
            self._prompt_from = path
            template, chat = trained
            self._show_template(template)
            self.draft.set("use_chat_template", chat)
            return

    # run ----------------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.slot.busy or self.score_slot.busy or self.pages_busy()

    def run(self) -> None:
        if self.busy:
            return
        self.message_label.setText("")
        value = self.draft.value
        try:
            plan = self._plan(value)
        except Exception as exc:  # every refusal is a message beside the button
            msg, hint = describe_exception(exc)
            self.message_label.setText(f"{msg} {hint}".strip())
            return
        from playground.core.evaluation.run import run_evaluation

        loaded, data, examples, specs, train, attached = plan
        tokenizer, stem = value.tokenizer, value.use_stemmer
        settings = value.generation()  # greedy: the same systems score the same again
        self.labels = [s.display() for s in specs]
        self.total = len(examples)
        self.stopped = False
        self.reports = {}
        base_name = loaded.info.name if loaded else ""
        models = {s.display(): s.model_name(base_name) for s in specs}
        provenance = system_provenance(loaded, specs, value, data.name, len(examples))
        self.run_info = {"dataset": data.name, "model": "; ".join(f"{k}: {v}" for k, v in models.items()),
                         "models": models, "tokenizer": tokenizer, "use_stemmer": stem,
                         "provenance": provenance}
        self.results_view.reset(self.labels, tokenizer, stem, models, provenance)
        self._run_base = loaded
        self.rate_label.setText("")
        self.strip.start("Starting")
        self._started = time.perf_counter()
        self.task = self.slot.start(
            "evaluate", lambda h: run_evaluation(loaded, examples, specs, train=train, settings=settings,
                                                 tokenizer=tokenizer, use_stemmer=stem, handle=h,
                                                 attached=attached),
            on_item=self._on_result, on_progress=self._on_progress, on_failed=self._on_failed,
            on_finished=self._on_run_finished)
        self._set_running(True)

    def _plan(self, value):
        from dataclasses import replace

        template = value.template
        chat = bool(template) and value.use_chat_template
        specs = [replace(r.spec(), template=template, use_chat_template=chat)
                 for r in self.system_rows if r.is_enabled()]
        if not specs:
            raise InputError("No system is ticked.", "Tick at least one system to evaluate.")
        data = self.dataset()
        examples = data.head(value.count)
        if not examples:
            raise InputError("The dataset has no rows to evaluate.")
        # Every system names its model: zero-shot and k-shot run on the base model (adapter off,
        # whatever the model bar's switch says); an adapter row loads its folder on a copy of it.
        loaded = self.context.session.base
        if loaded is None and any(s.needs_model for s in specs):
            raise InputError("The model is still loading.", "Try again in a moment.")
        train = None
        if any(s.kind == K_SHOT for s in specs):
            from playground.core.evaluation.datasets import load_split

            train = load_split("train").examples
        from playground.core.evaluation.run import check_systems

        check_systems(specs)
        return loaded, data, examples, specs, train, self.context.session.adapter

    def _set_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running)
        if not running:
            self.strip.finish()
        for b in (self.csv_button, self.html_button):
            b.setEnabled(not running and bool(self.reports))

    def _on_result(self, result) -> None:
        self.results_view.add_result(result)

    def _on_progress(self, fraction, message: str) -> None:
        self.strip.on_progress(fraction, message)

    def _on_failed(self, message: str, hint: str) -> None:
        kept = len(self.results_view.results)
        extra = f" The {kept} example{'s' if kept != 1 else ''} finished before are kept and scored." if kept else ""
        self.message_label.setText(f"{message} {hint}{extra}".strip())

    def _on_run_finished(self, task) -> None:
        self.stopped = task.outcome == "cancelled"
        results = list(self.results_view.results)
        done = len(results)
        elapsed = time.perf_counter() - self._started
        note = " (stopped)" if self.stopped else ""
        from playground.core.base.progress import format_duration

        self.rate_label.setText(f"{done} of {self.total} examples in {format_duration(elapsed)}{note}")
        if not results:
            self._set_running(False)
            self.sig_evaluation_finished.emit({})
            return
        from playground.core.evaluation.run import score_results

        labels, tok, stem = list(self.labels), self.run_info["tokenizer"], self.run_info["use_stemmer"]
        self.score_task = self.score_slot.start(
            "score", lambda h: score_results(results, labels, tokenizer=tok, use_stemmer=stem, handle=h),
            on_done=self._on_scored, on_failed=lambda m, h: self.message_label.setText(f"{m} {h}".strip()),
            on_progress=self.strip.on_progress, on_finished=lambda task: self._on_score_finished())

    def _on_scored(self, reports: dict) -> None:
        self.reports = reports
        self.results_view.show_reports(reports)

    def stop(self) -> None:
        """Esc or the strip's Stop: end the run; the examples finished are still scored."""
        self.slot.stop()
        self.stop_pages()

    def on_model_changed(self, loaded) -> None:
        """Scores made with another base model stay readable, marked as out of date. (The model bar's
        adapter switch changes nothing here: every system names the model it runs.)"""
        if self._run_base is not None and self.context.session.base is not self._run_base:
            self.results_view.header.mark_stale("the model changed since; evaluate again to compare")
        self.pages_model_changed(loaded)

    def _adapter_changed(self, adapted) -> None:
        self._offer_attached(adapted)

    def _on_score_finished(self) -> None:
        self._set_running(False)
        self.sig_evaluation_finished.emit(self.reports)
