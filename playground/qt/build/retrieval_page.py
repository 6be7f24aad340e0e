"""The Retrieval section: a knowledge base, its chunks, its index and the query X-rayed, then the answer
with and without retrieval, where it came from, failure modes to provoke and retrieval quality.

The page holds the state (the base, its chunks, the index, the last search); each long piece of work has
its own slot: opening and indexing, re-chunking, searching, answering, leave-one-out, measuring.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFileDialog, QSplitter, QTabWidget, QVBoxLayout, QWidget

from playground.qt.binding import Draft
from playground.qt.build.answers_view import AnswersView
from playground.qt.build.attribution_view import AttributionView
from playground.qt.build.documents_view import ChunkView
from playground.qt.build.knowledge_box import KnowledgeBox
from playground.qt.build.page_work import AnswerWork
from playground.qt.build.quality_view import QualityView
from playground.qt.build.xray_view import XRayView
from playground.qt.shortcuts import run_shortcut
from playground.qt.task_slot import TaskSlot


def index_folder(base_name: str, settings) -> object:
    """Where a base's index is kept: one folder per base and chunk setting, so going back to a setting reopens
    its saved vectors instead of embedding again."""
    from playground.core.base.paths import user_dirs

    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", base_name).strip("-")[:40] or "base"
    return user_dirs().cache / "rag" / slug / f"size{settings.size}-overlap{settings.overlap}"


@dataclass
class Search:
    """The last search: the question, the bundled Question (gold answer) if any, scores, hits and prompts."""

    question: str
    gold: object = None
    scores: dict = field(default_factory=dict)
    hits: list = field(default_factory=list)
    method: str = "hybrid"
    k: int = 4
    threshold: float | None = None
    prompt: object = None
    bare: object = None
    note: str = ""
    index: object = None  # the index searched: a result for an index no longer open is dropped


class RetrievalPage(AnswerWork, QWidget):
    sig_indexed = Signal(dict)
    """an index was opened or built: {"base", "documents", "chunks", "size", "overlap", "embedded", "approximate"}"""
    sig_asked = Signal(dict)
    """a search finished: {"question", "question_id", "method", "k", "hits": [chunk ids], "gold_rank"}"""
    sig_compared = Signal(dict)
    """both answers finished: {"question_id", "k", "method", "without": scores or None, "with": scores or None}"""
    sig_attributed = Signal(dict)
    """leave-one-out finished: {"question_id", "chunks": n, "top_chunk", "top_drop"}"""
    sig_preset = Signal(dict)
    """a failure-mode preset was applied: {"name"}"""
    sig_evaluated = Signal(dict)
    """retrieval quality was measured: {"recall": {method: {k: value}}, "mrr": {method: value}, "answers": ...}"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.retrieval import ChunkSettings

        self.context = context
        self.kb = None
        self.documents: list = []
        self.chunks: list = []
        self.chunk_settings = None  # the settings self.chunks were cut with
        self.index = None
        self.encoder = None
        self.search: Search | None = None
        self.opened = False
        self._ask_after_index = False  # a preset changed the chunking: search once the index is ready
        self.pending_k = None  # the preset's k, for when the index it asked for is ready
        self.draft = Draft(ChunkSettings(), self)
        self.index_slot = TaskSlot(context.runner, parent=self)
        self.chunk_slot = TaskSlot(context.runner, parent=self)
        self.query_slot = TaskSlot(context.runner, parent=self)
        self.box = KnowledgeBox(self.draft)
        self.box.strip.attach(self.index_slot)
        for slot in (self.index_slot, self.chunk_slot, self.query_slot):
            slot.say = self.box.message.setText
        self.chunk_view = ChunkView()
        self.xray = XRayView()
        self.answers = AnswersView()
        self.attribution = AttributionView()
        self.quality = QualityView()
        self.views = QTabWidget()
        self.views.setDocumentMode(True)
        for widget, name in ((self.chunk_view, "Chunks"), (self.xray, "Query X-ray"),
                             (self.answers, "With and without"), (self.attribution, "Where it came from"),
                             (self.quality, "Retrieval quality")):
            self.views.addTab(widget, name)
        split = QSplitter()
        split.addWidget(self.box)
        split.addWidget(self.views)
        split.setStretchFactor(0, 0)
        split.setStretchFactor(1, 1)
        split.setCollapsible(0, False)
        split.setCollapsible(1, False)
        split.setSizes([330, 870])
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(split, 1)
        # Full width, under both columns: phase, bar, step x of y, time left and Stop need the room.
        column.addWidget(self.box.strip)
        self._rechunk_timer = QTimer(self)
        self._rechunk_timer.setSingleShot(True)
        self._rechunk_timer.setInterval(250)
        self._rechunk_timer.timeout.connect(self.rechunk)
        self.draft.sig_changed.connect(lambda _path: self._rechunk_timer.start())
        self.box.bundled_button.clicked.connect(self.open_bundled)
        self.box.files_button.clicked.connect(self.ask_files)
        self.box.folder_button.clicked.connect(self.ask_folder)
        self.box.index_button.clicked.connect(self.build_index)
        self.box.approximate_check.toggled.connect(self.set_approximate)
        self.box.table.sig_document_chosen.connect(self.show_document)
        self.xray.sig_search.connect(self.ask)
        self.xray.sig_cut_changed.connect(self.recut)
        run_shortcut(self.xray, self.ask, editor=self.xray.question_box, stop=self.stop)
        self._init_work()
        self.xray.clear()
        self.chunk_view.clear("The documents load when this section is first opened.")

    # --- busy / stop -------------------------------------------------------------------------------
    def slots(self) -> list[TaskSlot]:
        return [self.index_slot, self.chunk_slot, self.query_slot, *self.work_slots()]

    @property
    def busy(self) -> bool:
        return any(s.busy for s in self.slots())

    def stop(self) -> None:
        for slot in self.slots():
            slot.stop()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if not self.opened:  # the bundled base loads at the first look, not at app start
            self.opened = True
            self.open_bundled()

    # --- opening a base ------------------------------------------------------------------------------
    def open_bundled(self) -> None:
        from playground.core.retrieval import load_bundled

        self._open(lambda h: load_bundled(), "Opening the bundled knowledge base")

    def ask_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Documents to search", "",
                                                "Documents (*.txt *.md *.pdf);;All files (*)")
        if paths:
            self.open_paths(paths)

    def ask_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A folder of documents")
        if folder:
            self.open_paths([folder])

    def open_paths(self, paths: list[str]) -> None:
        """The learner's files (or a folder): read, chunked and indexed; a bad file is said and nothing is lost."""
        from pathlib import Path

        from playground.core.retrieval import KnowledgeBase, load_files

        paths = [str(p) for p in paths]
        name = Path(paths[0]).name if len(paths) == 1 else f"{len(paths)} files"
        digest = hashlib.sha1("\n".join(sorted(paths)).encode()).hexdigest()[:8]
        self._open(lambda h: KnowledgeBase(f"{name}-{digest}", load_files(paths, h), []), f"Reading {name}")

    def _valid_settings(self):
        """The form's chunk settings, or None after saying in plain words why they cannot be used."""
        settings = self.draft.value
        try:
            settings.validate()
            return settings
        except Exception as exc:
            return self._say(exc)  # None

    def _open(self, read, what: str) -> None:
        settings = self._valid_settings()
        if settings is None:
            return

        def work(h):
            from playground.core.retrieval import Encoder
            from playground.core.retrieval import RagIndex

            kb = read(h)
            encoder = self.encoder or Encoder()
            index = RagIndex.open_or_build(index_folder(kb.name, settings), kb.documents, settings, encoder, handle=h)
            return kb, index

        self.box.message.setText("")
        self.box.index_label.setText(what + "…")
        self.index_slot.start("open knowledge base", work, on_done=self._opened,
                              on_progress=self.box.strip.on_progress, on_finished=self._index_finished)

    def _opened(self, result) -> None:
        kb, index = result
        new_base = kb is not self.kb  # indexing the same base again keeps the question in the box
        self.kb = kb
        self.documents = list(kb.documents)
        if new_base:
            self.xray._cut_timer.stop()
            self.search = self.answered = None
            self.xray.set_questions(kb.questions)
            self.xray.clear()
            self.answers.clear()
            self.attribution.clear("Answer with retrieval first, then leave each chunk out.")
            self.quality.clear()
        self._use_index(index)
        if new_base:
            self.box.table.select_document(self.documents[0].id)

    def _index_finished(self, task) -> None:
        if task.outcome == "cancelled":
            self.box.index_label.setText("Stopped: the index was not changed." if self.index is not None else
                                         "Stopped before the index was built: Build index to try again.")

    def _use_index(self, index) -> None:
        from playground.core.base.units import format_bytes

        self.index = index
        self.encoder = index.encoder
        self.chunks = list(index.chunks)
        self.chunk_settings = index.settings
        if self.box.approximate_check.isChecked():  # a new index: its HNSW graph and recall measured again
            QTimer.singleShot(0, lambda: self.set_approximate(True))
        total = sum(d.size_bytes for d in self.documents)
        questions = len(self.kb.questions) if self.kb is not None else 0
        self.box.base_label.setText(f"{self.kb.name}: {len(self.documents):,} documents, {format_bytes(total)}"
                                    + (f" · {questions} questions with gold answers" if questions else ""))
        self.box.table.show_documents(self.documents, self.chunks)
        self.box.count_label.setText(f"{len(self.chunks):,}")
        self.xray.set_chunk_count(len(self.chunks))
        if self.pending_k:
            self.xray.k_slider.setValue(self.pending_k)
            self.pending_k = None
        how = (f"embedded {index.embedded_chunks:,} chunk(s)" if index.embedded_chunks else "nothing embedded: "
               "the saved vectors were reused")
        self._index_text = (f"{len(self.chunks):,} chunks, {index.settings.describe()}; {how} "
                            f"({index.open_seconds:.1f} s). " + " ".join(index.notes))
        self.box.index_label.setText(self._index_text)
        self.show_document(self.box.table.current_document())
        self.sig_indexed.emit({"base": self.kb.name, "documents": len(self.documents), "chunks": len(self.chunks),
                               "size": index.settings.size, "overlap": index.settings.overlap,
                               "embedded": index.embedded_chunks, "approximate": index.approximate})
        if self.search is not None or self._ask_after_index:
            self._ask_after_index = False
            self.ask()

    def build_index(self) -> None:
        """Open (or build) the index for the documents at the chunk setting in the form."""
        if not self.documents:
            self.box.message.setText("Open a knowledge base first.")
            return
        kb = self.kb
        self._open(lambda h: kb, "Indexing")

    def set_approximate(self, on: bool) -> None:
        if self.index is None:
            return
        index = self.index

        def work(h):
            from playground.core.base.progress import report_step

            report_step(h, "Building the HNSW graph" if on else "Exact search", 0, 1)
            index.approximate = on
            return index.recall_against_exact(10) if on else None

        def done(recall) -> None:
            text = self._index_text + (f" Approximate search (HNSW): recall@10 against exact search "
                                       f"{recall:.2f}." if recall is not None else " Exact search: every vector "
                                                                                   "compared.")
            self.box.index_label.setText(text)
            if self.search is not None:
                self.recut()

        self.index_slot.start("approximate index", work, on_done=done, on_progress=self.box.strip.on_progress)

    # --- chunks ----------------------------------------------------------------------------------------
    def rechunk(self) -> None:
        """Cut the documents again with the form's setting (fast, shown at once); the index says it is out of date."""
        settings = self._valid_settings()
        if settings is None:
            return
        if not self.documents or self.encoder is None:
            return
        from playground.core.retrieval import chunk_documents

        docs, tokenizer = self.documents, self.encoder.tokenizer
        self.box.message.setText("")
        self.chunk_slot.start("chunk", lambda h: (settings, chunk_documents(docs, tokenizer, settings, h)),
                              on_done=self._rechunked)

    def _rechunked(self, result) -> None:
        settings, chunks = result
        self.chunks, self.chunk_settings = chunks, settings
        self.box.table.show_documents(self.documents, chunks)
        self.box.count_label.setText(f"{len(chunks):,}")
        self.show_document(self.box.table.current_document())
        if self.index is not None and self.index.settings != settings:
            self.box.index_label.setText(f"The index holds {self.index.settings.describe()}; the documents are now "
                                         f"cut into {settings.describe()}. Build index to search these.")
        elif self.index is not None:
            self.box.index_label.setText(self._index_text)

    def show_document(self, document) -> None:
        if document is not None and self.chunk_settings is not None:
            self.chunk_view.show_document(document, self.chunks, self.chunk_settings)

    # --- the query ---------------------------------------------------------------------------------------
    def ask(self) -> None:
        """Search every chunk for the question in the box: the chart, the hits and the prompt."""
        if self.index is None:
            self.box.message.setText("The index is not ready yet: wait for it, or Build index.")
            return
        question, gold = self.xray.question_text(), self.xray.chosen_question()
        self._search(question, gold, with_scores=True)

    def recut(self) -> None:
        """k, the threshold or the method changed: the same question's hits and prompt again."""
        if self.search is not None and self.index is not None:
            self.xray.show_cut()
            self._search(self.search.question, self.search.gold, with_scores=False)

    def _search(self, question: str, gold, with_scores: bool) -> None:
        index, loaded = self.index, self.context.session.current
        method, k, threshold = self.xray.method, self.xray.k, self.xray.threshold_value
        old = self.search
        with_scores = with_scores or old is None or old.index is not index  # another index: every score anew

        def work(h):
            from playground.core.retrieval import build_prompt

            scores = index.all_scores(question) if with_scores else old.scores
            hits = index.search(question, method, k, threshold)
            found = Search(question, gold, scores, hits, method, k, threshold, note=index.k_note(k), index=index)
            if loaded is not None:
                found.prompt = build_prompt(question, hits, loaded)
                found.bare = build_prompt(question, [], loaded)
            return found

        self.box.message.setText("")
        self.query_slot.start("search", work, on_done=lambda s: self._searched(s, with_scores))

    def _searched(self, search: Search, new_question: bool) -> None:
        from playground.qt.build.xray_chart import best_rank

        if search.index is not self.index:
            return  # searched an index since replaced (another base, other chunks): a new search follows
        self.search = search
        gold_doc = search.gold.passage_id if search.gold is not None else None
        if new_question:
            self.xray.show_scores(search.scores, self.index.chunks, gold_doc)
            self.answers.show_question(search.question, search.gold.answer if search.gold is not None else None)
        self.xray.show_hits(search.hits)
        if search.prompt is not None:
            self.xray.show_prompt(search.prompt)
        else:
            self.xray.show_no_prompt("Load a model (the bar at the top) to see the prompt as it reads it.")
        self.box.message.setText(search.note)
        self.sig_asked.emit({"question": search.question, "question_id": getattr(search.gold, "id", None),
                             "method": search.method, "k": search.k, "hits": [h.chunk.id for h in search.hits],
                             "gold_rank": best_rank(search.scores[search.method], self.index.chunks, gold_doc)
                             if gold_doc else None})

    def _say(self, exc: Exception) -> None:
        from playground.core.base.errors import describe_exception

        message, hint = describe_exception(exc)
        self.box.message.setText(f"{message} {hint}".strip())

    # --- the views the tab's protocol reads -----------------------------------------------------------
    def reveal(self, control: str):
        views = {"search_button": (self.xray, self.xray.search_button),
                 "question_box": (self.xray, self.xray.question_box),
                 "answer_button": (self.answers, self.answers.answer_button),
                 "attribute_button": (self.attribution, self.attribution.run_button),
                 "evaluate_button": (self.quality, self.quality.run_button),
                 "index_button": (None, self.box.index_button),
                 "presets_button": (None, self.box.presets_button),
                 "chunk_size": (self.chunk_view, self.box.size_spin)}
        if control not in views:
            return None
        view, widget = views[control]
        if view is not None:
            self.views.setCurrentWidget(view)
        return widget
