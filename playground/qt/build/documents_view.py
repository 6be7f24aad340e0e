"""The knowledge base's documents (title and size) and one document with its chunk boundaries marked.

Chunks alternate two background colours; where two chunks overlap, the text has a third colour (it is
in both), and a small number marks where each chunk starts, so a fact cut in two is plain to see.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.units import format_bytes
from playground.qt.design import set_type

#: chunk backgrounds, alternating, and the overlap's (text in two chunks); dark text reads on each
CHUNK_COLOURS = ("#dbe8fb", "#fde3cf")
OVERLAP_COLOUR = "#d9c8ef"
MARK_COLOUR = "#2f6fd1"


def chunk_spans(chunks, doc_id) -> list[tuple[int, int, int]]:
    """(start_char, end_char, chunk index) of ``doc_id``'s chunks, in order."""
    return sorted((c.start_char, c.end_char, c.index) for c in chunks if c.doc_id == doc_id)


def chunk_html(text: str, spans: list[tuple[int, int, int]]) -> str:
    """``text`` as HTML with each chunk's background (alternating), overlaps in their own colour and a
    number where each chunk starts. ``spans`` are (start, end, chunk index) character offsets."""
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    starts = {}
    for s, _, i in spans:
        starts.setdefault(s, []).append(i)
    out = []
    for a, b in zip(cuts, cuts[1:]):
        for i in starts.get(a, []):
            out.append(f"<sup style='color:{MARK_COLOUR}; font-weight:bold'>[{i + 1}]</sup>")
        inside = [i for s, e, i in spans if s <= a and b <= e]
        piece = html.escape(text[a:b])
        if len(inside) >= 2:
            out.append(f"<span style='background:{OVERLAP_COLOUR}; color:#111'>{piece}</span>")
        elif inside:
            out.append(f"<span style='background:{CHUNK_COLOURS[inside[0] % 2]}; color:#111'>{piece}</span>")
        else:
            out.append(piece)
    return "<div style='white-space:pre-wrap'>" + "".join(out) + "</div>"


def legend_html() -> str:
    swatch = "<span style='background:{}; color:#111'>&nbsp;{}&nbsp;</span>"
    return ("<small>" + swatch.format(CHUNK_COLOURS[0], "chunk 1") + " " + swatch.format(CHUNK_COLOURS[1], "chunk 2")
            + " " + swatch.format(OVERLAP_COLOUR, "overlap: in both") + f" <b style='color:{MARK_COLOUR}'>[n]</b>"
            " where chunk n starts</small>")


class DocumentTable(QTableWidget):
    """The documents of the knowledge base: title, size (binary units), chunks."""

    sig_document_chosen = Signal(object)
    """the Document whose row was selected"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 3, parent)
        self.setHorizontalHeaderLabels(["document", "size", "chunks"])
        head = self.horizontalHeader()
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        head.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.verticalHeader().setVisible(False)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setToolTip("The documents the model may be given. Pick one to see its chunks.")
        self.documents: list = []
        self.itemSelectionChanged.connect(self._chosen)

    def show_documents(self, documents, chunks=()) -> None:
        counts: dict = {}
        for c in chunks:
            counts[c.doc_id] = counts.get(c.doc_id, 0) + 1
        self.documents = list(documents)
        self.blockSignals(True)
        self.setRowCount(len(self.documents))
        for r, doc in enumerate(self.documents):
            title = QTableWidgetItem(doc.title)
            title.setToolTip(str(doc.source_path))
            size = QTableWidgetItem(format_bytes(doc.size_bytes))
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            n = QTableWidgetItem(f"{counts.get(doc.id, 0):,}" if chunks else "")
            n.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            for c, item in enumerate((title, size, n)):
                self.setItem(r, c, item)
        self.blockSignals(False)

    def current_document(self):
        rows = self.selectionModel().selectedRows()
        return self.documents[rows[0].row()] if rows and rows[0].row() < len(self.documents) else None

    def select_document(self, doc_id) -> None:
        for r, doc in enumerate(self.documents):
            if doc.id == doc_id:
                self.selectRow(r)
                return

    def _chosen(self) -> None:
        doc = self.current_document()
        if doc is not None:
            self.sig_document_chosen.emit(doc)


class ChunkView(QWidget):
    """One document's text with its chunk boundaries marked, and how many chunks it makes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("")
        set_type(self.heading, "caption")
        self.heading.setWordWrap(True)
        self.legend = QLabel(legend_html())
        self.legend.setWordWrap(True)
        self.text = QTextBrowser()
        self.text.setPlaceholderText("Pick a document on the left: its text appears here with each chunk's "
                                     "boundaries marked.")
        self.text.setToolTip("Each chunk is what the index stores and the search returns. Colours alternate per "
                             "chunk; the overlap colour is text in two chunks.")
        from playground.qt.widgets.make import flexible_height

        flexible_height(self.text, 6)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.legend)
        self.document = None
        self.spans: list[tuple[int, int, int]] = []

    def show_document(self, document, chunks, settings) -> None:
        self.document = document
        self.spans = chunk_spans(chunks, document.id)
        self.heading.setText(f"<b>{html.escape(document.title)}</b> · {format_bytes(document.size_bytes)} · "
                             f"{len(self.spans):,} chunk{'s' if len(self.spans) != 1 else ''} of at most "
                             f"{settings.size} tokens, {settings.overlap} shared with the next")
        self.text.setHtml(chunk_html(document.text, self.spans))

    def clear(self, reason: str = "") -> None:
        self.document, self.spans = None, []
        self.heading.setText(reason)
        self.text.clear()
