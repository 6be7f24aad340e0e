"""The Evaluate tab's generation and scoring box: max new tokens (greedy), prompt template, chat form,
ROUGE tokenizer and stemming."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox

from playground.qt.widgets.make import note_label


class GenerationMixin:
    """The generation box of EvaluatePanel; expects ``draft`` (the panel's ``EvaluateSettings``)."""

    def _build_generation_box(self) -> QGroupBox:
        from playground.core.evaluation.evaluate_settings import GREEDY_NOTE
        from playground.qt.binding import form_row, widget_for
        from playground.qt.widgets.generation_form import GenerationForm

        # Max new tokens is GenerationSettings' own row; Evaluate stays greedy (said on the row and below it).
        box = GenerationForm(self.draft, "", tokens_path="max_new_tokens", sampling=False,
                             title="Generation and scoring")
        self.max_tokens = box.max_tokens
        self.max_tokens.setMaximumWidth(110)
        self.max_tokens.setToolTip(f"{self.max_tokens.toolTip()} {GREEDY_NOTE}")
        template_label, self.template_combo = form_row(self.draft, "template")
        self.chat_check = widget_for(self.draft, "use_chat_template")
        tokenizer_label, self.tokenizer_combo = form_row(self.draft, "tokenizer")
        self.stemmer_check = widget_for(self.draft, "use_stemmer")
        from PySide6.QtWidgets import QComboBox

        for combo in (self.template_combo, self.tokenizer_combo):  # long item texts: elided, not a wide column
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(12)
        self._prompt_from = ""
        self._show_template(self.draft.value.template)  # a run's own template, kept from the last start
        self.draft.connect_path("template", self._template_changed)
        self._template_changed()
        for label, widget in ((None, note_label(f"<small>{GREEDY_NOTE}</small>")),
                              (template_label, self.template_combo), (None, self.chat_check),
                              (tokenizer_label, self.tokenizer_combo), (None, self.stemmer_check)):
            row = box.grid.rowCount()
            if label is None:
                box.grid.addWidget(widget, row, 0, 1, 3)
            else:
                box.grid.addWidget(label, row, 0)
                box.grid.addWidget(widget, row, 1, 1, 2)
        return box

    def _template_changed(self) -> None:
        self.chat_check.setEnabled(bool(self.draft.value.template))

    def _show_template(self, template: str) -> None:
        """Choose ``template``, offering it in the list first when it is a run's own (not a bundled one)."""
        i = self.template_combo.findData(template)
        if i < 0:
            self.template_combo.addItem(f"The run's own template: {template[:30]}", template)
            i = self.template_combo.count() - 1
        self.template_combo.setCurrentIndex(i)
