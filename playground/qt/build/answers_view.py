"""With and without: the model's answer without retrieval and with it, side by side, streaming, each with
its result header (model, settings, chunks, k) and its scores against the gold answer."""

from __future__ import annotations

import html

from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QLabel, QTextBrowser, QVBoxLayout, QWidget

from playground.qt.design import set_type
from playground.qt.widgets.make import hbox, note_label
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

SIDES = ("without", "with")


class AnswerColumn(QWidget):
    """One answer: its header, the text as it streams in, its scores."""

    def __init__(self, title: str, empty: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = ResultHeader(title, empty)
        self.text = QTextBrowser()
        self.text.setPlaceholderText("The answer streams in here, token by token.")
        self.scores = QLabel("")
        self.scores.setWordWrap(True)
        self.answer = ""
        from playground.qt.widgets.make import flexible_height

        flexible_height(self.text, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.header)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.scores)

    def start(self, loaded, settings: str, extra: str, prompt_form: str) -> None:
        self.answer = ""
        self.text.clear()
        self.scores.setText("")
        self.header.show_for(loaded, prompt=prompt_form, settings=settings, extra=extra)

    def add(self, piece: str) -> None:
        self.answer += piece
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(piece)
        self.text.setTextCursor(cursor)

    def clear(self, reason: str = "") -> None:
        self.answer = ""
        self.text.clear()
        self.scores.setText("")
        self.header.clear_result(reason)


class AnswersView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.make import button

        self.answer_button = button("Answer with and without retrieval",
                                    "Ask the loaded model the question twice: alone, then with the retrieved chunks "
                                    "in its prompt. Greedy, so the answers repeat.")
        self.question_label = note_label("")
        self.gold_label = note_label("", "The answer written with the knowledge base; the scores compare with it.")
        set_type(self.gold_label, "caption")
        self.strip = ProgressStrip("Stop answering; what is written stays (Esc).")
        self.columns = {"without": AnswerColumn("Without retrieval", "The model alone: the question, no documents."),
                        "with": AnswerColumn("With retrieval", "The same question with the retrieved chunks in the "
                                                               "prompt.")}
        self.note = note_label("")
        set_type(self.note, "caption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(hbox(self.answer_button, (self.question_label, 1)))
        layout.addWidget(self.gold_label)
        layout.addWidget(self.strip)
        layout.addLayout(hbox((self.columns["without"], 1), (self.columns["with"], 1)), 1)
        layout.addWidget(self.note)

    def show_question(self, question: str, gold: str | None) -> None:
        self.question_label.setText(f"<b>Question:</b> {html.escape(question)}" if question else "")
        self.gold_label.setText(f"Gold answer: {html.escape(gold)}" if gold else
                                "A question of your own has no gold answer: the answers are not scored.")

    def clear(self, reason: str = "") -> None:
        for column in self.columns.values():
            column.clear(reason)
        self.note.setText("")
