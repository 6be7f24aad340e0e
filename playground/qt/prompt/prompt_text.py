"""The Prompt tab's rendered prompt: the variant it makes, the prompt text and its token meter, and dropping
shots to fit. A mixin of PromptPanel (it reads the panel's widgets and draft)."""

from __future__ import annotations

from playground.core.prompting.special_tokens import readable
from playground.qt.prompt.runs import describe_shots


class PromptTextMixin:
    """The rendered prompt and its tokens, for PromptPanel."""

    def _schedule_refresh(self, *args) -> None:
        self._refresh_timer.start()

    def _prompt_edited(self) -> None:
        if not self._setting_prompt:
            self.edited = True
            self._schedule_refresh()

    def reset_prompt(self) -> None:
        self.edited = False
        self.refresh_prompt()

    def variant(self, shots=None, template=None, label=""):
        from playground.core.prompting.lab import Variant

        loaded = self.context.session.require()
        shots = self.shots() if shots is None else shots
        return Variant(label or f"{len(shots)}-shot", template or self.template(), shots, self.use_chat(loaded),
                       self.prompt_edit.toPlainText() if self.edited else "")

    def refresh_prompt(self) -> None:
        """Rebuild the prompt (unless edited by hand) and the token meter."""
        from playground.core.base.errors import PlaygroundError
        from playground.core.prompting.lab import build_variant_prompt

        loaded = self.context.session.current
        if loaded is None:
            return
        self.message.setText("")
        self.special_note.update_for(loaded.tokenizer, self.dialogue_edit.toPlainText())
        self.special_note.set_applies(not self.edited, "A prompt edited by hand is read as written. Press Reset "
                                      "prompt to read the dialogue's special tokens as plain text.")
        try:
            v = self.variant()
            built = build_variant_prompt(loaded, self.typed_dialogue(loaded), v)
        except PlaygroundError as exc:
            self.message.setText(f"{exc.message} {exc.hint}".strip())
            self.meter.set_counts(0, 0, 0, 0, loaded.info.context_window)
            self._mark_stale()
            return
        self.shots_label.setText("Examples: as edited by hand" if self.edited else
                                 f"Examples in this prompt: {describe_shots(v.shots)}")
        if not self.edited:
            self._setting_prompt = True
            self.prompt_edit.setPlainText(readable(built.text))
            self._setting_prompt = False
            parts = self._counts(loaded, built, v)
        else:
            n = len(loaded.tokenizer(built.text, add_special_tokens=not self.use_chat(loaded))["input_ids"])
            parts = (n, 0, 0)
        window, answer = loaded.info.context_window, self.draft.value.generation.max_new_tokens
        self.meter.set_counts(*parts, answer if not loaded.is_encoder_decoder else 0, window)
        total = sum(parts)
        from playground.qt.widgets.token_meter import COLOURS

        key = lambda name: f"<span style='color:{COLOURS[name].name()}'>■</span> {name}"  # noqa: E731
        split = ("edited by hand" if self.edited else
                 f"{key('instruction')} {parts[0]:,} · {key('examples')} {parts[1]:,} · "
                 f"{key('dialogue')} {parts[2]:,}")
        self.meter_label.setText(f"<b>{total:,}</b> prompt tokens ({split}) + {key('answer')} {answer} / "
                                 f"{window:,} context window")
        self.fit_button.setVisible(self.meter.over and self.draft.value.shots > 0 and not self.edited)
        if self.meter.over:
            self.message.setText("The prompt does not fit in the context window: the examples take too much "
                                 "room. Drop shots, shorten the template, or lower max new tokens.")
        self._mark_stale()
        self.sig_prompt_measured.emit(self.meter.over)

    def _counts(self, loaded, built, v) -> tuple[int, int, int]:
        """Instruction, examples and dialogue tokens; special tokens read as text count as the text they are."""
        from playground.core.prompting.lab import build_variant_prompt
        from playground.core.prompting.prompts import count_prompt_tokens
        from playground.core.prompting.special_tokens import encode

        typed = build_variant_prompt(loaded, self.dialogue_edit.toPlainText(), v)
        c = count_prompt_tokens(loaded.tokenizer, typed)
        # Only the dialogue is escaped: the difference is the dialogue's.
        extra = len(encode(loaded.tokenizer, built.text, add_special_tokens=not built.chat)) - c.total
        return c.instruction, c.examples, c.dialogue + extra

    def drop_shots_to_fit(self) -> None:
        from playground.core.prompting.prompts import max_shots_that_fit

        loaded = self.context.session.require()
        shots = self.shots()
        n = max_shots_that_fit(loaded.tokenizer, self.dialogue_edit.toPlainText(), shots, self.template(),
                               loaded.info.context_window, self.draft.value.generation.max_new_tokens, self.use_chat(loaded))
        self.draft.set("shots", n)
        self.refresh_prompt()
