"""The query X-rayed: a question, every chunk's score (dense, BM25, hybrid), the top-k and threshold cut,
the chunks retrieved with their scores, and the prompt exactly as the model reads it with the retrieved
text highlighted and its share of the context window."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDoubleSpinBox,
    QHeaderView,
    QLabel,
    QSlider,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from playground.qt.build.documents_view import CHUNK_COLOURS
from playground.qt.build.xray_chart import METHOD_NAMES, METHODS, XRayChart, best_rank, ordinal
from playground.qt.design import set_type
from playground.qt.widgets.make import button, hbox, note_label
from playground.qt.widgets.token_meter import TokenMeter, colour_of

MAX_K = 50  # the 'too many chunks' failure mode asks for 40


def score_text(value: float, method: str) -> str:
    """A retrieval score as shown: a cosine with two decimals, BM25 with two, a fused rank score with four."""
    if method == "dense":
        from playground.core.base.units import format_score

        return format_score(float(value), "cosine")
    return f"{value:.4f}" if method == "hybrid" else f"{value:.2f}"


def prompt_html(text: str, spans) -> str:
    """The prompt with each retrieved chunk's text on its own background (the chunk's rank colour)."""
    spans = sorted(spans)
    out, at = [], 0
    for n, (start, end, _chunk_id) in enumerate(spans):
        out.append(html.escape(text[at:start]))
        out.append(f"<span style='background:{CHUNK_COLOURS[n % 2]}; color:#111'>{html.escape(text[start:end])}</span>")
        at = end
    out.append(html.escape(text[at:]))
    return "<div style='white-space:pre-wrap; font-family:monospace'>" + "".join(out) + "</div>"


class XRayView(QWidget):
    sig_search = Signal()
    """the person asked to search (the question box, the Search button, Ctrl+Enter)"""
    sig_cut_changed = Signal()
    """k, the threshold or the method that feeds the prompt changed"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.question_box = QComboBox()
        self.question_box.setEditable(True)
        self.question_box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.question_box.setCompleter(None)  # a typed question stays as typed, not completed to a bundled one
        self.question_box.lineEdit().setPlaceholderText("Type a question, or pick one of the bundled questions…")
        self.question_box.setToolTip("The question. The bundled questions have a gold answer and a known passage.")
        self.question_box.lineEdit().returnPressed.connect(self.sig_search.emit)
        self.question_box.activated.connect(lambda _i: self.sig_search.emit())
        self.search_button = button("Search  (Ctrl+Enter)", "Score every chunk against the question.",
                                    self.sig_search.emit)
        self.method_combo = QComboBox()
        for m in METHODS:
            self.method_combo.addItem(METHOD_NAMES[m], m)
        self.method_combo.setCurrentIndex(METHODS.index("hybrid"))
        self.method_combo.setToolTip("Which ranking chooses the chunks put in the prompt: dense (meaning, from the "
                                     "encoder's vectors), BM25 (shared words) or hybrid (both rank lists fused).")
        self.method_combo.setMaximumWidth(110)
        self.k_slider = QSlider(Qt.Orientation.Horizontal)
        self.k_slider.setRange(1, MAX_K)
        self.k_slider.setValue(4)
        self.k_slider.setMaximumWidth(180)
        self.k_slider.setToolTip("Top-k: how many of the best chunks are put in the prompt.")
        self.k_label = QLabel("k = 4")
        self.threshold = QDoubleSpinBox()
        self.threshold.setDecimals(3)
        self.threshold.setRange(-1.0, 100.0)
        self.threshold.setSingleStep(0.05)
        self.threshold.setSpecialValueText("off")
        self.threshold.setValue(-1.0)
        self.threshold.setMaximumWidth(90)
        self.threshold.setToolTip("A chunk scoring below this (on the chosen method's scale) is left out even "
                                  "when it is in the top k. 'off' keeps the top k whatever their scores.")
        self.chart = XRayChart()
        self.reworded = None  # (text, bundled Question) of a preset's own wording of a bundled question
        self.where_label = note_label("", "Where the passage that holds the gold answer ranks in each list.")
        set_type(self.where_label, "caption")
        self.hits_table = QTableWidget(0, 4)
        self.hits_table.setHorizontalHeaderLabels(["rank", "score", "chunk", "text"])
        head = self.hits_table.horizontalHeader()
        for c in range(3):
            head.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.hits_table.verticalHeader().setVisible(False)
        self.hits_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.hits_table.setWordWrap(False)
        self.hits_table.setToolTip("The chunks retrieved, best first; hover a row for its whole text.")
        self.prompt_view = QTextBrowser()
        self.prompt_view.setPlaceholderText("The prompt exactly as the model reads it appears here after a search, "
                                            "the retrieved text highlighted.")
        self.context_bar = TokenMeter()
        self.context_bar.setToolTip("The context window: the question and instructions, the retrieved passages "
                                    "and the room kept for the answer must all fit. More chunks, less room.")
        self.context_label = note_label("", "The prompt's tokens (in the answering model's tokenizer) against its "
                                        "context window, and how many of them the retrieved text adds.")
        set_type(self.context_label, "caption")
        from playground.qt.widgets.make import flexible_height

        for view, lines in ((self.hits_table, 4), (self.prompt_view, 5)):
            flexible_height(view, lines)  # their share of the room, never below a few lines
        self._build_layout()
        self._cut_timer = QTimer(self)
        self._cut_timer.setSingleShot(True)
        self._cut_timer.setInterval(120)
        self._cut_timer.timeout.connect(self.sig_cut_changed.emit)
        self.k_slider.valueChanged.connect(self._k_moved)
        self.threshold.valueChanged.connect(lambda _v: self._cut_timer.start())
        self.method_combo.currentIndexChanged.connect(lambda _i: self._cut_timer.start())

    def _build_layout(self) -> None:
        # Two short rows rather than one long one: the tab must fit beside the Labs dock.
        controls = hbox(QLabel("Method"), self.method_combo, QLabel("Top-k"), self.k_slider, self.k_label, 1)
        cut = hbox(QLabel("Threshold"), self.threshold, 1)
        hits = QWidget()
        column = QVBoxLayout(hits)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(note_label("<b>Retrieved</b> <small>(what goes in the prompt)</small>"))
        column.addWidget(self.hits_table, 1)
        prompt = QWidget()
        column = QVBoxLayout(prompt)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(note_label("<b>The prompt as the model reads it</b> <small>(retrieved text highlighted)"
                                    "</small>"))
        column.addWidget(self.prompt_view, 1)
        column.addWidget(self.context_bar)
        column.addWidget(self.context_label)
        bottom = QSplitter()
        bottom.addWidget(hits)
        bottom.addWidget(prompt)
        bottom.setStretchFactor(0, 1)
        bottom.setStretchFactor(1, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        top = QWidget()
        column = QVBoxLayout(top)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.chart.canvas, 1)
        column.addWidget(self.where_label)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setSizes([280, 320])  # the chart and, below, the hits and the prompt: about half each
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(hbox((self.question_box, 1), self.search_button))
        layout.addLayout(controls)
        layout.addLayout(cut)
        layout.addWidget(split, 1)

    # values ---------------------------------------------------------------------------------------
    def question_text(self) -> str:
        return self.question_box.currentText().strip()

    def chosen_question(self):
        """The bundled Question whose gold answer applies: the one picked, or the one a preset words its own
        way; None when the text was typed or edited."""
        i = self.question_box.currentIndex()
        q = self.question_box.itemData(i) if i >= 0 else None
        if q is not None and q.question == self.question_text():
            return q
        if self.reworded is not None and self.reworded[0] == self.question_text():
            return self.reworded[1]
        typed = " ".join(self.question_text().lower().split())
        for j in range(self.question_box.count()):  # a bundled question typed out rather than picked
            q = self.question_box.itemData(j)
            if q is not None and " ".join(q.question.lower().split()) == typed:
                return q
        return None

    @property
    def k(self) -> int:
        return self.k_slider.value()

    @property
    def method(self) -> str:
        return self.method_combo.currentData()

    @property
    def threshold_value(self) -> float | None:
        return None if self.threshold.value() == self.threshold.minimum() else self.threshold.value()

    def set_questions(self, questions) -> None:
        self.question_box.clear()
        for q in questions:
            self.question_box.addItem(q.question, q)
        self.question_box.setCurrentIndex(-1)
        self.question_box.setEditText("")

    def pick_question(self, question, gold=None) -> None:
        """Choose a bundled Question (by object or id), or put a question's text in the box; ``gold``: the
        bundled Question whose answer a reworded question keeps (a failure-mode preset's)."""
        self.reworded = (str(question), gold) if gold is not None else None
        if gold is not None:
            self.question_box.setCurrentIndex(-1)
            self.question_box.setEditText(str(question))
            return
        for i in range(self.question_box.count()):
            q = self.question_box.itemData(i)
            if q is question or getattr(q, "id", None) == question:
                self.question_box.setCurrentIndex(i)
                return
        self.question_box.setCurrentIndex(-1)
        self.question_box.setEditText(str(question))

    def set_chunk_count(self, n: int) -> None:
        """The slider cannot go past the chunks there are."""
        self.k_slider.setMaximum(max(1, min(MAX_K, n)))

    def _k_moved(self, k: int) -> None:
        self.k_label.setText(f"k = {k}")
        self._cut_timer.start()

    # results ----------------------------------------------------------------------------------------
    def show_scores(self, scores: dict, chunks, gold_doc: str | None) -> None:
        self.chart.show(scores, chunks, gold_doc, self.k, self.threshold_value, self.method)
        if gold_doc is None:
            self.where_label.setText("A question of your own: no passage is known to hold its answer.")
            return
        ranks = {m: best_rank(scores[m], chunks, gold_doc) for m in METHODS if m in scores}
        parts = [f"{ordinal(r)} in {METHOD_NAMES[m]}" for m, r in ranks.items() if r is not None]
        self.where_label.setText(f"The passage holding the gold answer (<b>{html.escape(gold_doc)}</b>, green) "
                                 f"ranks {', '.join(parts)}.")

    def show_cut(self) -> None:
        self.chart.cut(self.k, self.threshold_value, self.method)

    def show_hits(self, hits) -> None:
        self.hits_table.setRowCount(len(hits))
        for r, hit in enumerate(hits):
            text = " ".join(hit.chunk.text.split())
            cells = [str(hit.rank), score_text(hit.score, hit.method), hit.chunk.id, text]
            for c, value in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setToolTip(hit.chunk.text)
                if c < 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.hits_table.setItem(r, c, item)

    def show_prompt(self, prompt) -> None:
        """The prompt with its passages highlighted, and its share of the context window (the passages' part)."""
        self.prompt_view.setHtml(prompt_html(prompt.text, prompt.context_spans))
        if prompt.context_spans:  # open on the first retrieved passage, not on the system prompt
            from PySide6.QtGui import QTextCursor

            cursor = self.prompt_view.textCursor()
            cursor.setPosition(min(min(s for s, _, _ in prompt.context_spans), len(prompt.text)))
            cursor.movePosition(QTextCursor.MoveOperation.StartOfBlock)
            self.prompt_view.setTextCursor(cursor)
            self.prompt_view.ensureCursorVisible()
        window = max(1, prompt.context_window)
        self.context_bar.set_parts({"question": prompt.n_tokens - prompt.context_tokens,
                                    "retrieved passages": prompt.context_tokens}, window)
        over = " It does not fit: the model cannot read it all." if prompt.n_tokens > window else ""
        key = f"<span style='color:{colour_of('retrieved passages').name()}'>■</span>"
        self.context_label.setText(f"{prompt.n_tokens:,} of {window:,} tokens of the context window "
                                   f"({100 * prompt.n_tokens / window:.1f} %); {key} the retrieved passages take "
                                   f"{prompt.context_tokens:,} of them ({100 * prompt.context_tokens / window:.1f} %)."
                                   + over)

    def show_no_prompt(self, reason: str) -> None:
        self.prompt_view.clear()
        self.prompt_view.setPlaceholderText(reason)
        self.context_bar.set_parts({}, 1)
        self.context_label.setText("")

    def clear(self) -> None:
        self.chart.clear()
        self.where_label.setText("")
        self.hits_table.setRowCount(0)
        self.show_no_prompt("The prompt exactly as the model reads it appears here after a search, the retrieved "
                            "text highlighted.")
