"""The Sampling tab: move a slider and watch the next-token distribution change; step through
generation token by token and branch by clicking a bar.

The prompt is read by the model once; its scores for the next token are kept, so moving a slider
only recomputes the softmax and the filters (no forward pass). Choosing a token runs the model on
that token alone, reusing the KV cache, in the task runner.
"""

from __future__ import annotations


from PySide6.QtCore import QEvent, QTimer, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from playground.qt.panel import Panel
from playground.qt.shortcuts import run_shortcut
from playground.qt.sampling.controls import SamplingControls
from playground.qt.widgets.make import button, hbox, spin, splitter, vbox
from playground.qt.widgets.token_chips import legend_widget
from playground.qt.sampling.view import SamplingView

LESSON = (
    "<b>Softmax over the whole vocabulary.</b> For every position the model scores each of its tokens "
    "(tens of thousands) and the softmax turns the scores into probabilities. <i>Greedy</i> decoding takes "
    "the most likely token; <i>sampling</i> draws one at random. <i>Temperature</i> sharpens (below 1) or "
    "flattens (above 1) the distribution, <i>top-k</i> keeps only the k most likely tokens, and <i>top-p</i> "
    "keeps the most likely ones until their probabilities add up to p. Move a slider: the model is not run "
    "again, only the distribution is reshaped."
)
DEFAULT_PROMPT = "Write a short poem about the sea."


class SamplingPanel(Panel, SamplingView):
    title = "Sampling"
    guide = "See the next-token distribution and how temperature, top-k and top-p reshape it."
    help = """<h2>Sampling: the next-token distribution</h2>
<p>For every position the model outputs a score (<b>logit</b>) for each of the tens of thousands of tokens
in its vocabulary; <b>softmax</b> turns them into probabilities that add up to 1. The settings then decide
which token is picked. Move a slider and watch the bars: grey bars are cut by top-k or top-p, the kept ones
are renormalised. <b>Entropy</b> measures how spread out the choice is.</p>"""
    notebook_kind = "next_token"

    def lab_events(self) -> dict:
        from dataclasses import asdict

        return {"sampling_settings": (self.controls.sig_changed, lambda: asdict(self.controls.settings())),
                "rollouts": (self.sig_rollouts_finished,
                             lambda: dict(asdict(self.controls.settings()), n=self.rollouts_shown))}

    def reveal(self, control: str) -> QWidget | None:
        """The step buttons, the whole settings box, or one of its sliders (all in the left column)."""
        c = self.controls
        return {"five_button": self.five_button, "run_button": self.run_button, "read_button": self.read_button,
                "controls": c, "temperature": c.temperature, "top_k": c.top_k, "top_p": c.top_p}.get(control)

    def notebook_state(self) -> dict | None:
        if self.stepper is None or not self.steps:
            return None
        s = self.controls.settings()
        return {"kind": "next_token", "prompt": self.shown_prompt(), "temperature": s.temperature, "top_k": s.top_k,
                "top_p": s.top_p, "do_sample": s.do_sample, "top_n": 10}

    sig_steps_changed = Signal(int)
    """the number of tokens chosen so far, after any step, branch or prompt read"""
    sig_redrawn = Signal()
    """the chart was updated for the current settings (a repaint is queued)"""
    sig_rollouts_finished = Signal()
    """'Run 5 times' has shown all its continuations (or was stopped)"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._init_view()

        left_w = self._build_left()
        self._lay_out(left_w)
        run_shortcut(self, self.read_prompt)
        self._restore_settings()
        self._update_buttons()
        self._fit_columns()

    def _build_left(self) -> QWidget:
        """The lesson, the prompt, the sliders and the step buttons."""
        self.prompt_edit = QPlainTextEdit(DEFAULT_PROMPT)
        self.prompt_edit.setToolTip("The text the model continues. Ctrl+Enter reads it (one forward pass).")
        self.prompt_edit.setMaximumHeight(84)
        from playground.qt.widgets.special_tokens_note import SpecialTokensNote

        self.special_note = SpecialTokensNote()  # names special tokens typed into the prompt
        self.prompt_edit.textChanged.connect(self._look_for_special_tokens)
        self.chat_check = self.chat_template_check("Wrap the prompt in the special tokens an instruction-tuned "
                                                   "model was trained with, as a chat app would.")
        self.read_button = button("Read prompt  (Ctrl+Enter)", "Run the model once on the prompt and keep its "
                                  "scores for the next token and its key/value cache.", self.read_prompt)
        self.controls = SamplingControls()
        self.controls.sig_changed.connect(self._on_settings_changed)
        self.sample_button = button("Sample next", "Pick a token from the distribution shown (greedy or a "
                                    "seeded draw), add it, and run the model on it alone, reusing the cache.",
                                    self.sample_next)
        self.steps_spin = spin(1, 200, 12, "How many tokens 'Run' and 'Run 5 times' generate.")
        self.run_button = button("Run N steps", "Pick N tokens one after another with the current settings.",
                                 self.run_steps)
        self.five_button = button("Run 5 times", "Five sampled continuations (seeds seed … seed+4) next to the "
                                  "greedy one, from the last chosen token: see how much sampling varies.",
                                  self.run_five)
        self.clear_button = button("Clear tokens", "Forget the chosen tokens and go back to the prompt (no "
                                   "model run).", self.clear_tokens)
        self.stop_button = button("Stop  (Esc)", "Stop 'Run N steps' or 'Run 5 times' after the current token; "
                                  "what was chosen so far stays.", self.stop)
        self.stop_button.setEnabled(False)
        self.message_label = self.message_line()
        prompt_box = QGroupBox("Prompt")
        vbox(self.prompt_edit, self.special_note, self.chat_check, self.read_button, parent=prompt_box)
        step_box = QGroupBox("Generate step by step")
        vbox(self.sample_button, hbox((self.run_button, 1), QLabel("N"), self.steps_spin), self.five_button,
             hbox(self.clear_button, self.stop_button), parent=step_box)
        left_w = self.left_column = QWidget()
        vbox(prompt_box, self.controls, step_box, self.message_label, 1, parent=left_w).setContentsMargins(0, 0, 4, 0)
        return left_w

    def _lay_out(self, left_w: QWidget) -> None:
        """The chart, its notes and the chosen tokens on the right of the controls."""
        right = QVBoxLayout()
        right.setContentsMargins(4, 0, 0, 0)
        right.addWidget(self.result_header)
        right.addWidget(self.where_label)
        right.addWidget(self.chart_slot, 1)
        right.addWidget(self.stats_label)
        right.addWidget(self.notes_label)
        strip_head = QHBoxLayout()
        self.strip_title = QLabel("<b>Chosen tokens</b> <small>(click one to see its step)</small>")
        self.strip_title.setWordWrap(True)
        strip_head.addWidget(self.strip_title, 1)
        strip_head.addWidget(legend_widget())
        right.addLayout(strip_head)
        right.addWidget(self.strip)
        right.addWidget(self.rollouts_view)
        right_w = QWidget()
        right_w.setLayout(right)
        split = splitter((left_w, 0), (right_w, 1))
        outer = QVBoxLayout(self)
        from playground.qt.design import SPACING

        outer.setContentsMargins(*(SPACING["normal"],) * 4)
        from playground.qt.widgets.encoder_notice import EncoderNotice

        self.encoder_notice = EncoderNotice(self.context, "This tab draws the next token step by step")
        self.lesson_label = self.lesson(LESSON)  # the tab's explanation: one place, at the top (issue 28)
        outer.addWidget(self.lesson_label)
        outer.addWidget(self.encoder_notice)
        outer.addWidget(split, 1)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presenter zoom: fixed sizes follow the font
            # After the children (labels with style sheets among them) have their new fonts.
            QTimer.singleShot(0, self._fit_columns)

    def _fit_columns(self) -> None:
        self.fit_to_font()
        em = self.fontMetrics().averageCharWidth()
        # Wide enough for the chat-template switch's whole label, at any zoom.
        need = self.chat_check.sizeHint().width() + 40
        self.left_column.setMinimumWidth(max(40 * em, need))
        self.left_column.setMaximumWidth(max(56 * em, need))

    # settings --------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        from playground.qt.binding import persist

        persist(self.controls.draft, self.context.settings)  # the ``sampling`` section, saved on every change

    def _on_settings_changed(self) -> None:
        self._generator = None  # a new seed (or settings) starts a fresh sequence of draws
        self.schedule_redraw()

    def _look_for_special_tokens(self) -> None:
        loaded = self.context.session.current
        if loaded is not None:
            self.special_note.update_for(loaded.tokenizer, self.prompt_edit.toPlainText())

    # model -----------------------------------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        self.special_note.update_for(loaded.tokenizer, self.prompt_edit.toPlainText())
        if self.stepper is not None and self.context.only_switched(self.stepper.loaded, loaded):
            # The Adapter switch: the chosen tokens stay, marked with the model that computed them.
            self._update_origin()
            if self.steps:
                self._show_header(self.controls.settings())
            return
        self.stepper = None
        self.steps = ()
        self._update_origin()
        has_template = loaded.info.has_chat_template and not loaded.is_encoder_decoder
        self.chat_check.setEnabled(has_template)
        if self.encoder_notice.update_for(loaded):
            self.clear_view(f"{loaded.info.name} is encoder-only: it has no next-token distribution to sample from.")
            self.rollouts_view.clear()
            return
        self.clear_view(f"{loaded.info.name} is loaded: press “Read prompt” to see its next-token distribution.")
        self.rollouts_view.clear()
        if not self.prompt_edit.toPlainText().strip():
            return
        if self.busy:  # the old model's work ends first; then read the prompt with the new one
            self.stop()
            self._read_after_task = True
        else:
            self.read_prompt()

    def _update_origin(self) -> None:
        """Say which model computed the chosen tokens, in orange when the switch now selects another."""
        head = "<b>Chosen tokens</b> <small>(click one to see its step)</small>"
        if self.stepper is None:
            self.strip_title.setText(head)
            return
        again = "Sample next and Run go on with the first; Read prompt starts again with the second"
        self.strip_title.setText(f"{head} <small>· {self.context.origin_html(self.stepper.loaded, again)}</small>")

    def _update_buttons(self) -> None:
        busy = self.busy
        ready = self.stepper is not None and bool(self.steps) and not busy
        finished = ready and self.stepper is not None and self._viewing_finished()
        self.read_button.setEnabled(not busy)
        for b in (self.sample_button, self.run_button):
            b.setEnabled(ready and not finished)
        self.five_button.setEnabled(ready and not self.stepper.finished if ready else False)
        self.clear_button.setEnabled(ready and len(self.steps) > 1)
        self.stop_button.setEnabled(busy)
        past = self.view_index is not None and self.view_index < len(self.steps) - 1
        self.sample_button.setText(f"Resample step {self.view_index + 1}" if past else "Sample next")
        self.run_button.setText(f"Run N steps from step {self.view_index + 1}" if past else "Run N steps")

    def _viewing_finished(self) -> bool:
        step = self.shown_step()
        return step is None or (step.index == len(self.steps) - 1 and self.stepper.finished)

    def session_snapshot(self) -> list[tuple[str, str]]:
        """The prompt, each chosen token with its probability, and the last 'Run 5 times'."""
        chosen = [st for st in self.steps if st.chosen]
        if self.stepper is None or not chosen:
            return []
        tok = self.stepper.loaded.tokenizer
        text = tok.decode([st.token_id for st in chosen], skip_special_tokens=True)
        lines = [f"{st.index + 1:>3}. {st.text!r:<16} model {st.prob:6.1%}  ({st.how})" for st in chosen]
        items = [(f"Step by step: {len(chosen)} tokens computed with {self.context.origin(self.stepper.loaded)} "
                  f"(settings now: {self.controls.settings().describe()})",
                  f"{self.prompt_edit.toPlainText()}\n\n→ {text}\n\n" + "\n".join(lines))]
        rollouts = self.rollouts_view.toPlainText().strip()
        if rollouts:
            items.append(("Run 5 times", rollouts))
        return items
