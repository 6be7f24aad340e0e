"""The header every result carries: which model (and adapter, or "base"), precision, prompt,
settings and when, in one quiet line above the result (``core/base/provenance.py``)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from playground.core.base.provenance import Provenance, provenance_of
from playground.qt.design import set_type


class ResultHeader(QLabel):
    """'SmolLM2-135M-Instruct (base, no adapter) · float32 · chat form · greedy, 64 new tokens · 04:21'.

    ``show_for(loaded, …)`` fills it from the model that made the result; ``clear_result(reason)``
    says why there is no result (or that the shown one is stale); a title ("Before", "After") comes
    first in bold when given.
    """

    def __init__(self, title: str = "", empty: str = "") -> None:
        super().__init__()
        self.setObjectName("resultHeader")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        set_type(self, "caption")
        self.title = title
        self.provenance: Provenance | None = None
        self._empty = empty
        self.clear_result(empty)

    def _compose(self, body: str) -> str:
        from html import escape

        head = f"<b>{escape(self.title)}</b>" + (" · " if body else "") if self.title else ""
        return head + escape(body)

    def show_provenance(self, provenance: Provenance) -> None:
        self.provenance = provenance
        self.setText(self._compose(provenance.line()))
        self.setToolTip("This result was made with: " + provenance.line())

    def show_for(self, loaded, *, prompt: str = "", settings: str = "", extra: str = "") -> Provenance:
        provenance = provenance_of(loaded, prompt=prompt, settings=settings, extra=extra)
        self.show_provenance(provenance)
        return provenance

    def clear_result(self, reason: str = "") -> None:
        self.provenance = None
        self.setText(self._compose(reason or self._empty))
        self.setToolTip("")

    def mark_stale(self, why: str = "the model changed since") -> None:
        """Keep the result's line but say it is out of date."""
        if self.provenance is not None:
            self.setText(self._compose(f"{self.provenance.line()} — out of date: {why}"))

    def plain_text(self) -> str:
        from PySide6.QtGui import QTextDocument

        doc = QTextDocument()
        doc.setHtml(self.text())
        return doc.toPlainText()
