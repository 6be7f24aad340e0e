"""The Structured output section (issue 31 §2): the same question answered as JSON, free and constrained by a
grammar (xgrammar), the next-token bars before and after the mask at a chosen step, and the parse rate over
the problem set with and without the constraint."""

from __future__ import annotations

import html
import json

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QSpinBox, QTextEdit, QVBoxLayout, QWidget

from playground.qt.build.before_after_chart import BeforeAfterChart
from playground.qt.panel import Panel
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, note_label, splitter
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

LESSON = ("<b>Constrained decoding makes invalid output impossible: at every step the tokens a grammar forbids "
          "get probability zero.</b> Asked for JSON, a small model often writes a sentence, a missing quote or "
          "another field name. Here the JSON Schema is compiled into a grammar (xgrammar) over the whole vocabulary; "
          "at each step only the tokens that keep the text valid stay, and the model picks among them. The bars show "
          "one step before and after the mask, and how much of the model's probability the grammar removed. The "
          "answer always parses; whether it is <i>right</i> is still up to the model.")


class StructuredPage(QWidget):
    notebook_kind = "structured"
    sig_compared = Signal(dict)
    """free and constrained answers shown: {"question", "free_parsed", "constrained_parsed", "removed_max"}"""
    sig_rated = Signal(dict)
    """parse rate over the set measured: {"n", "free", "constrained"} (shares 0-1)"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.reasoning.constrained import ANSWER_SCHEMA

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.results: dict = {}          # "free" / "constrained" -> StructuredResult
        self.rates: dict = {}            # "free" / "constrained" -> ParseReport
        self.asked = ""
        self.question = QComboBox()
        self.question.setEditable(True)
        # long questions in the list must not widen the column (the chart beside it needs the room)
        self.question.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.question.setMinimumContentsLength(24)
        self.question.setToolTip("A bundled word problem, or type your own question.")
        for p in self._problems():
            self.question.addItem(p.question, p.answer)
        self.schema = QPlainTextEdit(json.dumps(ANSWER_SCHEMA, indent=1))
        self.schema.setToolTip("The JSON Schema the constrained answer must match. The grammar is compiled from it; "
                               "something that is not a JSON Schema is refused with the reason.")
        self.schema.setMaximumHeight(110)
        self.run_button = button("Answer free and constrained", "Greedy decoding twice: once free, once with every "
                                 "token the schema's grammar forbids masked (Ctrl+Enter).", self.compare)
        self.rate_button = button("Parse rate over the set", "Answer the first N bundled problems as JSON, free and "
                                  "constrained, and count the answers that parse and match the schema.", self.rate)
        self.limit = QSpinBox()
        self.limit.setRange(1, 60)
        self.limit.setValue(8)
        self.limit.setToolTip("How many bundled problems the parse rate uses (each is answered twice).")
        self.strip = ProgressStrip("Stop after the current answer (Esc).").attach(self.slot)
        self.message = note_label()
        self.slot.say = self.message.setText
        self.slot.sig_busy_changed.connect(lambda busy: (self.run_button.setEnabled(not busy),
                                                         self.rate_button.setEnabled(not busy)))
        self.header = ResultHeader(empty="No answers yet: pick a question and press Answer free and constrained.")
        self.free_text, self.constrained_text = QTextEdit(), QTextEdit()
        for box, tip, empty in ((self.free_text, "What the model wrote with no constraint, and whether it parsed.",
                                 "The free answer appears here."),
                                (self.constrained_text, "What it wrote with the grammar's mask, and whether it parsed.",
                                 "The constrained answer appears here.")):
            box.setReadOnly(True)
            box.setToolTip(tip)
            box.setPlaceholderText(empty)
        self.step = QSpinBox()
        self.step.setToolTip("The constrained answer's step whose bars are shown (the first token is step 1).")
        self.step.valueChanged.connect(self.show_step)
        self.step.setEnabled(False)
        self.rate_label = note_label("", "Parse rate: the share of answers that are JSON matching the schema; right: "
                                         "the share whose answer equals the gold number.")
        self.chart = BeforeAfterChart("The next-token bars before and after the grammar's mask appear here "
                                      "once a constrained answer is made.")
        self._lay_out()

    def _problems(self):
        try:
            from playground.core.reasoning.problems import bundled_problems

            return bundled_problems()
        except Exception:  # the set missing or unreadable: the learner types a question
            return []

    def _lay_out(self) -> None:
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        q_row = QHBoxLayout()
        q_row.addWidget(QLabel("Question"))
        q_row.addWidget(self.question, 1)
        col.addLayout(q_row)
        col.addWidget(self.schema)
        # One question's answers on one row, the rate over the set on the next (one row was 450 px wide).
        for widgets in ((self.run_button,), (self.rate_button, QLabel("problems"), self.limit)):
            run_row = QHBoxLayout()
            for w in widgets:
                run_row.addWidget(w)
            run_row.addStretch(1)
            col.addLayout(run_row)
        col.addWidget(self.message)
        col.addWidget(self.header)
        texts = QHBoxLayout()
        texts.addWidget(self.free_text)
        texts.addWidget(self.constrained_text)
        col.addLayout(texts, 1)
        col.addWidget(self.rate_label)
        right = QWidget()
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        s_row = QHBoxLayout()
        s_row.addWidget(QLabel("Step of the constrained answer"))
        s_row.addWidget(self.step)
        s_row.addStretch(1)
        rcol.addLayout(s_row)
        rcol.addWidget(self.chart.caption)
        rcol.addWidget(self.chart.canvas, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(Panel.lesson(LESSON))
        split = splitter((left, 3), (right, 2))
        from PySide6.QtWidgets import QSizePolicy

        split.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        split.setMinimumHeight(360)
        split.setSizes([640, 560])  # the bars need the room of their token labels
        outer.addWidget(split, 1)
        outer.addWidget(self.strip)
        from playground.qt.shortcuts import run_shortcut

        run_shortcut(self, self.compare)

    # --- answering ----------------------------------------------------------------------------------
    def _inputs(self):
        from playground.core.base.errors import InputError
        from playground.core.reasoning.constrained import check_schema

        loaded = self.context.ready_model(self.message.setText)
        if loaded is None:
            return None
        if loaded.is_encoder_decoder:
            self.message.setText("Structured output here needs a decoder-only model: load the bundled SmolLM2.")
            return None
        try:
            schema = check_schema(self.schema.toPlainText())
        except InputError as exc:
            self.message.setText(f"{exc.message} {exc.hint}")
            return None
        return loaded, schema

    def compare(self) -> None:
        got = self._inputs()
        if got is None:
            return
        loaded, schema = got
        question = self.question.currentText().strip()
        if not question:
            self.message.setText("The question is empty. Type one or pick one from the list.")
            return
        from playground.core.reasoning.constrained import decode_structured, structured_prompt

        self.asked = question
        self.header.show_for(loaded, prompt=question, settings="greedy · JSON Schema "
                             + ("(the default)" if "answer" in schema.get("properties", {}) else "(yours)"),
                             extra="constrained by xgrammar")

        def work(h):
            prompt = structured_prompt(loaded, question)
            out = {}
            for name, on in (("free", False), ("constrained", True)):
                h.report(None, f"Answering {name}")
                out[name] = decode_structured(loaded, prompt, schema, constrained=on, cancelled=h.cancelled)
                h.raise_if_cancelled()
            return out

        self.slot.start("structured answers", work, on_done=self._answered, on_progress=self.strip.on_progress)

    def _answered(self, results) -> None:
        self.results = results
        for name, box in (("free", self.free_text), ("constrained", self.constrained_text)):
            r = results[name]
            verdict = ("<span style='color:{}'>parses and matches the schema</span>" if r.parsed else
                       "<span style='color:{}'>does not parse: " + html.escape(r.error or "") + "</span>")
            from playground.qt.design import current_colours

            c = current_colours()
            box.setHtml(f"<b>{name.capitalize()}</b> ({r.n_tokens} tokens, {r.seconds:.1f} s, {r.stopped})<br>"
                        f"<code>{html.escape(r.text) or '(nothing)'}</code><br>"
                        + verdict.format(c.ok if r.parsed else c.error))
        steps = results["constrained"].steps
        self.step.setEnabled(bool(steps))
        self.step.setRange(1, max(1, len(steps)))
        busiest = max(range(len(steps)), key=lambda i: steps[i].removed_share) if steps else 0
        self.step.setValue(busiest + 1)
        self.show_step()
        self.sig_compared.emit({"question": self.asked, "free_parsed": results["free"].parsed,
                                "constrained_parsed": results["constrained"].parsed,
                                "removed_max": max((s.removed_share for s in steps), default=0.0)})

    def show_step(self) -> None:
        r = self.results.get("constrained")
        if r is None or not r.steps:
            return
        s = r.steps[min(self.step.value(), len(r.steps)) - 1]
        marked = s.top_ids.index(s.token_id) if s.token_id in s.top_ids else None
        self.chart.show(s.top_tokens, s.before, s.after, f"step {s.index + 1}: picked {s.token!r}", marked,
                        f"Step {s.index + 1}: the grammar removed <b>{s.removed_share:.1%}</b> of the model's probability; "
                        f"{s.allowed_count:,} of the vocabulary's tokens were allowed. × marks a forbidden token.")

    # --- the parse rate over the set -----------------------------------------------------------------
    def rate(self) -> None:
        got = self._inputs()
        if got is None:
            return
        loaded, schema = got
        problems = self._problems()[:self.limit.value()]
        if not problems:
            self.message.setText("The bundled problem set is missing: the parse rate needs it.")
            return
        from playground.core.reasoning.structured_eval import parse_rate

        self.header.show_for(loaded, prompt=f"the first {len(problems)} bundled problems",
                             settings="greedy · JSON Schema", extra="free and constrained (xgrammar)")

        def work(h):
            return {name: parse_rate(loaded, problems, on, schema, handle=h)
                    for name, on in (("free", False), ("constrained", True))}

        self.slot.start("parse rate", work, on_done=self._rated, on_progress=self.strip.on_progress)

    def _rated(self, reports) -> None:
        self.rates = reports
        f, c = reports["free"], reports["constrained"]
        self.rate_label.setText(f"Over {len(f.outcomes)} problems — parse rate: free {f.parse_rate:.0%}, "
                                f"constrained {c.parse_rate:.0%}; right answers: free {f.accuracy:.0%}, "
                                f"constrained {c.accuracy:.0%}.")
        self.sig_rated.emit({"n": len(f.outcomes), "free": f.parse_rate, "constrained": c.parse_rate})

    # --- the page protocol --------------------------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        if self.results:
            self.header.mark_stale("another model is loaded; answer again to see it")

    def lab_events(self) -> dict:
        return {"structured.compared": (self.sig_compared, dict), "structured.rated": (self.sig_rated, dict)}

    def reveal(self, control: str) -> QWidget | None:
        return {"structured_run": self.run_button, "structured_rate": self.rate_button}.get(control)

    def notebook_state(self) -> dict | None:
        if not self.results:
            return None
        return {"kind": "structured", "question": self.asked, "schema": json.loads(self.schema.toPlainText()),
                "free_text": self.results["free"].text, "constrained_text": self.results["constrained"].text}
