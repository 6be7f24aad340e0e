"""What the Sampling tab shows and does: the chart for the step in view, the token strip, and the
stepping actions (each model run goes through the task runner). Mixed into SamplingPanel."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from playground.core.base.errors import PlaygroundError
from playground.qt.sampling.strip import TokenStrip
from playground.qt.widgets.token_chips import chip_html

N_BARS = 30


class SamplingView:
    """Display state and actions; expects the widgets SamplingPanel builds."""

    @property
    def chart(self):
        """The distribution chart, made (with matplotlib) on first use in its place in the layout."""
        if self._chart is None:
            from playground.qt.sampling.chart import DistributionChart

            self._chart = DistributionChart(N_BARS)
            self._chart.sig_token_clicked.connect(self.force_token)
            self.chart_placeholder.hide()
            self.chart_slot.layout().addWidget(self._chart, 1)
        return self._chart

    def _init_view(self) -> None:
        self.stepper = None          # core TokenStepper; touched only while no task runs
        self.steps: tuple = ()       # the GUI's snapshot of stepper.steps
        self.view_index: int | None = None  # step shown; None follows the latest
        self.task = None
        self.redraws = 0
        self._generator = None
        self._read_after_task = False
        self._shown_key = None
        self._stepper_chat = False  # whether the prompt the stepper read went through the chat template
        self._shown_ids: list[int] = []
        self._order = None  # sort_order of the shown step's logits
        # The chart (and matplotlib) is made when first needed, after the tabs are on screen.
        self._chart = None
        self.chart_slot = QWidget()
        slot = QVBoxLayout(self.chart_slot)
        slot.setContentsMargins(0, 0, 0, 0)
        self.chart_placeholder = QLabel("The next-token distribution appears here once the prompt is read.")
        self.chart_placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.chart_placeholder.setWordWrap(True)
        from playground.qt.widgets.result_header import ResultHeader

        # The model (adapter or base), precision, prompt form and settings behind the bars on show.
        self.result_header = ResultHeader(empty="The distribution will name the model and settings that shape it.")
        slot.addWidget(self.chart_placeholder, 1)
        self.strip = TokenStrip()
        self.strip.sig_step_clicked.connect(self.show_step)
        self.rollouts_view = QTextBrowser()
        self.rollouts_view.setPlaceholderText("“Run 5 times” shows five sampled continuations next to the "
                                              "greedy one here.")
        self.rollouts_view.setToolTip("Five seeded samples from the end of the chosen tokens, under the greedy "
                                      "continuation: greedy is the same every time, each seed draws differently.")
        self.where_label = QLabel("")
        self.where_label.setWordWrap(True)
        self.stats_label = QLabel("")
        self.stats_label.setToolTip("Entropy measures the uncertainty left: 0 bits is one sure token, each extra "
                                    "bit doubles the number of equally likely choices. Tokens in play can still "
                                    "be picked with these settings.")
        self.notes_label = QLabel("")
        self.notes_label.setStyleSheet("color: #8a5a00;")
        self.fit_to_font()
        # Slider moves arrive in bursts: coalesce them into one redraw per pass of the event loop.
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.setInterval(0)
        self._redraw_timer.timeout.connect(self.redraw)

    def fit_to_font(self) -> None:
        """Fixed heights, measured in lines of the current font (again after a presenter zoom).

        A label growing or shrinking as sliders move would resize the chart, forcing a full
        redraw instead of a quick blit.
        """
        for label in (self.stats_label, self.notes_label):
            label.setFixedHeight(label.fontMetrics().height() + 6)
        # A heading, the greedy line and five seeds.
        self.rollouts_view.setFixedHeight(int(self.rollouts_view.fontMetrics().height() * 7.6) + 10)

    # what is shown -------------------------------------------------------------------------
    def shown_step(self):
        if not self.steps:
            return None
        if self.view_index is None or self.view_index >= len(self.steps):
            return self.steps[-1]
        return self.steps[self.view_index]

    def schedule_redraw(self) -> None:
        if not self._redraw_timer.isActive():
            self._redraw_timer.start()

    def clear_view(self, where: str = "") -> None:
        """No distribution on show: a sentence in the chart's place (never empty axes), the header emptied."""
        self._shown_key = None
        if self._chart is not None:
            self._chart.clear()
            self._chart.hide()
        self.chart_placeholder.setText(where or "The next-token distribution appears here once the prompt is read.")
        self.chart_placeholder.show()
        self.result_header.clear_result()
        self.stats_label.setText("")
        self.notes_label.setText("")
        self.where_label.setText(where)
        self.strip.clear()

    def _tokens_for(self, step) -> list[int]:
        """The bars' tokens for a step, computed (and labelled) once per step."""
        from playground.core.decoding.distribution_view import top_token_ids
        from playground.core.prompting.tokens import token_label

        key = (id(self.stepper), step.index, step.token_id, id(step.logits))
        if key != self._shown_key:
            from playground.core.decoding.sampling import sort_order

            self._order = sort_order(step.logits)  # one sort per step, not per slider move
            ids = top_token_ids(step.logits, N_BARS, include=step.token_id)
            tok = self.stepper.loaded.tokenizer
            chosen = ids.index(step.token_id) if step.chosen else None
            self.chart.set_tokens(ids, [token_label(tok, i) for i in ids], chosen)
            self._shown_key, self._shown_ids = key, ids
            self._update_where(step)
        return self._shown_ids

    def _update_where(self, step) -> None:
        from playground.core.prompting.tokens import visible as visible_text

        text = self.shown_prompt() + self.stepper.continuation(step.index)
        tail = visible_text(text[-70:])
        last = len(self.steps) - 1
        head = (f"<b>Next token</b> (step {step.index + 1}) · click a bar to force that token" if step.index == last
                else f"<b>Step {step.index + 1} of {last + 1}</b> · chosen here: "
                f"<code>{html.escape(visible_text(step.text))}</code> ({html.escape(step.how)}) · "
                "click a bar to choose differently (the later tokens are recomputed)")
        self.where_label.setText(f"{head}<br><span style='color:#666'>after …{html.escape(tail)}</span>")

    def redraw(self) -> None:
        """Reshape the shown step's distribution with the current settings (no model run)."""
        from playground.core.decoding.distribution_view import view_of
        from playground.core.decoding.sampling import stages_for
        from playground.core.prompting.tokens import token_label

        step = self.shown_step()
        if step is None:
            return
        settings = self.controls.settings()
        try:
            ids = self._tokens_for(step)
            stages = stages_for(settings, step.logits, self._order)
        except PlaygroundError as exc:
            self.chart.clear()
            self._shown_key = None
            self._last_stages = None
            self.stats_label.setText("")
            self.message_label.setText(f"{exc.message} {exc.hint}".strip())
            return
        view = view_of(stages, ids, settings.top_p)
        if self.chart.isHidden():
            self.chart_placeholder.hide()
            self.chart.show()
        self._show_header(settings)
        chosen = ids.index(step.token_id) if step.chosen else None
        self.chart.set_values(view.plain, view.final, view.cut, view.cumulative, view.top_p, chosen)
        vocab = step.logits.shape[-1]
        top = int(stages.final.argmax())
        label = token_label(self.stepper.loaded.tokenizer, top)
        self.stats_label.setText(
            f"Entropy <b>{stages.entropy_bits:.2f} bits</b> · <b>{stages.kept:,}</b> of {vocab:,} tokens in play"
            f" · most likely <code>{html.escape(label)}</code>: model {float(stages.base[top]):.1%}"
            f" → {float(stages.final[top]):.1%} after your settings")
        notes = " ".join(stages.notes)
        self.notes_label.setText(notes)
        self.notes_label.setToolTip(notes)  # the whole note, should a narrow window cut it
        self._last_stages = stages
        self.redraws += 1
        self.sig_redrawn.emit()

    def _show_header(self, settings) -> None:
        """Name the model that computed the bars (kept across the Adapter switch, then marked) and the
        settings that shape them now."""
        loaded, current = self.stepper.loaded, self.context.session.current
        form = "chat template" if self._stepper_chat else "raw text"
        self.result_header.show_for(loaded, prompt=form, settings=f"settings now: {settings.describe()}")
        if current is not None and loaded is not current:
            self.result_header.mark_stale("the Adapter switch selects another model now")

    def show_step(self, index: int) -> None:
        """Show the distribution a chosen token was picked from (the strip's click)."""
        self.view_index = None if index >= len(self.steps) - 1 else index
        self._refresh()

    def _refresh(self) -> None:
        step = self.shown_step()
        if self.stepper is not None:
            prompt = self.shown_prompt()
            tail = prompt[-60:].replace("\n", " ")
            self.strip.set_steps("…" + tail if len(prompt) > 60 else tail, self.steps,
                                 step.index if step is not None else None)
        self._update_origin()
        self.redraw()
        self._update_buttons()

    # actions ---------------------------------------------------------------------------------
    def generator(self):
        from playground.core.decoding.sampling import make_generator

        if self._generator is None:
            self._generator = make_generator(self.controls.settings().seed)
        return self._generator

    def read_prompt(self) -> None:
        """Run the model once on the prompt (in the runner) and show the next-token distribution."""
        from playground.core.decoding.generation import format_prompt
        from playground.core.decoding.stepper import TokenStepper

        loaded = self.ready_to_start()
        if loaded is None:
            return
        try:
            prompt = format_prompt(loaded, self.prompt_edit.toPlainText(), self.chat_check.isChecked(),
                                   plain_special_tokens=self.special_note.plain)
            stepper = TokenStepper(loaded, prompt)
        except PlaygroundError as exc:
            self.message_label.setText(f"{exc.message} {exc.hint}".strip())
            return
        self.stepper, self.steps, self.view_index, self._generator = stepper, (), None, None
        self._stepper_chat = self.chat_check.isChecked() and self.chat_check.isEnabled()
        self.clear_view("Reading the prompt…")
        self._start("read prompt", lambda h: (stepper.start(), stepper.steps)[1], on_done=self._on_steps)

    def shown_prompt(self) -> str:
        """The prompt read, as the user typed it (special tokens read as text keep no escape marks)."""
        from playground.core.prompting.special_tokens import readable

        return readable(self.stepper.prompt) if self.stepper is not None else ""

    def sample_next(self) -> None:
        """Pick a token from the distribution shown and add it (a branch when an earlier step is shown)."""
        from playground.core.decoding.sampling import pick_token

        step = self.shown_step()
        if step is None or self.busy:
            return
        settings = self.controls.settings()
        try:
            token, stages = pick_token(settings, step.logits, self.generator())
        except PlaygroundError as exc:
            self.message_label.setText(f"{exc.message} {exc.hint}".strip())
            return
        self._choose(step.index, token, float(stages.final[token]), settings.describe())

    def force_token(self, token_id: int) -> None:
        """The user clicked a bar: choose that token at the step shown, whatever its probability."""
        step = self.shown_step()
        if step is None or self.busy:
            return
        final = getattr(self, "_last_stages", None)
        prob = float(final.final[token_id]) if final is not None else float("nan")
        self._choose(step.index, int(token_id), prob, "forced")

    def _choose(self, index: int, token: int, final_prob: float, how: str) -> None:
        stepper = self.stepper
        at_end = index == len(self.steps) - 1

        def work(handle):
            if at_end:
                stepper.append(token, final_prob=final_prob, how=how)
            else:
                stepper.branch(index, token, final_prob=final_prob, how=how)
            return stepper.steps

        self.view_index = None
        self._start("choose token", work, on_done=self._on_steps)

    def run_steps(self) -> None:
        """Choose N tokens one after another (from the step shown), each shown as it comes."""
        step = self.shown_step()
        if step is None or self.busy:
            return
        stepper, settings, gen = self.stepper, self.controls.settings(), self.generator()
        n, index, at_end = self.steps_spin.value(), step.index, step.index == len(self.steps) - 1

        def work(handle):
            if not at_end:
                stepper.truncate(index)
                yield stepper.steps
            for _ in stepper.run(n, settings, gen, handle.cancelled):
                yield stepper.steps

        self.view_index = None
        self._start("run steps", work, on_item=self._on_steps)

    def run_five(self) -> None:
        """Five seeded samples and the greedy continuation from the last chosen token."""
        from playground.core.decoding.stepper import compare_rollouts

        if not self.steps or self.busy:
            return
        stepper, settings, n = self.stepper, self.controls.settings(), self.steps_spin.value()
        self.rollouts_view.setHtml(f"<small>{n} tokens after the last chosen token, {settings.describe()}:</small>")
        self.rollouts_shown = 0  # sampled continuations shown so far (the Labs checks read it)
        self._start("run 5 times", lambda h: compare_rollouts(stepper, n, settings, 5, h.cancelled),
                    on_item=self._on_rollout, on_finished=self.sig_rollouts_finished.emit)

    def clear_tokens(self) -> None:
        if self.busy or self.stepper is None or not self.steps:
            return
        self.steps = (self.stepper.truncate(0),)
        self.view_index = None
        self._refresh()
        self.sig_steps_changed.emit(0)

    # task plumbing ---------------------------------------------------------------------------
    def _start(self, name, fn, on_done=None, on_item=None, on_finished=None) -> None:
        stepper = self.stepper

        def current(hook):  # results for a stepper the panel has since replaced are dropped
            return (lambda r: hook(r) if stepper is self.stepper else None) if hook is not None else None

        def finished(task):
            if on_finished is not None:
                on_finished()
            self._on_task_finished()

        self.task = self.slot.start(name, fn, on_done=current(on_done), on_item=current(on_item),
                                    on_failed=self._on_failed, on_finished=finished)
        self._update_buttons()

    def _on_steps(self, steps) -> None:
        self.steps = tuple(steps)
        self._refresh()
        self.sig_steps_changed.emit(len(self.steps) - 1)

    def _on_rollout(self, rollout) -> None:
        from playground.core.prompting.tokens import token_text

        tok = self.stepper.loaded.tokenizer
        chips = "".join(chip_html(token_text(tok, t).replace("\n", "↵"), p, i)
                        for i, (t, p) in enumerate(zip(rollout.token_ids, rollout.probs)))
        style = "color:#3b6ea8" if rollout.label == "greedy" else "color:#444"
        self.rollouts_shown = getattr(self, "rollouts_shown", 0) + (rollout.label != "greedy")
        self.rollouts_view.append(f"<b style='{style}'>{html.escape(rollout.label)}</b>: {chips or '∅'}")

    def _on_failed(self, message: str, hint: str) -> None:
        self.message_label.setText(f"{message} {hint}".strip())
        if self.stepper is not None and self.steps:
            # The worker is done: resync with what the stepper kept (a branch may have cut steps).
            self.steps = self.stepper.steps
            self._refresh()
        else:
            self.where_label.setText("")

    def _on_task_finished(self) -> None:
        self._update_buttons()
        if self._read_after_task:
            self._read_after_task = False
            self.read_prompt()
