"""What the Prompt tab's prompt is made of: the dialogue, its reference, the template and the shots."""

from __future__ import annotations

from PySide6.QtCore import Qt

from playground.core.prompting.prompt_settings import FREE_TEMPLATE as FREE


class ChoosingMixin:
    """The PromptPanel's choices. Expects the widgets PromptPanel builds and ``splits`` / ``train``."""

    def _split_chosen(self) -> None:
        self.example_combo.blockSignals(True)
        self.example_combo.clear()
        for ex in self.splits.get(self.split_combo.currentText(), []):
            self.example_combo.addItem(f"{ex.id} · {ex.topic}", ex.id)
        self.example_combo.blockSignals(False)
        self._example_chosen()

    def current_example(self):
        examples = self.splits.get(self.split_combo.currentText(), [])
        i = self.example_combo.currentIndex()
        return examples[i] if 0 <= i < len(examples) else None

    def _example_chosen(self) -> None:
        ex = self.current_example()
        self.dialogue_edit.setPlainText(ex.input if ex else "")
        self.reference_view.setPlainText(ex.reference if ex else "")

    def _random_example(self) -> None:
        import random

        if self.example_combo.count():
            self.example_combo.setCurrentIndex(random.randrange(self.example_combo.count()))

    def template(self) -> str:
        return self.draft.value.template_text()

    def chosen_ids(self) -> list[str]:
        out = []
        for i in range(self.shot_list.count()):
            item = self.shot_list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def shots(self, k: int | None = None):
        from playground.core.prompting.prompts import select_shots

        ex = self.current_example()
        dialogue = self.dialogue_edit.toPlainText()
        k = self.draft.value.shots if k is None else k
        chosen = self.chosen_ids()
        return select_shots(self.train, k, exclude_id=ex.id if ex and ex.input == dialogue else "",
                            exclude_text=dialogue, seed=self.draft.value.seed, chosen_ids=chosen)

    def typed_dialogue(self, loaded) -> str:
        """The dialogue as the model is to read it: special tokens in it escaped when the switch says so."""
        from playground.core.prompting.special_tokens import as_plain_text

        dialogue = self.dialogue_edit.toPlainText()
        return as_plain_text(loaded.tokenizer, dialogue) if self.special_note.plain and not self.edited else dialogue

    def use_chat(self, loaded) -> bool:
        return self.draft.value.use_chat_template and loaded.info.has_chat_template and not loaded.is_encoder_decoder

    def reference(self) -> str:
        ex = self.current_example()
        return ex.reference if ex and ex.input.strip() == self.dialogue_edit.toPlainText().strip() else ""

