"""The Reasoning section (issue 31 §1): one problem answered by every strategy side by side (direct, zero-shot
and few-shot chain-of-thought, self-consistency with its vote, PAL with its program run in the sandbox), then
accuracy per strategy over the bundled set, with 95% intervals, the model and settings named."""

from __future__ import annotations

from dataclasses import fields

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.qt.build.reasoning_views import AccuracyView, StrategyColumn
from playground.qt.panel import Panel
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, note_label
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

LESSON = ("<b>How a model is asked to reason changes its answer: at once, step by step, by a vote over several "
          "tries, or by writing a program that a computer runs.</b> Direct prompting wants the number alone. "
          "Chain-of-thought has the model write its steps first (zero-shot: the reply opens with \"Let's think step "
          "by step\"; few-shot: three worked examples come first), so the answer is conditioned on them. "
          "Self-consistency samples k such paths at a temperature and votes. PAL has the model write Python that the "
          "app's sandbox runs, so the arithmetic is exact. Each column shows the full reply, the number read from "
          "it, right or wrong, tokens and time.")
SIZE_NOTE = ("The bundled SmolLM2-135M is far too small for multi-step arithmetic: expect low accuracy for every "
             "strategy, and programs that do not parse. The gains of chain-of-thought and PAL in their papers appear "
             "with models of billions of parameters. Load a larger instruction model from a folder or the Hub in "
             "the model bar (a 1.5B–8B Qwen or Llama instruct model, on a GPU if you have one) and run the set again: "
             "few-shot chain-of-thought and PAL then pull ahead of direct answers.")


class ReasoningPage(QWidget):
    notebook_kind = "reasoning"
    sig_compared = Signal(dict)
    """strategies compared on one problem: {"problem_id", "strategies", "right", "pal_program", "pal_refused",
    "k", "temperature"}"""
    sig_sandbox_run = Signal(dict)
    """an edited program run in the sandbox: {"refused", "error", "value"}"""
    sig_set_run = Signal(dict)
    """a run over the set ended: {"problems", "strategies", "accuracy": {key: 0-1}, "stopped"}"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.reasoning.prompts import STRATEGIES

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.problems = self._problems()
        self.results: dict = {}
        self.problem = None
        self.settings_used = None
        self.report = None
        self.problem_box = QComboBox()
        self.problem_box.setEditable(True)
        self.problem_box.setToolTip("A bundled word problem (its gold answer is known), or type your own.")
        for p in self.problems:
            self.problem_box.addItem(p.question, p)
        self.problem_box.setMinimumContentsLength(24)  # narrower: a long question scrolls in the box
        self.gold = QLineEdit()
        self.gold.setMaximumWidth(90)
        self.gold.setToolTip("The gold answer used to grade the strategies (a number). Empty: the answers are shown "
                             "ungraded.")
        self.problem_box.currentIndexChanged.connect(self._fill_gold)
        self._fill_gold()
        short = {"direct": "Direct", "cot": "CoT", "fewshot": "CoT few-shot", "sc": "Self-consistency", "pal": "PAL"}
        self.checks = {k: QCheckBox(short[k]) for k in STRATEGIES}
        for key, box in self.checks.items():
            box.setChecked(True)
            box.setToolTip(STRATEGIES[key].sentence)
        self.k = self._number("k")
        self.temperature = self._number("temperature")
        self.reasoning_tokens = self._number("reasoning_tokens")
        self.compare_button = button("Compare strategies", "Run every ticked strategy on this problem, one after "
                                     "the other, greedy except self-consistency (Ctrl+Enter).", self.compare)
        self.limit = QSpinBox()
        self.limit.setRange(1, max(1, len(self.problems)))
        self.limit.setValue(min(10, max(1, len(self.problems))))
        self.limit.setToolTip("How many bundled problems to run (each with every ticked strategy). On a CPU, 10 "
                              "problems with all five strategies take several minutes.")
        self.run_set_button = button("Run the whole set", "Every ticked strategy on the first N bundled problems: "
                                     "accuracy per strategy with its 95% interval.", self.run_set)
        self.strip = ProgressStrip("Stop after the current reply; what is finished stays (Esc).").attach(self.slot)
        self.message = note_label()
        self.slot.say = self.message.setText
        self.slot.sig_busy_changed.connect(self._busy)
        self.header = ResultHeader(empty="No answers yet: pick a problem and press Compare strategies.")
        self.set_header = ResultHeader(empty="No run over the set yet: press Run the whole set.")
        self.columns = {k: StrategyColumn(k, self.run_program if k == "pal" else None) for k in STRATEGIES}
        self.accuracy = AccuracyView()
        self._lay_out()

    # --- building the page --------------------------------------------------------------------------
    def _problems(self):
        try:
            from playground.core.reasoning.problems import bundled_problems

            return bundled_problems()
        except Exception:  # the set missing or unreadable: the learner types a problem
            return []

    def _number(self, name: str):
        from playground.core.reasoning.settings import ReasoningSettings

        f = next(f for f in fields(ReasoningSettings) if f.name == name)
        lo, hi, step = f.metadata["range"]
        box = QDoubleSpinBox() if isinstance(f.default, float) else QSpinBox()
        if isinstance(box, QDoubleSpinBox):
            box.setDecimals(f.metadata.get("decimals", 2))
        box.setRange(lo, hi)
        box.setSingleStep(step)
        box.setValue(f.default)
        box.setToolTip(f.metadata["help"])
        box.label = f.metadata["label"]
        return box

    def _lay_out(self) -> None:
        outer = QVBoxLayout(self)
        outer.addWidget(Panel.lesson(LESSON))
        row = QHBoxLayout()
        row.addWidget(QLabel("Problem"))
        row.addWidget(self.problem_box, 1)
        row.addWidget(QLabel("Gold"))
        row.addWidget(self.gold)
        outer.addLayout(row)
        row = QHBoxLayout()  # the strategies on one row, their settings and Compare on the next: one row was 990 px
        for box in self.checks.values():
            row.addWidget(box)
        row.addStretch(1)
        outer.addLayout(row)
        row = QHBoxLayout()
        for w in (self.k, self.temperature, self.reasoning_tokens):
            lab = QLabel(w.label)
            lab.setToolTip(w.toolTip())
            row.addWidget(lab)
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.compare_button)
        outer.addLayout(row)
        outer.addWidget(self.message)
        self.views = _Views()
        self.views.setDocumentMode(True)
        one = QWidget()
        col = QVBoxLayout(one)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(self.header)
        cols = QHBoxLayout()
        for c in self.columns.values():
            cols.addWidget(c, 1)
        col.addLayout(cols, 1)
        self.views.addTab(one, "One problem")
        whole = QWidget()
        col = QVBoxLayout(whole)
        col.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        for w in (QLabel("Problems"), self.limit, self.run_set_button):
            row.addWidget(w)
        row.addStretch(1)
        col.addLayout(row)
        col.addWidget(self.set_header)
        size = note_label(SIZE_NOTE)
        size.setWordWrap(True)
        col.addWidget(size)
        col.addWidget(self.accuracy, 1)
        self.views.addTab(whole, "Whole set")
        # The views share the room under the lesson instead of asking for their whole height (the tab scrolled
        # down by what their wrapped notes asked).
        self.views.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.views.setMinimumHeight(300)
        outer.addWidget(self.views, 1)
        outer.addWidget(self.strip)
        from playground.qt.shortcuts import run_shortcut

        run_shortcut(self, self.compare)

    def _fill_gold(self) -> None:
        p = self.problem_box.currentData()
        if p is not None and self.problem_box.currentText() == p.question:
            from playground.core.reasoning.answers import format_number

            self.gold.setText(format_number(p.answer).replace(",", ""))

    def _busy(self, busy: bool) -> None:
        for w in (self.compare_button, self.run_set_button):
            w.setEnabled(not busy)
        pal = self.columns["pal"].run_program_button
        pal.setEnabled(not busy)

    # --- inputs -------------------------------------------------------------------------------------
    def settings(self):
        from playground.core.reasoning.settings import ReasoningSettings

        return ReasoningSettings(k=int(self.k.value()), temperature=float(self.temperature.value()),
                                 reasoning_tokens=int(self.reasoning_tokens.value()))

    def chosen(self) -> list[str]:
        return [k for k, box in self.checks.items() if box.isChecked()]

    def _current_problem(self):
        from playground.core.reasoning.problems import own_problem

        p = self.problem_box.currentData()
        text = self.problem_box.currentText()
        if p is not None and text == p.question and self.gold.text().strip() == _plain(p.answer):
            return p
        return own_problem(text, self.gold.text())

    def _ready(self):
        from playground.core.base.errors import InputError

        loaded = self.context.ready_model(self.message.setText)
        if loaded is None:
            return None
        try:
            settings = self.settings()
            settings.validate()
            if not self.chosen():
                raise InputError("No strategy is ticked.", "Tick at least one strategy.")
            return loaded, settings
        except InputError as exc:
            self.message.setText(f"{exc.message} {exc.hint}".strip())
            return None

    # --- one problem --------------------------------------------------------------------------------
    def compare(self) -> None:
        from playground.core.base.errors import InputError

        ready = self._ready()
        if ready is None:
            return
        loaded, settings = ready
        try:
            problem = self._current_problem()
        except InputError as exc:
            self.message.setText(f"{exc.message} {exc.hint}".strip())
            return
        keys = self.chosen()
        self.problem, self.settings_used, self.results = problem, settings, {}
        for key, column in self.columns.items():
            column.clear("waiting…" if key in keys else "not ticked")
        self.views.setCurrentIndex(0)
        self.header.show_for(loaded, prompt=f"{problem.id}: {problem.question}", settings=settings.describe(),
                             extra=f"strategies: {', '.join(keys)}")

        def work(h):
            from playground.core.reasoning.strategies import run_strategy

            for i, key in enumerate(keys):
                h.report(i / len(keys), f"{i + 1} of {len(keys)} · {self.columns[key].title.text()}")
                yield run_strategy(loaded, problem, key, settings, h)

        self.slot.start("compare strategies", work, on_item=self._one_result, on_done=self._compared,
                        on_progress=self.strip.on_progress)

    def _one_result(self, result) -> None:
        self.results[result.strategy] = result
        self.columns[result.strategy].show_result(result)

    def _compared(self, _=None) -> None:
        pal = self.results.get("pal")
        self.sig_compared.emit({
            "problem_id": self.problem.id if self.problem else "", "strategies": list(self.results),
            "right": {k: r.right for k, r in self.results.items()},
            "pal_program": bool(pal and pal.program), "pal_refused": pal.sandbox.refused if pal and pal.sandbox else None,
            "k": self.settings_used.k, "temperature": self.settings_used.temperature})

    def run_program(self) -> None:
        from playground.core.reasoning.sandbox import run_program

        code = self.columns["pal"].program.toPlainText()
        seconds = self.settings().sandbox_seconds
        self.slot.start("sandbox", lambda h: run_program(code, timeout_s=seconds), on_done=self._sandboxed)

    def _sandboxed(self, result) -> None:
        self.columns["pal"].show_sandbox(result)
        self.sig_sandbox_run.emit({"refused": result.refused, "error": result.error, "value": repr(result.value)})

    # --- the whole set ------------------------------------------------------------------------------
    def run_set(self) -> None:
        ready = self._ready()
        if ready is None:
            return
        loaded, settings = ready
        if not self.problems:
            self.message.setText("The bundled problem set is missing (resources/reasoning/problems.jsonl).")
            return
        from playground.core.reasoning.evaluation import run_set

        problems, keys = self.problems[: self.limit.value()], self.chosen()
        self.views.setCurrentIndex(1)
        self.set_header.show_for(loaded, prompt=f"the first {len(problems)} bundled problems",
                                 settings=settings.describe(), extra=f"strategies: {', '.join(keys)}")
        self.strip.sig_stop.disconnect()
        self.strip.sig_stop.connect(lambda: self.slot.stop(graceful=True))
        self.slot.start("reasoning set", lambda h: run_set(loaded, problems, keys, settings, h),
                        on_done=self._set_done, on_progress=self.strip.on_progress,
                        on_finished=lambda _t: self._plain_stop())

    def _plain_stop(self) -> None:
        self.strip.sig_stop.disconnect()
        self.strip.sig_stop.connect(lambda: self.slot.stop())

    def _set_done(self, report) -> None:
        self.report = report
        self.accuracy.show_report(report)
        self.sig_set_run.emit({"problems": report.done, "strategies": list(report.strategies),
                               "accuracy": {k: s.accuracy for k, s in report.scores.items()},
                               "stopped": report.stopped})

    # --- the page protocol --------------------------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        if self.results:
            self.header.mark_stale("another model is loaded; compare again to see it")
        if self.report is not None:
            self.set_header.mark_stale("another model is loaded; run the set again to see it")

    def lab_events(self) -> dict:
        return {"reason.compared": (self.sig_compared, dict), "reason.sandbox_run": (self.sig_sandbox_run, dict),
                "reason.set_run": (self.sig_set_run, dict)}

    def reveal(self, control: str) -> QWidget | None:
        where = {"compare_button": (0, self.compare_button), "pal_program": (0, self.columns["pal"].program),
                 "run_program_button": (0, self.columns["pal"].run_program_button),
                 "k": (0, self.k), "run_set_button": (1, self.run_set_button)}.get(control)
        if where is None:
            return None
        self.views.setCurrentIndex(where[0])
        return where[1]

    def notebook_state(self) -> dict | None:
        if not self.results or self.problem is None:
            return None
        from playground.core.reasoning.notebook import reasoning_experiment

        return reasoning_experiment(self.problem, list(self.results.values()), self.settings_used)


def _plain(value) -> str:
    from playground.core.reasoning.answers import format_number

    return format_number(value).replace(",", "")


class _Views(QTabWidget):
    """The result views: no height-for-width, so the wrapped note of "Whole set" cannot make the page ask
    for more height than the room under the lesson (a vertically Ignored policy alone does not stop it)."""

    def hasHeightForWidth(self) -> bool:
        return False
