"""The strip of chosen tokens, each coloured by the probability the model gave it; click one to see
the distribution it was picked from."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QUrl, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QTextBrowser

from playground.core.prompting.tokens import visible as visible_text
from playground.qt.widgets.token_chips import chip_html

class TokenStrip(QTextBrowser):
    """Prompt tail in grey, then one clickable chip per chosen token, then 'next ▸'."""

    sig_step_clicked = Signal(int)
    """the step index the user clicked (its distribution is shown)"""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.anchorClicked.connect(self._on_anchor)
        # A monospace font set on the widget (not in the HTML): token widths line up, and the
        # presenter zoom scales it like every other font.
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(font.pointSizeF(), self.font().pointSizeF()) * 1.1)
        self.setFont(font)
        self._fit_to_font()
        self.setPlaceholderText("Chosen tokens appear here. Press “Sample next” or click a bar.")
        self.setToolTip("The tokens chosen so far, each coloured by the probability the model gave it. "
                        "Click one to see the distribution it was picked from.")

    def _fit_to_font(self) -> None:
        # Two lines of tokens at 150% line height and the frame: a fixed height, so the chart
        # above keeps its size (and its quick blits) as tokens arrive.
        self.setFixedHeight(int(self.fontMetrics().height() * 4.2) + 8)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presenter zoom
            self._fit_to_font()

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
                parts.append(chip_html(visible_text(step.text), step.prob, step.index, href=f"step:{step.index}",
                                       tip=tip, style=forced + weight))
            elif step.index == last:
                weight = "font-weight:bold;" if selected in (None, last) else ""
                parts.append(f"<a href='step:{step.index}' style='color:#3b6ea8; text-decoration:none;{weight}'>"
                             "&nbsp;next&nbsp;▸</a>")
        self.setHtml("<div style='line-height:150%'>"
                     + "".join(parts) + "</div>")
        sb = self.verticalScrollBar()
        sb.setValue(sb.maximum())

    def _on_anchor(self, url: QUrl) -> None:
        text = url.toString()
        if text.startswith("step:"):
            self.sig_step_clicked.emit(int(text.split(":", 1)[1]))
