"""The strip of chosen tokens, each coloured by the probability the model gave it; click one to see
the distribution it was picked from."""

from __future__ import annotations

import html

from PySide6.QtCore import QUrl, Signal
from PySide6.QtWidgets import QTextBrowser

from playground.core.generation import visible_text

# (lowest probability, background): a token the model found unlikely stands out in red.
BUCKETS = [(0.5, "#9fdc98"), (0.2, "#d3efa6"), (0.05, "#fbe7a1"), (0.01, "#f8c18c"), (0.0, "#f29b9b")]


def colour_for(prob: float) -> str:
    for low, colour in BUCKETS:
        if prob >= low:
            return colour
    return BUCKETS[-1][1]


def legend_html() -> str:
    names = ["≥ 50%", "20–50%", "5–20%", "1–5%", "< 1%"]
    chips = " ".join(f"<span style='background:{c}'>&nbsp;{n}&nbsp;</span>" for (_, c), n in zip(BUCKETS, names))
    return f"<small>model's probability of each chosen token: {chips}</small>"


class TokenStrip(QTextBrowser):
    """Prompt tail in grey, then one clickable chip per chosen token, then 'next ▸'."""

    sig_step_clicked = Signal(int)
    """the step index the user clicked (its distribution is shown)"""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        self.setMinimumHeight(64)
        self.setPlaceholderText("Chosen tokens appear here. Press “Sample next” or click a bar.")
        self.setToolTip("The tokens chosen so far, each coloured by the probability the model gave it. "
                        "Click one to see the distribution it was picked from.")

    def set_steps(self, prompt_tail: str, steps, selected: int | None) -> None:
        parts = [f"<span style='color:#8a8a8a'>{html.escape(prompt_tail)}</span>"]
        last = len(steps) - 1
        for step in steps:
            if step.chosen:
                tip = f"step {step.index + 1}: model {step.prob:.1%}"
                if step.final_prob == step.final_prob:  # not NaN
                    tip += f", after settings {step.final_prob:.1%}"
                tip += f" · {step.how}"
                weight = "font-weight:bold; text-decoration:underline;" if step.index == selected else ""
                forced = " border:1px solid black;" if step.how == "forced" else ""
                text = html.escape(visible_text(step.text))
                parts.append(f"<a href='step:{step.index}' title='{html.escape(tip)}' style='color:#111;"
                             f"text-decoration:none; background:{colour_for(step.prob)};{forced}{weight}'>"
                             f"{text}</a>")
            elif step.index == last:
                weight = "font-weight:bold; text-decoration:underline;" if selected in (None, last) else ""
                parts.append(f"<a href='step:{step.index}' style='color:#3b6ea8; text-decoration:none;{weight}'>"
                             "&nbsp;next&nbsp;▸</a>")
        self.setHtml("<div style='font-family:monospace; font-size:11pt; line-height:150%'>"
                     + "&#8203;".join(parts) + "</div>")
        sb = self.verticalScrollBar()
        sb.setValue(sb.maximum())

    def _on_anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("step:"):
            self.sig_step_clicked.emit(int(text.split(":", 1)[1]))
