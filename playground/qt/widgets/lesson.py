"""A tab's teaching paragraph: its bold first sentence, and "More" that opens the rest.

Every tab explains its concept the same way (issue 28): one bold sentence the eye catches, and the
rest one click away, so the main picture of the tab keeps the room. A lesson's words change only by
``setText`` (a verdict, a note after a run): those are shown whole.
"""

from __future__ import annotations

import re

from PySide6.QtWidgets import QLabel

from playground.qt.design import lesson_style_sheet

# A paragraph shorter than this (in characters of text) is shown whole: a "More" would save nothing.
SHORT = 160


def _plain_length(html: str) -> int:
    return len(re.sub(r"<[^>]+>", "", html))


def split_lesson(text: str) -> tuple[str, str]:
    """(the bold first sentence, the rest) of a lesson written as '<b>Sentence.</b> The rest…';
    ('', text) when it does not start with a bold sentence or is short."""
    match = re.match(r"\s*(<b>.*?</b>)(.*)", text, flags=re.S)
    if not match or _plain_length(text) < SHORT or not match.group(2).strip():
        return "", text
    return match.group(1), match.group(2).strip()


class LessonLabel(QLabel):
    """A word-wrapped lesson, folded to its bold sentence with a "More" link when it is long."""

    def __init__(self, text: str = "") -> None:
        super().__init__()
        self.setObjectName("lesson")
        self.setWordWrap(True)
        self.setStyleSheet(lesson_style_sheet())
        self.linkActivated.connect(self._on_link)
        self._full = text
        self._head, self._rest = split_lesson(text)
        self.expanded = not self._head
        self._show()

    def full_text(self) -> str:
        """The whole lesson, folded or not (the F1 guide collects these)."""
        return self._full

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full, self._head, self._rest, self.expanded = text, "", text, True
        self._show()

    def set_expanded(self, expanded: bool) -> None:
        self.expanded = expanded or not self._head
        self._show()

    def _on_link(self, target: str) -> None:
        if target in ("#more", "#less"):
            self.set_expanded(target == "#more")

    def _show(self) -> None:
        if self.expanded and self._head:
            super().setText(f"{self._head} {self._rest} <a href='#less'>Less</a>")
        elif self._head:
            super().setText(f"{self._head} <a href='#more'>More…</a>")
        else:
            super().setText(self._full)
        self.setToolTip("" if self.expanded else "Click More for the rest of the explanation.")
        self.updateGeometry()
