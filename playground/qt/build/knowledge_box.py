"""The left column's knowledge-base controls: the bundled base or the learner's files or folder, the
documents with their sizes, the chunk size and overlap (bound to ``ChunkSettings``), the index."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QLabel, QMenu, QPushButton, QVBoxLayout, QWidget

from playground.qt.binding import Draft
from playground.qt.build.documents_view import DocumentTable
from playground.qt.design import set_type
from playground.qt.widgets.make import button, hbox, note_label
from playground.qt.widgets.progress_strip import ProgressStrip


class KnowledgeBox(QWidget):
    def __init__(self, draft: Draft, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bundled_button = button("Bundled", "The knowledge base written for the app: short documents about a "
                                     "place the model has never read about, with questions and gold answers.")
        self.files_button = button("Files…", "Your own .txt, .md or .pdf files.")
        self.folder_button = button("Folder…", "Every .txt, .md and .pdf file in a folder and its subfolders.")
        self.base_label = note_label("")
        set_type(self.base_label, "caption")
        self.table = DocumentTable()
        from playground.qt.widgets.compact_form import cap_width, compact_rows

        form, fields = compact_rows(draft, "size", "overlap", columns=1)  # label and field, as wide as the value
        self.size_spin, self.overlap_spin = cap_width(fields["size"], 110), cap_width(fields["overlap"], 110)
        self.count_label = QLabel("")
        self.count_label.setToolTip("How many chunks the documents make at this setting.")
        self.index_button = button("Build index", "Embed every chunk with the bundled encoder and save the vectors, "
                                   "so reopening embeds nothing (only a changed file is embedded again).")
        self.approximate_check = QCheckBox("Approximate (HNSW)")
        self.approximate_check.setToolTip("Search a graph of neighbours (faiss HNSW) instead of comparing the "
                                          "question with every vector: faster on big bases, and it may miss a few. "
                                          "Its recall@10 against exact search is measured and shown.")
        self.index_label = note_label("")
        set_type(self.index_label, "caption")
        self.strip = ProgressStrip("Stop; the saved index stays as it was (Esc).")  # the page lays it out
        self.presets_button = QPushButton("Failure modes ▾")
        self.presets_button.setToolTip("Set up a way retrieval goes wrong, with one click, and see it happen.")
        self.presets_menu = QMenu(self.presets_button)
        self.presets_button.setMenu(self.presets_menu)
        self.preset_label = note_label("")
        self.message = note_label("")
        self.message.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("<b>Knowledge base</b>"))
        layout.addLayout(hbox(self.bundled_button, self.files_button, self.folder_button, 1))
        layout.addWidget(self.base_label)
        layout.addWidget(self.table, 1)
        chunking = QLabel("<b>Chunking</b>")
        chunking.setToolTip("Chunk size and overlap are counted in tokens of the encoder (all-MiniLM-L6-v2).")
        layout.addLayout(hbox(chunking, 1, QLabel("Chunks:"), self.count_label))
        layout.addWidget(form)
        layout.addLayout(hbox(self.index_button, self.approximate_check, 1))
        layout.addWidget(self.index_label)
        layout.addLayout(hbox(self.presets_button, 1))
        layout.addWidget(self.preset_label)
        layout.addWidget(self.message)

    def set_presets(self, presets, on_pick) -> None:
        self.presets_menu.clear()
        for preset in presets:
            action = self.presets_menu.addAction(preset.name)
            action.setToolTip(preset.sentence)
            action.triggered.connect(lambda _checked=False, p=preset: on_pick(p))
