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
        self.scores = QLabel("waiting…")
        self.scores.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.output, 1)
        layout.addWidget(self.scores)
        self.result = None

    def set_streaming(self, text: str) -> None:
        self.output.setPlainText(text)
        self.scores.setText("generating…")

    def set_result(self, event) -> None:
        self.result = event
        self.output.setPlainText(event.summary or event.text)
        s = event.scores
        score = (f"ROUGE-1 {s['rouge1']:.3f} · ROUGE-2 {s['rouge2']:.3f} · ROUGE-L {s['rougeL']:.3f}<br>"
                 if s else "")
        self.scores.setText(f"{score}{event.prompt_tokens:,} prompt tokens · {event.seconds:.1f} s")


class CompareView(QWidget):
    """A row of columns, rebuilt for each comparison."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = QHBoxLayout(self)
        self.columns: list[CompareColumn] = []

    def reset(self, titles: list[str], examples: list[str] | None = None) -> None:
        """New columns, one per title, each naming the examples its prompt shows (``examples``)."""
        for col in self.columns:
            col.setParent(None)
            col.deleteLater()
        examples = examples or [""] * len(titles)
        self.columns = [CompareColumn(t, e) for t, e in zip(titles, examples)]
        for col in self.columns:
            self.row.addWidget(col, 1)

    def on_event(self, event) -> None:
        col = self.columns[event.index]
        if event.done:
            col.set_result(event)
        else:
            col.set_streaming(event.text)

    @property
    def scored(self) -> int:
        return sum(1 for c in self.columns if c.result is not None)
