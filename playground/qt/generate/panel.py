"""The Generate tab: type a prompt, watch the completion stream in, token by token."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QFont, QTextCursor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from playground.core.decoding.generation import GenerationSettings
from playground.qt.panel import Panel
from playground.qt.shortcuts import run_shortcut
from playground.qt.widgets.make import button, flexible_height, note_label, splitter, vbox

LESSON = (
    "<b>Prompt → completion.</b> The model reads your prompt as tokens (pieces of words) and "
    "predicts the next token, again and again: that is <i>inference</i>. Each new token is added "
    "to the input, and everything must fit in the model's <i>context window</i>. Greedy decoding "
    "always takes the most likely token; sampling draws one at random, shaped by temperature, "
    "top-k and top-p."
)


def wrapped(text: str) -> QLabel:
    """A heading that wraps rather than widening the column (the tab fits beside the Labs dock)."""
    label = QLabel(text)
    label.setWordWrap(True)
    return label


def _tokens(n: int) -> str:
    return f"{n:,} token" if n == 1 else f"{n:,} tokens"


class GeneratePanel(Panel):
    title = "Generate"
    guide = "Type a prompt and watch the model write, token by token, greedily or by sampling."
    help = """<h2>Generate: prompt and completion</h2>
<p>The model turns your text into <b>tokens</b> and predicts the next token, again and again: that is
<b>inference</b>. <b>Greedy</b> decoding always takes the most likely token, so it repeats itself exactly.
<b>Sampling</b> draws at random from the probabilities:</p>
<ul><li><b>Temperature</b> divides the scores before they become probabilities: below 1 sharpens (safer),
above 1 flattens (more varied, more mistakes).</li>
<li><b>Top-k</b> keeps only the k most likely tokens.</li>
<li><b>Top-p</b> keeps the smallest set of likely tokens whose probabilities add up to p.</li>
<li><b>Max new tokens</b> caps the length; the <b>seed</b> makes random draws repeatable.</li></ul>"""
    notebook_kind = "generation"

    def lab_events(self) -> dict:
        return {"generation": (self.sig_generation_finished,
                               lambda _text: dict(self.settings_from_controls().to_dict(), tokens=self.tokens))}

    def reveal(self, control: str) -> QWidget | None:
        return {"generate_button": self.generate_button}.get(control)

    def notebook_state(self) -> dict | None:
        if not self.output_text:
            return None
        from playground.core.prompting.special_tokens import readable

        # Without the escape marks: the notebook's plain transformers code does not know them.
        return {"kind": "generation", "prompt": readable(self.full_prompt()),
                "settings": self.settings_from_controls().to_dict()}

    sig_generation_finished = Signal(str)
    """the whole completion when a generation ends (also after Stop)"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.task = None
        self.output_text = ""
        self.tokens = 0
        self._started = 0.0
        self.session_runs: list[tuple[str, str]] = []

        self._build_prompt()
        settings_box = self._build_settings()
        self._build_output()
        self._lay_out(settings_box)
        run_shortcut(self, self.generate, editor=self.prompt_edit, stop=self.stop)
        self._meter_timer = QTimer(self)
        self._meter_timer.setSingleShot(True)
        self._meter_timer.setInterval(150)
        self._meter_timer.timeout.connect(self.update_token_meter)
        self.prompt_edit.textChanged.connect(self._meter_timer.start)
        self.chat_check.toggled.connect(self._meter_timer.start)
        self.special_note.sig_plain_changed.connect(self._meter_timer.start)
        self.max_tokens.valueChanged.connect(self._meter_timer.start)

    # building ------------------------------------------------------------------------------
    def _build_prompt(self) -> None:
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setPlaceholderText("Type a prompt, then press Ctrl+Enter…")
        self.prompt_edit.setToolTip("The prompt: the text the model continues. Ctrl+Enter generates, Esc stops.")
        self.chat_check = self.chat_template_check("Instruction-tuned models were trained on conversations wrapped "
                                                   "in special tokens. The template wraps your prompt the same way.")
        from playground.qt.widgets.special_tokens_note import SpecialTokensNote

        self.special_note = SpecialTokensNote()  # names special tokens typed into the prompt
        self.token_meter = QLabel("")
        self.token_meter.setToolTip("Prompt tokens against the context window: the most tokens the model can see.")
        self.exact_view = QPlainTextEdit()
        self.exact_view.setReadOnly(True)
        self.exact_view.setToolTip("The text the model reads, special tokens and all: your prompt after the chat "
                                   "template (when it is on). The completion continues it.")
        self.exact_view.setPlaceholderText("The prompt as the model receives it appears here.")

    def _build_settings(self) -> QGroupBox:
        from playground.qt.binding import Draft, persist
        from playground.qt.widgets.generation_form import GenerationForm

        # The ``generation`` section of the settings, the very type the CLI's flags are made from.
        self.draft = Draft(GenerationSettings(), self)
        persist(self.draft, self.context.settings)
        form = GenerationForm(self.draft, "sampling", tokens_path="max_new_tokens")
        self.max_tokens, self.mode = form.max_tokens, form.mode
        self.temperature, self.top_k, self.top_p, self.seed = form.temperature, form.top_k, form.top_p, form.seed
        return form

    def _build_output(self) -> None:

        self._generate_text = "Generate  (Ctrl+Enter)"
        self.generate_button = button(self._generate_text, "Run the model on the prompt and stream the "
                                      "completion.", self.generate)
        self.stop_button = button("Stop  (Esc)", on_click=self.stop)
        self.stop_button.setEnabled(False)

        # Each token a chip coloured by the model's probability; hover one for its alternatives.
        self.output_edit = QTextBrowser()
        self.output_edit.setOpenLinks(False)
        self.output_edit.setPlaceholderText("The completion appears here, token by token.")
        self.output_edit.setToolTip("")
        self.output_edit.highlighted.connect(self._on_token_hover)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        self.output_edit.setFont(mono)
        self.steps: list = []  # the TokenSteps of the completion on show
        from playground.qt.widgets.result_header import ResultHeader

        # Which model (adapter or base), precision, prompt form and settings made the completion on show.
        self.result_header = ResultHeader(empty="The completion will name the model and settings that made it.")
        self.stats_label = QLabel("")
        self.candidates_label = note_label("", "The model's five most likely next tokens at the last step, "
                                           "with probabilities.")
        self.message_label = self.message_line()

    def _lay_out(self, settings_box: QGroupBox) -> None:
        from playground.qt.widgets.token_chips import legend_widget

        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.addWidget(QLabel("<b>Prompt</b>"))
        left.addWidget(self.prompt_edit, 2)
        row = QHBoxLayout()
        row.addWidget(self.chat_check)
        row.addStretch(1)
        row.addWidget(self.token_meter)
        left.addLayout(row)
        left.addWidget(self.special_note)
        left.addWidget(wrapped("<b>What the model reads</b> <small>(the prompt exactly as it receives it)</small>"))
        left.addWidget(self.exact_view, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.stop_button)
        left.addLayout(buttons)
        left.addWidget(self.message_label)
        head = QHBoxLayout()
        head.addWidget(wrapped("<b>Completion</b> <small>(hover a token: its probability and the alternatives)"
                               "</small>"), 1)
        head.addWidget(legend_widget())
        left.addLayout(head)
        left.addWidget(self.result_header)
        left.addWidget(self.output_edit, 3)
        left.addWidget(self.stats_label)
        left.addWidget(self.candidates_label)
        # The editors share the height the window has (their stretch), from a few lines each: their own
        # preferred heights would make the tab taller than a 1200x800 window (it would scroll).
        for editor, lines in ((self.prompt_edit, 3), (self.exact_view, 3), (self.output_edit, 4)):
            flexible_height(editor, lines)
        left_w = QWidget()
        left_w.setLayout(left)
        right_w = QWidget()
        vbox(settings_box, 1, parent=right_w)
        split = splitter((left_w, 3), (right_w, 1))
        outer = QVBoxLayout(self)
        from playground.qt.widgets.encoder_notice import EncoderNotice

        self.encoder_notice = EncoderNotice(self.context, "This tab writes a continuation of your prompt")
        outer.addWidget(self.lesson(LESSON))  # the tab's explanation: one place, at the top (issue 28)
        outer.addWidget(self.encoder_notice)
        outer.addWidget(split, 1)

    # settings -----------------------------------------------------------------------------
    def settings_from_controls(self) -> GenerationSettings:
        return self.draft.value

    def on_model_changed(self, loaded) -> None:
        from playground.core.models.encoder import has_masked_lm_head

        self._forget_result(loaded)
        mlm = has_masked_lm_head(loaded)
        self.encoder_notice.update_for(loaded, f"This one has a masked-LM head: put {loaded.tokenizer.mask_token} "
                                               "in the prompt and press Generate to see it fill the gap." if mlm else "")
        self.generate_button.setText("Fill in the mask" if mlm else self._generate_text)
        has_template = loaded.info.has_chat_template and not loaded.is_encoder_decoder
        self.chat_check.setEnabled(has_template)
        self.update_token_meter()

    def _forget_result(self, loaded) -> None:
        """A completion belongs to the model that wrote it: after the Adapter switch it stays, marked out
        of date; after another model it goes, with any message about the old one (issue 28)."""
        made_by = getattr(self, "_run_loaded", None)
        if made_by is loaded:
            return
        if made_by is not None and self.output_text and self.context.only_switched(made_by, loaded):
            self.result_header.mark_stale("the Adapter switch changed the model since; Generate again")
            return
        if self.busy:
            self.slot.stop()
        self._run_loaded = None
        self.output_edit.clear()
        self.output_text = ""
        self.tokens = 0
        self.steps = []
        self.stats_label.setText("")
        self.candidates_label.setText("")
        self.message_label.setText("")
        self.result_header.clear_result()

    def _show_header(self, loaded, settings) -> None:
        if settings is None:
            how, form = "masked-LM guesses", "the text as typed"
        else:
            how = settings.describe()
            form = "chat template" if self.chat_check.isChecked() and self.chat_check.isEnabled() else "raw text"
        self._run_loaded = loaded
        self.result_header.show_for(loaded, prompt=form, settings=how)

    def full_prompt(self) -> str:
        from playground.core.decoding.generation import format_prompt

        loaded = self.context.session.require()
        return format_prompt(loaded, self.prompt_edit.toPlainText(), self.chat_check.isChecked(),
                             plain_special_tokens=self.special_note.plain)

    def update_token_meter(self) -> None:
        loaded = self.context.session.current
        if loaded is None:
            self.token_meter.setText("")
            return
        from playground.core.decoding.generation import count_tokens
        from playground.core.prompting.special_tokens import readable

        text = self.prompt_edit.toPlainText()
        self.special_note.update_for(loaded.tokenizer, text)
        full = self.full_prompt() if text.strip() else ""
        self.exact_view.setPlainText(readable(full))
        n = count_tokens(loaded, full) if full else 0
        limit = loaded.info.context_window
        over = n + (0 if loaded.is_encoder_decoder else self.max_tokens.value()) > limit
        colour = "#b00020" if over else "palette(text)"
        self.token_meter.setText(f"<span style='color:{colour}'>{n:,} prompt tokens / {limit:,} context</span>")

    # generation ---------------------------------------------------------------------------
    def generate(self) -> None:
        loaded = self.ready_to_start()
        if loaded is None:
            return
        from playground.core.models.encoder import has_masked_lm_head

        if has_masked_lm_head(loaded):
            self._fill_mask(loaded)
            return
        settings = self.settings_from_controls()
        try:
            prompt = self.full_prompt()
            from playground.core.decoding.generation import check_prompt

            check_prompt(loaded, prompt, settings.max_new_tokens)
        except Exception as exc:
            from playground.core.base.errors import describe_exception

            msg, hint = describe_exception(exc)
            self.message_label.setText(f"{msg} {hint}".strip())
            return
        from playground.core.decoding.generation import stream_generate

        self.output_edit.clear()
        self.output_text = ""
        self.tokens = 0
        self.steps = []
        self._run_model = loaded.info.name
        self._run_settings = settings
        self._show_header(loaded, settings)
        self._started = time.perf_counter()
        self.task = self.slot.start("generate", lambda h: stream_generate(loaded, prompt, settings, cancelled=h.cancelled),
                                    on_item=self._on_step, on_finished=self._on_finished)
        self.generate_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.stats_label.setText("Generating…")

    def _fill_mask(self, loaded) -> None:
        """A masked-LM encoder does not continue text: it guesses the masked tokens, all at once."""
        from playground.core.models.encoder import fill_mask

        self._run_model, self._run_settings = loaded.info.name, None
        self._show_header(loaded, None)
        text = self.prompt_edit.toPlainText()
        self.output_edit.clear()
        self.output_text = ""
        self.tokens = 0
        self.steps = []
        self._started = time.perf_counter()
        self.task = self.slot.start("fill mask", lambda h: fill_mask(loaded, text),
                                    on_done=self._on_filled, on_finished=self._on_finished)
        self.generate_button.setEnabled(False)
        self.stop_button.setEnabled(True)

    def _on_filled(self, result) -> None:
        self.output_text = result.filled
        self.output_edit.setPlainText(result.filled)
        self.tokens = len(result.guesses)
        parts = []
        for i, guesses in enumerate(result.guesses, start=1):
            cands = ", ".join(f"{html.escape(t)} {p:.0%}" for t, p in guesses)
            parts.append(f"mask {i}: {cands}")
        self.candidates_label.setText("<small>The model's guesses (it reads the words on both sides): "
                                      + " · ".join(parts) + "</small>")

    def _on_step(self, step) -> None:
        from playground.qt.widgets.token_chips import chip_html

        self.tokens += 1
        self.steps.append(step)
        if step.text:
            self.output_text += step.text
            cursor = self.output_edit.textCursor()
            cursor.movePosition(QTextCursor.MoveOperation.End)
            i = len(self.steps) - 1
            cursor.insertHtml(chip_html(step.text, step.prob, i, href=f"tok:{i}", style="white-space:pre-wrap;"))
            self.output_edit.setTextCursor(cursor)
        elapsed = max(step.elapsed, 1e-6)
        self.stats_label.setText(f"{_tokens(self.tokens)} · {self.tokens / elapsed:.1f} tokens/s")
        cands = " · ".join(f"{html.escape(t)} {p:.0%}" for t, p in zip(step.top_tokens[:5], step.top_probs[:5]))
        self.candidates_label.setText(f"<small>Next-token candidates at the last step: {cands}</small>")

    def describe_token(self, i: int) -> str:
        """What hovering completion token ``i`` shows: its probability and the model's other candidates."""
        from playground.core.prompting.tokens import visible

        step = self.steps[i]
        alts = ", ".join(f"{visible(t)!r} {p:.1%}" for t, p in zip(step.top_tokens[:5], step.top_probs[:5]))
        return f"token {i + 1} {visible(step.text)!r}: model {step.prob:.1%}\nmost likely there: {alts}"

    def _on_token_hover(self, url) -> None:
        from PySide6.QtGui import QCursor
        from PySide6.QtWidgets import QToolTip

        target = url.toString()
        if target.startswith("tok:") and int(target[4:]) < len(self.steps):
            QToolTip.showText(QCursor.pos(), self.describe_token(int(target[4:])), self.output_edit)
        else:
            QToolTip.hideText()

    def _on_finished(self, task) -> None:
        outcome = task.outcome
        elapsed = time.perf_counter() - self._started
        rate = self.tokens / elapsed if elapsed > 0 else 0.0
        note = " (stopped)" if outcome == "cancelled" else ""
        limit = self.max_tokens.value()
        if outcome == "done" and self.tokens >= limit:
            end = f" · stopped at the limit of {limit} new token{'' if limit == 1 else 's'}: raise 'Max new tokens' for more"
        elif outcome == "done" and self.tokens:
            end = " · the model ended the text itself (end-of-text token)"
        else:
            end = ""
        self.stats_label.setText(f"{_tokens(self.tokens)} in {elapsed:.1f} s · {rate:.1f} tokens/s{note}{end}")
        self.generate_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if self.tokens:
            s = self._run_settings  # None after a masked-LM fill: no decoding settings were used
            how = ("the masked-LM head's guesses" if s is None else
                   f"{s.sampling.describe()}, seed {s.seed}" if not s.sampling.greedy else "greedy")
            model = getattr(self, "_run_model", "")
            self.session_runs.append((f"Prompt ({model}, {how}, {self.tokens} tokens{note})",
                                      f"{self.prompt_edit.toPlainText()}\n\n→ {self.output_text}"))
        self.sig_generation_finished.emit(self.output_text)

    def session_snapshot(self) -> list[tuple[str, str]]:
        return list(self.session_runs)
