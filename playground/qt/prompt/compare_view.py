"""Side-by-side columns: the same dialogue under different prompts (0/1/k shots or templates)."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)


class CompareColumn(QFrame):
    def __init__(self, title: str, examples: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        self.label = title  # the variant's label, as plain text
        self.examples = examples  # the worked examples in its prompt, in words (describe_shots)
        shown = f"<br><small>examples: {html.escape(examples)}</small>" if examples else ""
        self.title = QLabel(f"<b>{html.escape(title)}</b>{shown}")
        self.title.setWordWrap(True)
        self.title.setToolTip(f"The worked examples in this column's prompt (id · topic): {examples}"
                              if examples else "")
        self.output = QPlainTextEdit()
        self.output.setReadOnly(True)
        from playground.qt.widgets.make import flexible_height

        flexible_height(self.output, 3)
        self.scores = QLabel("waiting…")
        self.scores.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.scores)
        self.result = None

    def set_streaming(self, text: str) -> None:
        self.output.setPlainText(text)
        self.scores.setText("generating…")

    def set_result(self, event, first=None) -> None:
        """Show a finished column; ``first`` (the first column's event) gives each score's change from it."""
        from playground.core.base.units import format_delta, format_score, score_value

        self.result = event
        self.output.setPlainText(event.summary or event.text)
        s = event.scores
        base = first.scores if first is not None and first is not event else {}
        parts = []
        for key, name in (("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L")):
            if key in s:
                change = (f" ({format_delta(score_value(base[key], key), score_value(s[key], key))})"
                          if key in base else "")
                parts.append(f"{name} <b>{format_score(s[key], key)}</b>{change}")
        score = " · ".join(parts) + "<br>" if parts else ""
        self.scores.setText(f"{score}{event.prompt_tokens:,} prompt tokens · {event.seconds:.1f} s")


class CompareView(QWidget):
    """A row of columns, rebuilt for each comparison."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.row = QHBoxLayout()
        outer.addLayout(self.row, 1)
        self.row_note = QLabel("")
        self.row_note.setWordWrap(True)
        outer.addWidget(self.row_note)
        self.columns: list[CompareColumn] = []

    def reset(self, titles: list[str], examples: list[str] | None = None) -> None:
        """New columns, one per title, each naming the examples its prompt shows (``examples``)."""
        for col in self.columns:
            col.setParent(None)
            col.deleteLater()
        self.row_note.setText("")
        examples = examples or [""] * len(titles)
        self.columns = [CompareColumn(t, e) for t, e in zip(titles, examples)]
        for col in self.columns:
            self.row.addWidget(col, 1)

    def on_event(self, event) -> None:
        col = self.columns[event.index]
        if event.done:
            first = self.columns[0].result
            col.set_result(event, first)
            if event.index == 0 and len(self.columns) > 1:
                self.row_note.setText(f"ROUGE on the 0–100 scale; in brackets each column's change from "
                                      f"“{self.columns[0].label}”.")
        else:
            col.set_streaming(event.text)

    @property
    def scored(self) -> int:
        return sum(1 for c in self.columns if c.result is not None)
