"""The ReAct (tools) section (issue 31 §3): a trace stepped one click at a time (Next step, Run to end, Stop),
each step a Thought / Action / Observation block, the tool-choice bars at its Action line, edit a step and
continue, with or without a grammar on the Action line, and the success rate over the knowledge questions."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from playground.qt.build.before_after_chart import BeforeAfterChart
from playground.qt.panel import Panel
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, note_label, splitter
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

LESSON = ("<b>ReAct lets a model use tools: it writes a Thought, then an Action (a tool and its input); the "
          "program runs the tool and pastes its real output back as the Observation.</b> The loop repeats until the "
          "model calls finish, writes something the parser cannot read, or reaches the step limit. Tools here: a "
          "calculator (the PAL sandbox), search over the Build tab's knowledge base, and finish. At each Action line "
          "the bars say which tool the model wanted and how sure it was; <i>Constrain the Action line</i> lets only "
          "valid tool calls through (a grammar, as in Structured output). Edit a Thought or an Action and continue: "
          "the trace branches from there.")


class ReactPage(QWidget):
    notebook_kind = "react"
    sig_stepped = Signal(dict)
    """a step was added: {"step": its number, "tool", "status", "constrained", "problem"}"""
    sig_edited = Signal(dict)
    """a step was edited and the trace continued: {"step", "what": "thought" | "action"}"""
    sig_rated = Signal(dict)
    """success rate measured: {"n", "free", "constrained"}"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.run = None
        self.search = None
        self.question = QComboBox()
        self.question.setEditable(True)
        # long questions in the list must not widen the column (the chart beside it needs the room)
        self.question.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.question.setMinimumContentsLength(24)
        self.question.setToolTip("A bundled question that needs the knowledge base and arithmetic, or your own.")
        for p in self._problems():
            self.question.addItem(p.question, p.answer)
        self.constrain = QCheckBox("Constrain the Action line")
        self.constrain.setToolTip("Mask every token that would not continue a valid call tool[input] with a known "
                                  "tool (a regex grammar through xgrammar). The Thought stays free.")
        self.max_steps = QSpinBox()
        self.max_steps.setRange(1, 30)
        self.max_steps.setValue(6)
        self.max_steps.setToolTip("The step limit: the trace stops after this many Thought/Action/Observation steps.")
        self.next_button = button("Next step", "The model writes one Thought and Action; the tool runs; its output "
                                  "becomes the Observation (starts a new trace when the question changed).", self.next_step)
        self.end_button = button("Run to end", "Step until finish, a format the parser cannot read, or the step "
                                 "limit. Stop keeps the steps done.", self.run_to_end)
        self.new_button = button("New trace", "Start again from the question.", self.reset)
        self.rate_button = button("Success rate", "Run every bundled knowledge question to its end, free and "
                                  "constrained, and count the right final answers.", self.rate)
        self.limit = QSpinBox()
        self.limit.setRange(1, 12)
        self.limit.setValue(3)
        self.limit.setToolTip("How many knowledge questions the success rate uses (each is run twice).")
        self.strip = ProgressStrip("Stop after the current step; the steps done stay (Esc).").attach(self.slot)
        self.message = note_label()
        self.slot.say = self.message.setText
        self.slot.sig_busy_changed.connect(self._busy)
        self.header = ResultHeader(empty="No trace yet: pick a question and press Next step.")
        self.trace = QListWidget()
        self.trace.setWordWrap(True)
        self.trace.setToolTip("The trace: one block per step. Select a step to see its tool-choice bars and edit it.")
        self.trace.currentRowChanged.connect(self.show_step)
        self.thought_edit = QLineEdit()
        self.thought_edit.setToolTip("The selected step's Thought: change it and press Edit thought to let the model "
                                     "write a new Action after it.")
        self.action_edit = QLineEdit()
        self.thought_edit.setPlaceholderText("The selected step's Thought")
        self.action_edit.setPlaceholderText("The selected step's Action, e.g. search[ferry fares]")
        self.action_edit.setToolTip("The selected step's Action, as tool[input]: change it and press Edit action to "
                                    "run that tool call instead.")
        self.edit_thought_button = button("Edit thought and continue", "Replace this step's Thought; the steps after "
                                          "it are cut (kept as a branch) and the model writes the Action.",
                                          lambda: self.edit("thought"))
        self.edit_action_button = button("Edit action and continue", "Replace this step's Action; the tool runs on it "
                                         "and the steps after it are cut (kept as a branch).", lambda: self.edit("action"))
        self.rate_label = note_label("", "Success: the finish answer equals the gold number (0.01 tolerance).")
        self.chart = BeforeAfterChart("The probability of each tool name at the selected step's Action line "
                                      "appears here once a step is taken.",
                                      before_label="the model's probability of the name",
                                      after_label="among the tools only (what a constraint keeps)")
        self._lay_out()

    def _problems(self):
        try:
            from playground.core.reasoning.problems import load_problems

            return load_problems(kinds=("knowledge",))
        except Exception:
            return []

    def _verdict(self, run) -> str:
        """Right or wrong against the bundled question's gold number ("" for a question of one's own)."""
        from playground.core.reasoning.answers import extract_answer, is_right

        index = self.question.findText(run.question)
        gold = self.question.itemData(index) if index >= 0 else None
        right = is_right(extract_answer(run.answer or ""), gold)
        if right is None:
            return " (your own question: there is no gold answer to check it against)"
        return f" Right: the gold answer is {gold:g}." if right else f" Wrong: the gold answer is {gold:g}."

    def _lay_out(self) -> None:
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        q_row = QHBoxLayout()
        q_row.addWidget(QLabel("Question"))
        q_row.addWidget(self.question, 1)
        col.addLayout(q_row)
        # The buttons on one row, the constraint and the step limit on the next (one row was 540 px wide).
        for widgets in ((self.next_button, self.end_button, self.new_button),
                        (self.constrain, QLabel("step limit"), self.max_steps)):
            run_row = QHBoxLayout()
            for w in widgets:
                run_row.addWidget(w)
            run_row.addStretch(1)
            col.addLayout(run_row)
        col.addWidget(self.message)
        col.addWidget(self.header)
        col.addWidget(self.trace, 1)
        for edit, push in ((self.thought_edit, self.edit_thought_button), (self.action_edit, self.edit_action_button)):
            row = QHBoxLayout()
            row.addWidget(edit, 1)
            row.addWidget(push)
            col.addLayout(row)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(self.chart.caption)
        rcol.addWidget(self.chart.canvas, 1)
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.rate_button)
        rate_row.addWidget(QLabel("questions"))
        rate_row.addWidget(self.limit)
        rate_row.addStretch(1)
        rcol.addLayout(rate_row)
        rcol.addWidget(self.rate_label)
        outer = QVBoxLayout(self)
        outer.addWidget(Panel.lesson(LESSON))
        split = splitter((left, 3), (right, 2))
        split.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        split.setMinimumHeight(360)
        split.setSizes([700, 500])
        outer.addWidget(split, 1)
        outer.addWidget(self.strip)
        self._busy(False)

    def _busy(self, busy: bool) -> None:
        for b in (self.next_button, self.end_button, self.new_button, self.rate_button, self.edit_thought_button,
                  self.edit_action_button):
            b.setEnabled(not busy)

    # --- the trace ----------------------------------------------------------------------------------
    def reset(self) -> None:
        self.run = None
        self.trace.clear()
        self.chart.clear()
        self.header.clear_result()

    def _ensure_run(self):
        """The current trace, or a new one when there is none or the question or settings changed."""
        loaded = self.context.ready_model(self.message.setText)
        if loaded is None:
            return None
        question = self.question.currentText().strip()
        if (self.run is None or self.run.question != question or self.run.constrain != self.constrain.isChecked()
                or self.run.writer.loaded is not loaded or self.run.max_steps != self.max_steps.value()):
            from playground.core.base.errors import InputError
            from playground.core.reasoning.react_session import open_react
            from playground.core.reasoning.tools import KnowledgeSearch

            self.search = self.search or KnowledgeSearch()
            try:
                self.run = open_react(loaded, question, self.constrain.isChecked(), self.max_steps.value(), self.search)
            except InputError as exc:
                self.message.setText(f"{exc.message} {exc.hint}")
                return None
            self.trace.clear()
            self.header.show_for(loaded, prompt=question, settings=f"greedy · step limit {self.run.max_steps}",
                                 extra="Action line " + ("constrained (xgrammar)" if self.run.constrain else "free"))
        return self.run

    def next_step(self) -> None:
        run = self._ensure_run()
        if run is None:
            return
        if run.status != "running":
            self.message.setText(f"The trace has ended ({run.status}). Edit a step to continue, or start a new trace.")
            return
        self.slot.start("ReAct step", lambda h: (h.report(None, "The model writes a Thought and an Action"),
                                                 run.next_step())[1],
                        on_done=lambda step: self._show_trace(), on_progress=self.strip.on_progress)

    def run_to_end(self) -> None:
        run = self._ensure_run()
        if run is None:
            return

        def work(h):  # a generator: each step arrives as an item, shown as it comes
            for step in run.run_to_end(h.cancelled):
                h.report(None, f"Step {len(run.steps)} done ({step.tool or 'no action'})")
                yield step

        self.slot.start("ReAct run", work, on_item=lambda step: self._show_trace(),
                        on_finished=lambda task: self._show_trace(), on_progress=self.strip.on_progress)

    def edit(self, what: str) -> None:
        row = self.trace.currentRow()
        if self.run is None or not 0 <= row < len(self.run.steps):
            self.message.setText("Select a step of the trace to edit first.")
            return
        text = (self.thought_edit if what == "thought" else self.action_edit).text()
        run = self.run

        def work(h):
            h.report(None, f"Editing step {row + 1}'s {what}")
            return run.edit_thought(row, text) if what == "thought" else run.edit_action(row, text)

        def done(step):
            self._show_trace()
            self.sig_edited.emit({"step": row + 1, "what": what})

        self.slot.start("ReAct edit", work, on_done=done, on_progress=self.strip.on_progress)

    def _show_trace(self) -> None:
        from playground.qt.design import current_colours

        run = self.run
        self.trace.blockSignals(True)
        self.trace.clear()
        for i, s in enumerate(run.steps, 1):
            head = f"Step {i}" + (f" · edited {s.edited}" if s.edited else "") + (" · constrained" if s.constrained else "")
            lines = [head, f"Thought: {s.thought}"]
            if s.problem:
                lines += [f"⚠ {s.problem[0].upper()}{s.problem[1:]}. The model wrote:", s.raw.strip() or "(nothing)"]
            else:
                lines += [f"Action: {s.action_text}", f"Observation: {s.observation}"]
            item = QListWidgetItem("\n".join(lines))
            if s.problem or not s.tool_ok:
                item.setForeground(_brush(current_colours().error))
            self.trace.addItem(item)
        if run.branches:
            self.trace.addItem(QListWidgetItem(f"({len(run.branches)} earlier branch(es) kept: "
                                               + "; ".join(f"{len(b)} step(s) cut" for b in run.branches) + ")"))
        self.trace.blockSignals(False)
        self.trace.setCurrentRow(len(run.steps) - 1)
        end = {"finished": f"Finished: the answer is {run.answer}.{self._verdict(run)}", "stuck": "Stopped: the last step has no readable "
               "Action. Edit it to continue.", "step limit": "Stopped at the step limit."}.get(run.status, "")
        self.message.setText(end)
        if run.steps:
            s = run.steps[-1]
            self.sig_stepped.emit({"step": len(run.steps), "tool": s.tool, "status": run.status,
                                   "constrained": run.constrain, "problem": s.problem})

    def show_step(self, row: int) -> None:
        if self.run is None or not 0 <= row < len(self.run.steps):
            return
        s = self.run.steps[row]
        self.thought_edit.setText(s.thought)
        self.action_edit.setText(s.action_text)
        if s.shares:
            names = list(s.shares)
            before = [s.shares[n] for n in names]
            total = sum(before) or 1.0
            wanted, share = s.wanted
            self.chart.show(names, before, [b / total for b in before], f"step {row + 1}: which tool?",
                            names.index(wanted),
                            f"Step {row + 1}, at the Action line: the three tool names hold {total:.1%} of the model's "
                            f"probability; it wanted <b>{wanted}</b> ({share:.0%} among the tools).")

    # --- success rate -------------------------------------------------------------------------------
    def rate(self) -> None:
        loaded = self.context.ready_model(self.message.setText)
        if loaded is None:
            return
        problems = self._problems()[:self.limit.value()]
        if not problems:
            self.message.setText("The bundled knowledge questions are missing: the success rate needs them.")
            return
        from playground.core.reasoning.react_session import react_success
        from playground.core.reasoning.tools import KnowledgeSearch

        self.search = self.search or KnowledgeSearch()
        search, steps = self.search, self.max_steps.value()
        self.header.show_for(loaded, prompt=f"the first {len(problems)} knowledge questions",
                             settings=f"greedy · step limit {steps}", extra="free and constrained Action lines")

        def work(h):
            return {name: react_success(loaded, problems, on, steps, search, h)
                    for name, on in (("free", False), ("constrained", True))}

        self.slot.start("ReAct success rate", work, on_done=self._rated, on_progress=self.strip.on_progress)

    def _rated(self, reports) -> None:
        f, c = reports["free"], reports["constrained"]
        self.rate_label.setText(f"Over {len(f.outcomes)} questions — right: free {f.success_rate:.0%}, constrained "
                                f"{c.success_rate:.0%}; traces with an unreadable format: free {f.count('stuck')}, "
                                f"constrained {c.count('stuck')}.")
        self.sig_rated.emit({"n": len(f.outcomes), "free": f.success_rate, "constrained": c.success_rate})

    # --- the page protocol --------------------------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        if self.run is not None:
            self.header.mark_stale("another model is loaded; the next step starts a new trace")

    def lab_events(self) -> dict:
        return {"react.stepped": (self.sig_stepped, dict), "react.edited": (self.sig_edited, dict),
                "react.rated": (self.sig_rated, dict)}

    def reveal(self, control: str) -> QWidget | None:
        return {"react_next": self.next_button, "react_edit": self.edit_action_button,
                "react_constrain": self.constrain}.get(control)

    def notebook_state(self) -> dict | None:
        if self.run is None or not self.run.steps:
            return None
        run = self.run
        return {"kind": "react", "question": run.question, "constrain": run.constrain, "tools": list(run.tools),
                "prefixes": [f"{run.history(i)}Thought: {s.thought}\nAction:" for i, s in enumerate(run.steps)],
                "max_steps": self.run.max_steps,
                "steps": [{"thought": s.thought, "action": s.action_text, "observation": s.observation,
                           "problem": s.problem, "shares": s.shares, "edited": s.edited} for s in self.run.steps],
                "status": self.run.status, "answer": self.run.answer}


def _brush(colour: str):
    from PySide6.QtGui import QBrush, QColor

    return QBrush(QColor(colour))
