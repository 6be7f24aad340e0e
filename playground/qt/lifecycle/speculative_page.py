"""Speculative decoding section: a draft proposes γ tokens, the loaded model verifies them in one pass;
each round drawn (q and p, accepted or rejected, the residual, the bonus token), with running totals and
the speed-up measured against plain decoding of the same prompt."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QStackedWidget,
    QTextBrowser,
    QWidget,
)

from playground.qt.binding import Draft, form_row
from playground.qt.lifecycle.common import RunBar, column_beside_plot, make_canvas
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, check, flexible_height, note_label, spin

LESSON = ("<b>Speculative decoding: a small draft guesses γ tokens, the big model checks them all in one "
          "pass.</b> Each guess is kept with chance min(1, p/q) (p: the target's probability, q: the draft's); "
          "at the first rejection the token is drawn from what the target wanted more than the draft, "
          "norm(max(0, p − q)); when every guess passes, the same pass gives one more token free (the bonus). "
          "The text follows the target's own distribution exactly (greedy: the same text, token for token); "
          "only the number of big-model passes changes. It pays when the draft is cheap and often right.")
KINDS = (("The target's first N layers", "layers"), ("A model folder", "folder"), ("A distilled student", "student"))
KIND_TIP = ("Self-speculative: the loaded model's own first N layers, then its final norm and head (no extra "
            "weights). A folder: any local model with the same tokenizer. A student: one trained in the "
            "Distillation section.")
DEFAULT_PROMPT = "Explain in two sentences why the sky is blue."


class SpeculativePage(QWidget):
    sig_ran = Signal(dict)
    """a run finished with its speed-up measured: {"draft", "gamma", "do_sample", "tokens", "acceptance_rate",
    "tokens_per_target_pass", "speed_up", "same_text", "model"}"""
    notebook_kind = "speculative"

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.decoding.speculative_settings import SpeculativeSettings
        from playground.qt.lifecycle.speculative_view import RoundChart
        from playground.qt.widgets.generation_form import GenerationForm
        from playground.qt.widgets.result_header import ResultHeader

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.run = self.draft_model = self.speed = None
        self.rounds: list = []
        self.totals: dict = {}
        self.settings_used = None
        self.model_used = None
        self.draft = Draft(SpeculativeSettings(), self)
        self.prompt_box = QPlainTextEdit(DEFAULT_PROMPT)
        # a fixed three lines: with a height left to the layout it was squeezed under the settings
        self.prompt_box.setFixedHeight(self.prompt_box.fontMetrics().lineSpacing() * 3 + 14)
        self.prompt_box.setToolTip("The text both models continue. Greedy decoding gives the loaded model's own "
                                   "greedy text whatever the draft.")
        self.chat_check = check("Chat template", "Wrap the prompt in the model's chat template, as the Generate "
                                                 "tab does.", checked=True)
        self.kind_combo = QComboBox()
        for text, kind in KINDS:
            self.kind_combo.addItem(text, kind)
        self.kind_combo.setToolTip(KIND_TIP)
        self.layers_spin = spin(1, 64, 8, "N: how many of the loaded model's layers the draft runs. Fewer is "
                                          "cheaper per guess but guesses worse.")
        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("a model folder with the same tokenizer")
        self.folder_edit.setToolTip("Any local Hugging Face model folder whose tokenizer and vocabulary are the "
                                    "loaded model's; another tokenizer is refused.")
        self.browse_button = button("Browse…", "Choose the draft's model folder.", self._browse)
        self.student_combo = QComboBox()
        self.student_combo.setToolTip("Students saved by the Distillation section, newest first.")
        for w in (self.kind_combo, self.student_combo):  # narrow enough for the Labs dock beside the tab
            w.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            w.setMinimumContentsLength(8)
        self.kind_combo.currentIndexChanged.connect(self._kind_changed)
        gamma_label, self.gamma_spin = form_row(self.draft, "gamma")
        tokens_label, self.tokens_spin = form_row(self.draft, "max_new_tokens")
        self.sampling_form = GenerationForm(self.draft, "sampling", title="Decoding")
        self.next_button = button("Next round", "One round: the draft proposes γ tokens, the target checks them in "
                                                "one pass (the first press also reads the prompt).", self.next_round)
        self.reset_button = button("Reset", "Forget this run and start again from the prompt.", self.reset)
        self.bar = RunBar("Run to end", self.slot, stop_tip="Stop after the current round; the rounds made stay (Esc).")
        self.bar.run_button.setToolTip("Rounds until end-of-text or the token limit, then plain decoding of the same "
                                       "prompt, timed, for the speed-up.")
        self.bar.run_button.clicked.connect(self.run_to_end)
        self.slot.sig_busy_changed.connect(self._busy)
        self.header = ResultHeader(empty="No run yet: choose a draft and γ, then press Next round or Run to end.")
        # The round, the totals and the text share one scrolling report (three wrapped labels stacked made
        # the column ask for more height than a 1200x800 window has).
        self.report = flexible_height(QTextBrowser(), 4)
        self.report.setToolTip("Running totals (acceptance rate, tokens per target pass, the measured speed-up), "
                               "what the rule did in the round shown, and the text so far: green, draft tokens the "
                               "target accepted; pale green, bonus tokens; orange, tokens the target drew at a "
                               "rejection.")
        self.totals_label, self.caption, self.text_label = (_Part(self._render) for _ in range(3))
        self.notes_label = note_label("")
        self.figure, self.canvas = make_canvas(5.5, 4.6)
        self.chart = RoundChart(self.figure, self.canvas)
        self.round_spin = spin(1, 1, 1, "Which round the chart shows.")
        self.round_spin.setEnabled(False)
        self.round_spin.valueChanged.connect(self._show_round)

        # one page per kind of draft (hidden widgets in one row still widened the column)
        self.which = QStackedWidget()
        for widgets in ((self.layers_spin,), (self.folder_edit, self.browse_button), (self.student_combo,)):
            holder = QWidget()
            row = QHBoxLayout(holder)
            row.setContentsMargins(0, 0, 0, 0)
            for w in widgets:
                row.addWidget(w)
            row.addStretch(1)
            self.which.addWidget(holder)
        draft_label = QLabel("Draft")
        draft_label.setToolTip(KIND_TIP)
        form = QFormLayout()
        form.addRow(draft_label, self.kind_combo)
        form.addRow("", self.which)
        form.addRow(gamma_label, self.gamma_spin)
        form.addRow(tokens_label, self.tokens_spin)
        form.addRow("", self.chat_check)
        knobs = QHBoxLayout()
        knobs.addLayout(form, 1)
        knobs.addWidget(self.sampling_form, 1)
        buttons = QHBoxLayout()
        for w in (self.next_button, self.bar, self.reset_button, QLabel("Show round"), self.round_spin):
            buttons.addWidget(w)
        buttons.addStretch(1)
        column_beside_plot(self, [self.prompt_box, knobs, buttons, self.bar.message,
                                  self.header, self.notes_label, (self.report, 1)], self.canvas, stretch=(1, 1), lesson_text=LESSON,
                           strip=self.bar.strip)
        self._kind_changed()

    # the draft -------------------------------------------------------------------------------------
    def _kind_changed(self) -> None:
        kind = self.kind_combo.currentData()
        self.which.setCurrentIndex(self.kind_combo.currentIndex())
        if kind == "student":
            self.refresh_students()

    def refresh_students(self) -> None:
        from playground.core.decoding.draft_models import student_choices

        self.student_combo.clear()
        for label, folder in student_choices():
            self.student_combo.addItem(label, folder)
        if not self.student_combo.count():
            self.student_combo.addItem("none saved yet (train one in Distillation)", "")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "The draft model's folder")
        if folder:
            self.folder_edit.setText(folder)

    def draft_spec(self) -> str:
        kind = self.kind_combo.currentData()
        if kind == "layers":
            return f"layers:{self.layers_spin.value()}"
        if kind == "folder":
            return self.folder_edit.text().strip()
        return self.student_combo.currentData() or ""

    def on_model_changed(self, loaded) -> None:
        if loaded is not None and loaded.info.num_layers:
            self.layers_spin.setMaximum(loaded.info.num_layers)
            self.layers_spin.setValue(max(1, min(self.layers_spin.value(), loaded.info.num_layers)))
        if self.rounds and loaded is not self.model_used:
            self.header.mark_stale("another model is loaded; press Reset and run again")
        self.run = None if loaded is not self.model_used else self.run

    # running ------------------------------------------------------------------------------------------
    def _settings(self):
        from dataclasses import replace

        return replace(self.draft.value, draft=self.draft_spec())

    def next_round(self) -> None:
        self._start(rounds=1)

    def run_to_end(self) -> None:
        self._start(rounds=None)

    def _start(self, rounds: int | None) -> None:
        loaded = self.context.ready_model(self.bar.message.setText)
        if loaded is None:
            return
        from playground.core.base.errors import describe_exception

        settings = self._settings()
        if self.run is not None and (settings != self.settings_used or self.run.finished):
            self.reset()
        try:
            settings.validate()
        except Exception as exc:  # InputError: plain words in the message line
            self.bar.message.setText(" ".join(describe_exception(exc)).strip())
            return
        prompt, chat = self.prompt_box.toPlainText(), self.chat_check.isChecked()
        run, draft = self.run, self.draft_model
        self.slot.start("speculative decoding", lambda h: self._work(h, loaded, prompt, chat, settings, rounds, run,
                                                                        draft),
                        on_item=self._on_item, on_progress=self.bar.on_progress, on_finished=self._finished)

    @staticmethod
    def _work(handle, loaded, prompt, chat, settings, rounds, run, draft):
        """Worker: open the run if needed, then rounds, then (when the text is finished) the plain baseline."""
        from playground.core.base.progress import report_step
        from playground.core.decoding.generation import format_prompt
        from playground.core.decoding.speculative_session import measure_speedup, open_run

        if run is None:
            report_step(handle, "Loading the draft and reading the prompt", 0, None)
            text = format_prompt(loaded, prompt, chat)
            run, draft = open_run(loaded, text, settings, draft, handle)
            yield ("opened", (run, draft, settings, loaded))
        done = 0
        while not run.finished and (rounds is None or done < rounds):
            if handle.cancelled():
                return
            rnd = run.step()
            done += 1
            report_step(handle, "Speculative rounds (tokens so far)", len(run.tokens), settings.max_new_tokens)
            yield ("round", (rnd, run.totals()))
        if run.finished and not handle.cancelled():
            report_step(handle, "Plain decoding of the same prompt, timed, for the speed-up", 0, None)
            speed = measure_speedup(run, handle.cancelled)
            if not handle.cancelled():
                yield ("speed", speed)

    def _on_item(self, item) -> None:
        kind, payload = item
        if kind == "opened":
            self.run, self.draft_model, self.settings_used, self.model_used = payload
            self._show_header()
            self.notes_label.setText(" ".join(html.escape(n) for n in self.draft_model.notes))
        elif kind == "round":
            rnd, self.totals = payload
            self.rounds.append(rnd)
            self.round_spin.setEnabled(True)
            self.round_spin.setMaximum(len(self.rounds))
            self.round_spin.blockSignals(True)
            self.round_spin.setValue(len(self.rounds))
            self.round_spin.blockSignals(False)
            self._show_round()
            from playground.qt.lifecycle.speculative_view import text_html

            self.text_label.setText(text_html(self.rounds))
            self._show_totals()
        elif kind == "speed":
            self.speed = payload
            self._show_totals()
            self.sig_ran.emit(self.run_record())

    def _show_header(self) -> None:
        s, d = self.settings_used, self.draft_model
        share = (f"{d.layers} of {self.model_used.info.num_layers} layers" if d.layers else
                 f"{d.parameters / 1e6:.1f}M parameters")
        self.header.show_for(self.model_used, prompt=self.prompt_box.toPlainText().strip()[:60],
                             settings=s.describe(), extra=f"draft {d.label} ({share}) · target verifies")

    def _show_round(self) -> None:
        i = self.round_spin.value() - 1
        if 0 <= i < len(self.rounds) and self.settings_used is not None:
            from playground.qt.lifecycle.speculative_view import round_caption

            greedy = self.settings_used.sampling.greedy
            self.chart.show(self.rounds[i], greedy)
            self.caption.setText(round_caption(self.rounds[i], greedy))

    def _show_totals(self) -> None:
        t = self.totals
        if not t:
            return
        rate = t["acceptance_rate"]
        parts = [f"<b>{t['tokens']} tokens in {t['rounds']} rounds</b>",
                 f"accepted {t['accepted']} of {t['proposed']} proposed"
                 + (f" ({100 * rate:.0f}%)" if not math.isnan(rate) else ""),
                 f"{t['tokens_per_target_pass']:.2f} tokens per target pass (plain decoding: 1.00)",
                 f"draft {100 * t['draft_seconds'] / max(t['seconds'], 1e-9):.0f}% of the time"]
        if self.speed is not None:
            from playground.core.decoding.speculative_session import explain_speed

            sp = self.speed
            verdict = "faster" if sp.factor >= 1 else "slower"
            parts.append(f"<b>speed-up ×{sp.factor:.2f} ({verdict})</b>: {sp.spec_rate:.1f} tokens/s against "
                         f"{sp.plain_rate:.1f} for plain decoding of the same prompt, measured")
            if sp.same_text is not None:
                parts.append("greedy text identical to plain decoding: " + ("yes" if sp.same_text else "no"))
            d = self.draft_model
            fraction = d.layers / self.model_used.info.num_layers if d.layers else None
            parts.append(html.escape(explain_speed(t, sp, fraction)))
        elif self.run is not None and not self.run.finished:
            parts.append("speed-up: measured when the text is finished (Run to end)")
        self.totals_label.setText(" · ".join(parts))

    def _busy(self, busy: bool) -> None:
        self.next_button.setEnabled(not busy)
        self.reset_button.setEnabled(not busy)

    def _finished(self, task) -> None:
        if task.outcome == "cancelled":
            self.bar.message.setText(f"Stopped: {len(self.rounds)} round(s) kept; Next round goes on from there.")
        elif task.outcome == "done" and self.run is not None and self.run.finished and self.speed is not None:
            self.bar.message.setText("Finished: the speed-up is measured against plain decoding of the same prompt.")

    def reset(self) -> None:
        self.slot.stop()
        keep = self.draft_model if self.draft_model is not None and self.draft_model.spec == self.draft_spec() \
            and self.model_used is self.context.session.current else None
        self.run, self.speed, self.rounds, self.totals, self.draft_model = None, None, [], {}, keep
        self.round_spin.setEnabled(False)
        self.chart.clear()
        for label in (self.caption, self.totals_label, self.text_label, self.notes_label):
            label.setText("")
        self.header.clear_result()

    def _render(self) -> None:
        parts = [p.text() for p in (self.totals_label, self.caption, self.text_label) if p.text()]
        self.report.setHtml("".join(f"<p>{p}</p>" for p in parts))

    # protocol -----------------------------------------------------------------------------------------
    def run_record(self) -> dict:
        t, s, sp = self.totals, self.settings_used, self.speed
        return {"draft": s.draft, "gamma": s.gamma, "do_sample": s.sampling.do_sample, "tokens": t.get("tokens", 0),
                "acceptance_rate": t.get("acceptance_rate"), "tokens_per_target_pass": t.get("tokens_per_target_pass"),
                "speed_up": sp.factor if sp is not None else None, "same_text": sp.same_text if sp else None,
                "model": self.model_used.info.name}

    def lab_events(self) -> dict:
        return {"spec.run": (self.sig_ran, dict)}

    def reveal(self, control: str) -> QWidget | None:
        return {"spec_next": self.next_button, "spec_run": self.bar.run_button, "spec_gamma": self.gamma_spin,
                "spec_draft": self.kind_combo}.get(control)

    def notebook_state(self) -> dict | None:
        if self.run is None or not self.rounds:
            return None
        from playground.core.decoding.speculative_notebook import speculative_experiment

        return speculative_experiment(self.run, self.settings_used, self.totals, self.speed)


class _Part:
    """One paragraph of the section's report (``setText`` / ``text``, as a label would have)."""

    def __init__(self, render) -> None:
        self._text, self._render = "", render

    def setText(self, text: str) -> None:  # noqa: N802 (a label's name)
        self._text = text
        self._render()

    def text(self) -> str:
        return self._text
