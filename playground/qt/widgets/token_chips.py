"""Tokens as coloured chips: the colour says how likely the model found each token. Used by the
Sampling tab's strip, its 'Run 5 times' view and the Generate tab's completion."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

# (lowest probability, background): a token the model found unlikely stands out in red.
from playground.qt.design import PROBABILITY_COLOURS as BUCKETS  # noqa: E402 (one set, every tab)


def colour_for(prob: float) -> str:
    for low, colour in BUCKETS:
        if prob >= low:
            return colour
    return BUCKETS[-1][1]


def shade(colour: str, odd: bool) -> str:
    """Neighbouring chips alternate between two shades so token boundaries stay visible."""
    if not odd:
        return colour
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"#{int(r * 0.9):02x}{int(g * 0.9):02x}{int(b * 0.9):02x}"


def chip_html(text: str, prob: float, index: int, href: str = "", tip: str = "", style: str = "") -> str:
    """One token as rich text: its background coloured by ``prob``; a link to ``href`` when given.

    ``text`` is shown as it is (escaped; new lines become line breaks).
    """
    colour = shade(colour_for(prob), index % 2 == 1)
    body = html.escape(text).replace("\n", "<br>")
    title = f" title='{html.escape(tip)}'" if tip else ""
    css = f"color:#111; text-decoration:none; background:{colour};{style}"
    if href:
        return f"<a href='{href}'{title} style='{css}'>{body}</a>"
    return f"<span{title} style='{css}'>{body}</span>"


def legend_widget() -> QWidget:
    """'model's probability:' then one coloured chip per bucket (plain widgets: a rich-text QLabel
    with backgrounds under-reports its width and gets clipped)."""
    box = QWidget()
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(3)
    row.addWidget(QLabel("<small>model's probability:</small>"))
    for (_, colour), name in zip(BUCKETS, ["≥ 50%", "20–50%", "5–20%", "1–5%", "< 1%"]):
        chip = QLabel(name)
        chip.setStyleSheet(f"background: {colour}; color: #111; padding: 0 4px;")
        small = chip.font()  # set on the widget, not in the style sheet, so the presenter zoom scales it
        small.setPointSizeF(small.pointSizeF() * 0.85)
        chip.setFont(small)
        row.addWidget(chip)
    return box
