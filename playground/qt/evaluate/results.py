"""The results of an evaluation: aggregate table, grouped bar chart, per-example table, and the
matched n-grams / LCS highlighted for the selected example."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.units import format_score
from playground.core.models.encoder import SIMILARITY_NOTE
from playground.core.evaluation.metrics import METRIC_KEYS, METRIC_LABELS, ROUGE_KEYS, SIMILARITY_KEY, score_text
from playground.core.evaluation.rouge_explain import explain_pair, highlight_html
from playground.qt.evaluate.chart import COLOURS, ScoreChart  # noqa: F401 (re-exported)

METRIC_TIPS = {
    "rouge1": "ROUGE-1: words (unigrams) shared by output and reference; F1 of precision and recall.",
    "rouge2": "ROUGE-2: pairs of neighbouring words (bigrams) shared by output and reference.",
    "rougeL": "ROUGE-L: the longest sequence of words found in both, in the same order (gaps allowed).",
    "rougeLsum": "ROUGE-Lsum: ROUGE-L over sentences (split at new lines), as summarization papers report.",
    "bleu": "BLEU (sacrebleu, corpus level): precision of 1- to 4-word n-grams, with a penalty for short "
            "outputs. From machine translation.",
}
HIGHLIGHTS = [("unigrams", "Words", "#ffe08a"), ("bigrams", "Pairs", "#ffc27a"),
              ("lcs", "Longest run", "#a8e6a1")]
HIGHLIGHT_TIPS = {"unigrams": "Unigrams: the single words output and reference share (ROUGE-1).",
                  "bigrams": "Bigrams: the pairs of neighbouring words they share (ROUGE-2).",
                  "lcs": "The longest common subsequence: words found in both in the same order, gaps allowed "
                         "(ROUGE-L)."}
#: Short column heads, so the scores table fits beside its chart; the full names are in their tooltips.
SHORT_LABELS = {"rouge1": "R-1", "rouge2": "R-2", "rougeL": "R-L", "rougeLsum": "R-Lsum", "bleu": "BLEU"}


SIM_HEAD = "Emb. sim."
SIM_COL = len(METRIC_KEYS) + 1  # the aggregate table's last column


class ResultsView(QWidget):
    """Everything the Evaluate tab shows after (and while) it runs."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.labels: list[str] = []
        self.models: dict[str, str] = {}
        self.results: list = []
        self.tokenizer = "default"
        self.use_stemmer = True

        from playground.qt.widgets.result_header import ResultHeader

        # What made the scores (model, adapter or base, precision, prompt, settings, data, time).
        self.header = ResultHeader(empty="No evaluation yet: tick the systems to compare and press Evaluate.")
        self.provenance: dict = {}
        self._build_scores()
        self._build_examples()
        kinds = self._build_matches()
        self._lay_out(kinds)
        self._fit_aggregate()

        # Live updates while examples stream in are coalesced (several per second at most).
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(300)
        self._live_timer.timeout.connect(self._update_live)

    def _build_scores(self) -> None:
        """The scores table, the chart beside it, and the notes under the table."""
        self.aggregate = QTableWidget(0, len(METRIC_KEYS) + 2)
        self.aggregate.setHorizontalHeaderLabels(["n"] + [SHORT_LABELS[k] for k in METRIC_KEYS] + [SIM_HEAD])
        for col, key in enumerate(METRIC_KEYS, start=1):
            self.aggregate.horizontalHeaderItem(col).setToolTip(METRIC_TIPS[key])
        self.aggregate.horizontalHeaderItem(SIM_COL).setToolTip(SIMILARITY_NOTE)
        self.aggregate.horizontalHeaderItem(0).setToolTip("Examples scored.")
        self.aggregate.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.aggregate.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.aggregate.setToolTip("ROUGE and BLEU on one 0-100 scale; embedding similarity is a cosine (-1 to 1). "
                                  "In brackets: the 95% bootstrap confidence interval — if two systems' "
                                  "intervals overlap a lot, the difference may be luck.")
        self.chart = ScoreChart()
        self.models_label = QLabel("")
        self.models_label.setWordWrap(True)
        self.models_label.setToolTip("The model each system ran: zero- and k-shot run the base model with no "
                                     "adapter, whatever the model bar's Adapter switch says.")
        self.ci_note = QLabel("")
        self.ci_note.setWordWrap(True)

    def _build_examples(self) -> None:
        """One row per example: its text, each system's output and scores."""
        self.examples = QTableWidget(0, 3)
        self.examples.setHorizontalHeaderLabels(["id", "dialogue", "reference"])  # systems join after a run
        self.examples.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.examples.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.examples.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.examples.setWordWrap(False)
        self.examples.itemSelectionChanged.connect(self.show_selected)
        header = self.examples.horizontalHeader()  # before a run: the three columns fill the width
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)

    def _build_matches(self) -> QHBoxLayout:
        """Which words of the selected example matched; returns the row of highlight kinds."""
        self.system_combo = QComboBox()
        self.system_combo.setToolTip("Whose output to compare with the reference.")
        self.system_combo.currentIndexChanged.connect(self.show_selected)
        self.kind_group = QButtonGroup(self)
        kinds = QHBoxLayout()
        for i, (key, text, colour) in enumerate(HIGHLIGHTS):
            button = QRadioButton(text)
            button.setToolTip(HIGHLIGHT_TIPS[key])
            button.setStyleSheet(f"QRadioButton {{ background: {colour}; padding: 1px 4px; }}")
            self.kind_group.addButton(button, i)
            kinds.addWidget(button)
        kinds.addStretch(1)
        self.kind_group.button(0).setChecked(True)
        self.kind_group.idClicked.connect(lambda _: self.show_selected())
        self.match_summary = QLabel("Select an example to see which words matched.")
        self.match_summary.setWordWrap(True)
        self.reference_view = QTextBrowser()
        self.output_view = QTextBrowser()
        self.dialogue_view = QTextBrowser()
        self.dialogue_view.setMaximumHeight(110)
        for view in (self.reference_view, self.output_view, self.dialogue_view):
            view.setMinimumHeight(48)
        return kinds

    def _lay_out(self, kinds: QHBoxLayout) -> None:
        """Two pages, one focus each: the scores (table, the models that made them, the chart), and the
        examples with the matches of the selected one."""
        from PySide6.QtWidgets import QSizePolicy, QTabWidget

        scores = QWidget()
        agg_layout = QVBoxLayout(scores)
        agg_layout.setContentsMargins(0, 4, 0, 0)
        agg_layout.addWidget(QLabel("<b>Scores</b> (0-100; 95% interval in brackets)"))
        self.aggregate.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        self.aggregate.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        agg_layout.addWidget(self.aggregate, 0, Qt.AlignmentFlag.AlignLeft)
        agg_layout.addWidget(self.models_label)
        agg_layout.addWidget(self.ci_note)
        agg_layout.addWidget(self.chart, 1)

        match = QWidget()
        mlay = QVBoxLayout(match)
        mlay.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(QLabel("<b>Matches</b> for"))
        row.addWidget(self.system_combo, 1)
        mlay.addLayout(row)
        mlay.addLayout(kinds)
        mlay.addWidget(self.match_summary)
        mlay.addWidget(QLabel("Reference"))
        mlay.addWidget(self.reference_view, 1)
        mlay.addWidget(QLabel("Output"))
        mlay.addWidget(self.output_view, 1)
        mlay.addWidget(QLabel("Dialogue"))
        mlay.addWidget(self.dialogue_view)
        bottom = QSplitter(Qt.Orientation.Horizontal)
        bottom.addWidget(self.examples)
        bottom.addWidget(match)
        bottom.setStretchFactor(0, 3)
        bottom.setStretchFactor(1, 2)
        bottom.setChildrenCollapsible(False)
        self.pages = QTabWidget()
        self.pages.setDocumentMode(True)
        self.pages.addTab(scores, "Scores")
        self.pages.addTab(bottom, "Examples and matches")
        self.pages.setTabToolTip(1, "Every example with each system's output; select one to see which words matched.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    # ------------------------------------------------------------------------------------------
    def reset(self, labels: list[str], tokenizer: str, use_stemmer: bool, models: dict | None = None,
              provenance: dict | None = None) -> None:
        self.labels = list(labels)
        self.models = dict(models or {})
        self.provenance = dict(provenance or {})
        self._show_provenance()
        self.results = []
        self.tokenizer, self.use_stemmer = tokenizer, use_stemmer
        self.aggregate.setRowCount(len(labels))
        self.aggregate.setVerticalHeaderLabels(labels)
        for r, x in enumerate(labels):
            if x in self.provenance:
                self.aggregate.verticalHeaderItem(r).setToolTip(self.provenance[x].line())
            elif x in self.models:
                self.aggregate.verticalHeaderItem(r).setToolTip(self.models[x])
        for r in range(len(labels)):
            for c in range(len(METRIC_KEYS) + 2):
                self.aggregate.setItem(r, c, QTableWidgetItem(""))
        self.examples.clearContents()
        self.examples.setRowCount(0)
        heads = ["id", "dialogue", "reference"] + [h for x in labels for h in (x, "R-L", "Sim")]
        self.examples.setColumnCount(len(heads))
        self.examples.setHorizontalHeaderLabels(heads)
        header = self.examples.horizontalHeader()
        # The table fits its page: numbers as wide as they are, the texts share the rest (each cell's
        # tooltip and the matches beside it show the whole text).
        for c in range(len(heads)):
            number = c == 0 or heads[c] in ("R-L", "Sim")
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents if number
                                        else QHeaderView.ResizeMode.Stretch)
        self._fit_aggregate()
        self.system_combo.blockSignals(True)
        self.system_combo.clear()
        self.system_combo.addItems(labels)
        self.system_combo.blockSignals(False)
        self.ci_note.setText("")
        self.reference_view.clear()
        self.output_view.clear()
        self.dialogue_view.clear()
        self.chart.set_scores({x: {} for x in labels})
        for c, label in enumerate(labels):  # each system's column says which model wrote it
            item = self.examples.horizontalHeaderItem(3 + 3 * c)
            if item is not None and label in self.provenance:
                item.setToolTip(self.provenance[label].line())

    def _show_provenance(self) -> None:
        """The header names the run (the first system's provenance, time included); one line per system
        under the table says which model, adapter (or base) and prompt made its column."""
        if not self.provenance:
            self.header.clear_result()
            self.models_label.setText("<small>" + "<br>".join(
                f"<b>{html.escape(x)}</b>: {html.escape(self.models[x])}" for x in self.labels
                if x in self.models) + "</small>")
            return
        # The header names a model that ran, when one did (a predictions file's outputs had none).
        first = next((p for p in self.provenance.values() if p.precision), next(iter(self.provenance.values())))
        self.header.show_provenance(first)
        self.models_label.setText("<small>" + "<br>".join(
            f"<b>{html.escape(x)}</b>: {html.escape(p.model_text)}"
            + (f" · {html.escape(p.prompt)}" if p.prompt else "") for x, p in self.provenance.items()) + "</small>")

    def _show_warnings(self, warnings: dict[str, str]) -> None:
        """A system whose scores need care (e.g. an adapter recorded for another base model): said
        in red beside the models, so the row is never read as a clean result."""
        lines = [f"<b>{html.escape(label)}</b>: {html.escape(text)}" for label, text in warnings.items() if text]
        if lines:
            self.models_label.setText(self.models_label.text() + "<br><span style='color:#b00020'>⚠ "
                                      + "<br>⚠ ".join(lines) + "</span>")

    def add_result(self, result) -> None:
        """One finished example (an ExampleResult): a new table row, and a live score update."""
        self.results.append(result)
        if len(self.results) == 1 and getattr(result, "warnings", None):
            self._show_warnings(result.warnings)
        row = self.examples.rowCount()
        self.examples.insertRow(row)
        ex = result.example
        cells = [ex.id, " ".join(ex.input.split()), ex.reference]
        for label in self.labels:
            cells.append(" ".join(result.outputs.get(label, "").split()))
            s = result.scores.get(label)
            cells.append(format_score(s["rougeL"].fmeasure, "rougeL") if s else "")
            sim = result.similarity.get(label)
            cells.append(format_score(sim, "similarity") if sim is not None else "")
        for c, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(ex.input if c == 1 else result.outputs.get(self.labels[(c - 3) // 3], text)
                            if c >= 3 and c % 3 == 0 else text)
            self.examples.setItem(row, c, item)
        if row == 0:
            self.examples.selectRow(0)
        self._live_timer.start()

    def _update_live(self) -> None:
        """Running means of the per-pair ROUGE (no intervals or BLEU until the run is scored)."""
        if not self.results:
            return
        values = {}
        n = len(self.results)
        for r, label in enumerate(self.labels):
            means = {k: sum(res.scores[label][k].fmeasure for res in self.results) / n for k in ROUGE_KEYS}
            values[label] = {k: 100 * v for k, v in means.items()}  # the chart's bars, 0-100
            self._set_live_row(r, n, means)
            sims = [res.similarity[label] for res in self.results if label in res.similarity]
            mean_sim = format_score(sum(sims) / len(sims), "similarity") if sims else "–"
            self.aggregate.item(r, SIM_COL).setText(mean_sim)
        self.chart.set_scores(values)

    def _set_live_row(self, r: int, n: int, means: dict) -> None:
        """Running means of the examples so far (fractions, shown 0-100); BLEU waits for the scoring."""
        self.aggregate.item(r, 0).setText(str(n))
        for c, key in enumerate(METRIC_KEYS, start=1):
            self.aggregate.item(r, c).setText("…" if key == "bleu" else format_score(means[key], key))
            self.aggregate.item(r, c).setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self._fit_aggregate()

    def _fit_aggregate(self) -> None:
        """Rows as tall and columns as wide as their cells; the table asks for all of them (it scrolls
        sideways only where the window leaves less, e.g. 1200 px with the Labs dock open)."""
        self.aggregate.resizeRowsToContents()
        self.aggregate.resizeColumnsToContents()
        self.aggregate.updateGeometry()  # its size hint (AdjustToContents) is every column: the page gives it that

    def _set_report_row(self, r: int, rep) -> None:
        self.aggregate.item(r, 0).setText(str(rep.n))
        for c, key in enumerate(METRIC_KEYS + (SIMILARITY_KEY,), start=1):
            text = "–" if key == SIMILARITY_KEY and rep.similarity is None else score_text(rep, key, sep="\n")
            self.aggregate.item(r, c).setText(text)
            self.aggregate.item(r, c).setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self._fit_aggregate()

    def show_reports(self, reports: dict) -> None:
        """The final table and chart from ScoreReports (label -> report), with intervals."""
        self._live_timer.stop()
        values, intervals = {}, {}
        for r, label in enumerate(self.labels):
            rep = reports[label]
            values[label] = {k: rep.value(k) for k in METRIC_KEYS}
            intervals[label] = {k: rep.interval(k) for k in METRIC_KEYS if k in rep.ci}
            self._set_report_row(r, rep)
        self.chart.set_scores(values, intervals)
        with_sim = any(rep.similarity is not None for rep in reports.values())
        self.ci_note.setText(f"<small>ROUGE tokenizer: {self.tokenizer}; stemming "
                             f"{'on' if self.use_stemmer else 'off'}. Whiskers: 95% bootstrap interval."
                             + (f" {SIMILARITY_NOTE}" if with_sim else "") + "</small>")

    def aggregate_text(self, label: str, key: str) -> str:
        if key == SIMILARITY_KEY:
            return self.aggregate.item(self.labels.index(label), SIM_COL).text()
        return self.aggregate.item(self.labels.index(label), 1 + METRIC_KEYS.index(key)).text()

    # ------------------------------------------------------------------------------------------
    def highlight_kind(self) -> str:
        return HIGHLIGHTS[max(0, self.kind_group.checkedId())][0]

    def show_examples(self) -> None:
        """Switch to the examples page (a lab's *Show me*, or a test)."""
        self.pages.setCurrentIndex(1)

    def show_selected(self) -> None:
        rows = self.examples.selectionModel().selectedRows() if self.examples.selectionModel() else []
        label = self.system_combo.currentText()
        if not rows or not label or rows[0].row() >= len(self.results):
            return
        result = self.results[rows[0].row()]
        output, reference = result.outputs.get(label, ""), result.example.reference
        kind = self.highlight_kind()
        colour = next(c for k, _, c in HIGHLIGHTS if k == kind)
        ex = explain_pair(output, reference, tokenizer=self.tokenizer, use_stemmer=self.use_stemmer)
        self.last_explanation = ex
        self.reference_view.setHtml(highlight_html(reference, ex.spans(kind, "reference"), colour))
        self.output_view.setHtml(highlight_html(output, ex.spans(kind, "prediction"), colour) or
                                 "<i>(empty output)</i>")
        self.dialogue_view.setPlainText(result.example.input)
        n = len(ex.matches(kind))
        ref_total = max(len(ex.reference_tokens) - (1 if kind == "bigrams" else 0), 0)
        out_total = max(len(ex.prediction_tokens) - (1 if kind == "bigrams" else 0), 0)
        what = {"unigrams": "words", "bigrams": "word pairs", "lcs": "words in the longest common subsequence"}[kind]
        s = result.scores.get(label, {})
        key = {"unigrams": "rouge1", "bigrams": "rouge2", "lcs": "rougeL"}[kind]
        f1 = f" → {METRIC_LABELS[key]} F1 {format_score(s[key].fmeasure, key)}" if key in s else ""
        self.match_summary.setText(
            f"{n} matched {what}: recall {n}/{ref_total} of the reference, precision {n}/{out_total} of "
            f"the output{f1}.")
