"""The tokenizer view: the text as coloured token pieces, ids on hover, and how words split."""

from __future__ import annotations

import html

from PySide6.QtCore import QUrl
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QTextBrowser,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from playground.core.prompting.tokens import TokenPiece, visible, word_splits
from playground.qt.inside.common import write_csv
from playground.qt.widgets.make import check

# Soft colours that tell neighbouring tokens apart and keep black text readable.
PALETTE = ["#ffe0b2", "#c8e6c9", "#bbdefb", "#f8bbd0", "#fff59d", "#d1c4e9", "#b2ebf2", "#ffccbc"]
SPECIAL_STYLE = "background:#455a64; color:#ffffff;"
MAX_SPLIT_LINES = 12


class TokenView(QWidget):
    """Shows the tokens of the current text. ``show_tokens`` is cheap: it runs on the GUI thread."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pieces: list[TokenPiece] = []
        self.text = ""
        self.count_label = QLabel("Type a text above to see its tokens.")
        self.count_label.setToolTip("Models never see letters: they see token ids. The count is what fills "
                                    "the context window.")
        self.ids_check = check("Show ids", "Each token is a number (its id) in the tokenizer's vocabulary. The "
                               "model looks the id up in its embedding table.", self._render)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setToolTip("")
        self.browser.highlighted.connect(self._on_hover)
        self.browser.setMinimumHeight(160)
        self.splits_label = QLabel("")
        self.splits_label.setWordWrap(True)
        self.splits_label.setToolTip("Common words are one token; rare or long words are cut into sub-word "
                                     "pieces the tokenizer learned from its training text.")
        top = QHBoxLayout()
        top.addWidget(self.count_label, 1)
        top.addWidget(self.ids_check)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        layout.addWidget(QLabel("<b>Words cut into sub-word pieces</b>"))
        layout.addWidget(self.splits_label)

    def show_tokens(self, pieces: list[TokenPiece], text: str) -> None:
        self.pieces, self.text = pieces, text
        self._render()

    @property
    def has_data(self) -> bool:
        return bool(self.pieces)

    def clear(self, message: str = "") -> None:
        self.pieces, self.text = [], ""
        self.browser.clear()
        self.count_label.setText(message or "Type a text above to see its tokens.")
        self.splits_label.setText("")

    def _render(self) -> None:
        pieces = self.pieces
        if not pieces:
            return
        show_ids = self.ids_check.isChecked()
        parts = []
        for p in pieces:
            shown = p.text if p.text else p.label
            body = html.escape(visible(shown))
            style = SPECIAL_STYLE if p.special else f"background:{PALETTE[p.index % len(PALETTE)]}; color:#000000;"
            sub_colour = "#cfd8dc" if p.special else "#555555"
            sub = f"<sub style='color:{sub_colour}'>{p.id}</sub>" if show_ids else ""
            # A newline token ends its line after its id, as the text does.
            breaks = "<br>" * shown.count("\n")
            parts.append(f"<a href='tok:{p.index}' style='{style} text-decoration:none'>{body}{sub}</a>{breaks}")
        self.browser.setHtml("<div style='font-family:monospace; font-size:12pt; line-height:160%'>"
                             + "&#8203;".join(parts) + "</div>")
        splits = [s for s in word_splits(pieces, self.text) if len(s.pieces) > 1]
        words = len(self.text.split())
        specials = sum(p.special for p in pieces)
        self.count_label.setText(
            f"<b>{len(pieces):,} tokens</b> for {len(self.text):,} characters and {words:,} words"
            + (f" · {specials} special" if specials else "")
            + f" · {len(self.text) / max(1, len(pieces)):.1f} characters per token")
        lines = [f"{html.escape(s.word.strip())} → " + " · ".join(f"<code>{html.escape(x)}</code>" for x in s.pieces)
                 for s in splits[:MAX_SPLIT_LINES]]
        if len(splits) > MAX_SPLIT_LINES:
            lines.append(f"… and {len(splits) - MAX_SPLIT_LINES} more")
        self.splits_label.setText("<br>".join(lines) if lines else "Every word here is a single token.")

    def describe(self, index: int) -> str:
        p = self.pieces[index]
        kind = "special token" if p.special else "token"
        if p.special and p.end <= p.start:
            where = "added by the tokenizer"
        elif not p.text:
            where = "more bytes of a character split over several tokens"
        else:
            where = f"characters {p.start}–{p.end}"
        return f"{kind} #{p.index}: id {p.id}, piece '{p.piece}', {where}"

    def _on_hover(self, url: QUrl) -> None:
        target = url.toString()
        if target.startswith("tok:"):
            QToolTip.showText(QCursor.pos(), self.describe(int(target[4:])), self.browser)
        else:
            QToolTip.hideText()

    # export ----------------------------------------------------------------------------------
    def export_png(self, path: str) -> None:
        if not self.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def export_csv(self, path: str) -> None:
        rows = [["index", "id", "piece", "text", "start", "end", "special", "word"]]
        for p in self.pieces:
            rows.append([p.index, p.id, p.piece, p.text, p.start, p.end, int(p.special),
                         "" if p.word is None else p.word])
        write_csv(path, rows)
