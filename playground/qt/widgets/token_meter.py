"""A bar that shows the context window filling, part by part: the Prompt tab's instruction, examples,
dialogue and room for the answer; the Build tab's question, retrieved passages and answer."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

COLOURS = {
    "instruction": QColor("#8da0cb"),
    "examples": QColor("#fc8d62"),
    "dialogue": QColor("#66c2a5"),
    "answer": QColor("#e5c494"),
    "retrieved passages": QColor("#fc8d62"),
    "question": QColor("#8da0cb"),
}
_MORE = [QColor(c) for c in ("#a6d854", "#ffd92f", "#b3b3b3")]


def colour_of(name: str) -> QColor:
    """The colour of a part, the same in the bar and in the legend beside it."""
    return COLOURS.get(name) or _MORE[sum(map(ord, name)) % len(_MORE)]


class TokenMeter(QWidget):
    """Stacked horizontal bar of token counts against the context window."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(22)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.parts: dict[str, int] = {}
        self.window = 1
        self.setToolTip("The context window: every token of the prompt (instruction, worked examples, the "
                        "dialogue) and of the answer must fit. Examples teach the task but take room.")

    def set_counts(self, instruction: int, examples: int, dialogue: int, answer: int, window: int) -> None:
        self.set_parts({"instruction": instruction, "examples": examples, "dialogue": dialogue, "answer": answer},
                       window)

    def set_parts(self, parts: dict[str, int], window: int) -> None:
        """Any named parts, in order, against a context window of ``window`` tokens."""
        self.parts = dict(parts)
        self.window = max(1, window)
        self.update()

    @property
    def over(self) -> bool:
        return sum(self.parts.values()) > self.window

    def paintEvent(self, event) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        r = QRectF(self.rect()).adjusted(1, 1, -1, -1)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self.palette().base())
        p.drawRoundedRect(r, 4, 4)
        total = max(self.window, sum(self.parts.values()))
        x = r.left()
        for key, n in self.parts.items():
            w = r.width() * n / total
            p.setBrush(colour_of(key))
            p.drawRect(QRectF(x, r.top(), w, r.height()))
            x += w
        # The window's end, when the prompt overflows it.
        if self.over:
            limit = r.left() + r.width() * self.window / total
            p.setPen(QColor("#b00020"))
            p.drawLine(int(limit), int(r.top()), int(limit), int(r.bottom()))
        p.setPen(self.palette().mid().color())
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(r, 4, 4)
        p.end()
