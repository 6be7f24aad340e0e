"""The line beside a prompt that names the special tokens typed into it, with the switch that reads them as text.

Shared by Generate, Sampling and Prompt; hidden while the text holds no special token.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from playground.qt.design import LIGHT

WARNING_COLOUR = LIGHT.warning  # the design module's warning colour


class SpecialTokensNote(QWidget):
    """A warning naming the special tokens found in the user's text, and a "Read them as plain text" box."""

    sig_plain_changed = Signal(bool)
    """the "read them as plain text" box was ticked (True) or cleared (False)"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.found: list[str] = []
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setToolTip("A tokenizer turns its special tokens into control tokens wherever they appear, "
                              "even in text you typed: the model then sees, say, the end of a chat turn.")
        self.plain_check = QCheckBox("Read them as plain text")
        self.plain_check.setToolTip("Escape the special tokens you typed, so the model reads their characters as "
                                    "ordinary text. The chat template's own special tokens stay control tokens.")
        self.plain_check.toggled.connect(self._on_toggled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.plain_check, 0, Qt.AlignmentFlag.AlignLeft)  # clickable where its words are
        self.setVisible(False)

    @property
    def plain(self) -> bool:
        """Whether special tokens in the user's text are to be read as plain text."""
        return self.plain_check.isChecked() and self.plain_check.isEnabled()

    def update_for(self, tokenizer, *texts: str) -> list[str]:
        """Look for special tokens in ``texts`` (what the user typed) and show or hide the line."""
        from playground.core.prompting.special_tokens import special_tokens_in

        found: list[str] = []
        for text in texts:
            found += [t for t in special_tokens_in(tokenizer, text) if t not in found]
        self.found = found
        self._show()
        return found

    def set_applies(self, applies: bool, why_not: str = "") -> None:
        """Enable the switch, or disable it saying why it does not apply (a prompt edited by hand)."""
        self.plain_check.setEnabled(applies)
        self.plain_check.setToolTip(why_not or "Escape the special tokens you typed, so the model reads their "
                                    "characters as ordinary text. The chat template's own special tokens stay "
                                    "control tokens.")
        self._show()

    def clear(self) -> None:
        self.found = []
        self._show()

    def _on_toggled(self, on: bool) -> None:
        self._show()
        self.sig_plain_changed.emit(on)

    def _show(self) -> None:
        from playground.core.prompting.special_tokens import special_tokens_note

        note = special_tokens_note(self.found, self.plain)
        self.label.setText(f"<span style='color:{WARNING_COLOUR}'>⚠ {html.escape(note)}</span>" if note else "")
        self.setVisible(bool(self.found))
