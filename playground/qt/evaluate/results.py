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

from playground.core.models.encoder import SIMILARITY_NOTE
from playground.core.evaluation.metrics import METRIC_KEYS, METRIC_LABELS, ROUGE_KEYS, SIMILARITY_KEY
from playground.core.evaluation.rouge_explain import explain_pair, highlight_html

COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52")
METRIC_TIPS = {
    "rouge1": "ROUGE-1: words (unigrams) shared by output and reference; F1 of precision and recall.",
    "rouge2": "ROUGE-2: pairs of neighbouring words (bigrams) shared by output and reference.",
    "rougeL": "ROUGE-L: the longest sequence of words found in both, in the same order (gaps allowed).",
    "rougeLsum": "ROUGE-Lsum: ROUGE-L over sentences (split at new lines), as summarization papers report.",
    "bleu": "BLEU (sacrebleu, corpus level): precision of 1- to 4-word n-grams, with a penalty for short "
            "outputs. From machine translation.",
}
HIGHLIGHTS = [("unigrams", "Unigrams (ROUGE-1)", "#ffe08a"), ("bigrams", "Bigrams (ROUGE-2)", "#ffc27a"),
              ("lcs", "Longest common subsequence (ROUGE-L)", "#a8e6a1")]


class ScoreChart(QWidget):
    """A grouped bar chart (one group per metric, one bar per system) with interval whiskers.

    The figure is built once; new scores change bar heights in place. Only a change in the set of
    systems re-creates the bars (on the same axes).
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import make_canvas

        self.figure, self.canvas = make_canvas(5, 2.6, min_size=(320, 200))
        self.ax = self.figure.add_subplot(111)
        self.labels: list[str] = []
        self.bars: list = []
        self.whiskers: list = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self._setup_axes()

    def _setup_axes(self) -> None:
        import numpy as np

        ax = self.ax
        ax.cla()
        # Slanted, so neighbouring labels never run together on a narrow chart ("ROUGE-1ROUGE-2…").
        ax.set_xticks(np.arange(len(METRIC_KEYS)), [METRIC_LABELS[k] for k in METRIC_KEYS], fontsize=8,
                      rotation=30, ha="right", rotation_mode="anchor")
        ax.set_ylabel("score (×100)", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_ylim(0, 60)
        ax.grid(axis="y", alpha=0.3)

    def _build_bars(self, labels: list[str]) -> None:
        import numpy as np

        self._setup_axes()
        self.labels = list(labels)
        x = np.arange(len(METRIC_KEYS))
        width = 0.8 / max(1, len(labels))
        self.bars, self.whiskers = [], []
        for i, label in enumerate(labels):
            offset = (i - (len(labels) - 1) / 2) * width
            self.bars.append(self.ax.bar(x + offset, np.zeros(len(x)), width * 0.95, label=label,
                                         color=COLOURS[i % len(COLOURS)]))
            self.whiskers.append(self.ax.vlines(x + offset, 0, 0, colors="#222", linewidth=1))
        if labels:
            # Above the axes, so it never hides a bar.
            self.ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=min(4, len(labels)),
                           frameon=False)

    def set_scores(self, values: dict[str, dict[str, float]],
                   intervals: dict[str, dict[str, tuple[float, float]]] | None = None) -> None:
        """Bar heights per system and metric (0-100), and optional (low, high) whiskers."""
        labels = list(values)
        if labels != self.labels:
            self._build_bars(labels)
        top = 10.0
        for i, label in enumerate(labels):
            segments = []
            for j, key in enumerate(METRIC_KEYS):
                v = values[label].get(key, 0.0)
                bar = self.bars[i][j]
                bar.set_height(v)
                x = bar.get_x() + bar.get_width() / 2
                lo, hi = (intervals or {}).get(label, {}).get(key, (v, v))
                segments.append([(x, lo), (x, hi)])
                top = max(top, v, hi)
            self.whiskers[i].set_segments(segments)
        self.ax.set_ylim(0, min(100.0, top * 1.15 + 2))
        self.canvas.draw_idle()


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

        self._build_scores()
        self._build_examples()
        kinds = self._build_matches()
        self._lay_out(kinds)

        # Live updates while examples stream in are coalesced (several per second at most).
        self._live_timer = QTimer(self)
        self._live_timer.setSingleShot(True)
        self._live_timer.setInterval(300)
        self._live_timer.timeout.connect(self._update_live)

    def _build_scores(self) -> None:
        """The scores table, the chart beside it, and the notes under the table."""
        self.aggregate = QTableWidget(0, len(METRIC_KEYS) + 2)
        self.aggregate.setHorizontalHeaderLabels(["n"] + [METRIC_LABELS[k] for k in METRIC_KEYS] + [SIM_HEAD])
        for col, key in enumerate(METRIC_KEYS, start=1):
            self.aggregate.horizontalHeaderItem(col).setToolTip(METRIC_TIPS[key])
        self.aggregate.horizontalHeaderItem(SIM_COL).setToolTip(SIMILARITY_NOTE)
        self.aggregate.horizontalHeaderItem(0).setToolTip("Examples scored.")
        self.aggregate.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.aggregate.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.aggregate.setToolTip("Scores ×100. In brackets: the 95% bootstrap confidence interval — if two "
                                  "systems' intervals overlap a lot, the difference may be luck.")
        self.chart = ScoreChart()
        self.models_label = QLabel("")
        self.models_label.setWordWrap(True)
        self.models_label.setToolTip("The model each system ran: the base model has no adapter, whatever the "
                                     "model bar's Adapter switch says.")
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

    def _build_matches(self) -> QHBoxLayout:
        """Which words of the selected example matched; returns the row of highlight kinds."""
        self.system_combo = QComboBox()
        self.system_combo.setToolTip("Whose output to compare with the reference.")
        self.system_combo.currentIndexChanged.connect(self.show_selected)
        self.kind_group = QButtonGroup(self)
        kinds = QHBoxLayout()
        for i, (key, text, colour) in enumerate(HIGHLIGHTS):
            button = QRadioButton(text)
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
        return kinds

    def _lay_out(self, kinds: QHBoxLayout) -> None:
        """The scores above; the examples and the matches of the selected one below."""
        top = QSplitter(Qt.Orientation.Horizontal)
        agg_box = QWidget()
        agg_layout = QVBoxLayout(agg_box)
        agg_layout.setContentsMargins(0, 0, 0, 0)
        agg_layout.addWidget(QLabel("<b>Scores</b> (×100, 95% interval in brackets)"))
        agg_layout.addWidget(self.aggregate)
        agg_layout.addWidget(self.models_label)
        agg_layout.addWidget(self.ci_note)
        top.addWidget(agg_box)
        top.addWidget(self.chart)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)
        top.setSizes([650, 400])  # the table needs the room: five metrics with their intervals

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
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(bottom)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([240, 600])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(split)

    # ------------------------------------------------------------------------------------------
    def reset(self, labels: list[str], tokenizer: str, use_stemmer: bool, models: dict | None = None) -> None:
        self.labels = list(labels)
        self.models = dict(models or {})
        self.models_label.setText("<small>" + "<br>".join(
            f"<b>{html.escape(x)}</b>: {html.escape(self.models[x])}" for x in labels if x in self.models) + "</small>")
        self.results = []
        self.tokenizer, self.use_stemmer = tokenizer, use_stemmer
        self.aggregate.setRowCount(len(labels))
        self.aggregate.setVerticalHeaderLabels(labels)
        for r, x in enumerate(labels):
            if x in self.models:
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
        for c in range(len(heads)):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.Interactive)
            self.examples.setColumnWidth(c, 50 if c == 0 or heads[c] in ("R-L", "Sim") else 160)
        self.system_combo.blockSignals(True)
        self.system_combo.clear()
        self.system_combo.addItems(labels)
        self.system_combo.blockSignals(False)
        self.ci_note.setText("")
        self.reference_view.clear()
        self.output_view.clear()
        self.dialogue_view.clear()
        self.chart.set_scores({x: {} for x in labels})

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
            cells.append(f"{100 * s['rougeL'].fmeasure:.0f}" if s else "")
            sim = result.similarity.get(label)
            cells.append(f"{100 * sim:.0f}" if sim is not None else "")
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
            means = {k: 100 * sum(res.scores[label][k].fmeasure for res in self.results) / n for k in ROUGE_KEYS}
            values[label] = means
            self._set_row(r, n, means, {}, bleu=None)
            sims = [res.similarity[label] for res in self.results if label in res.similarity]
            self._set_similarity(r, 100 * sum(sims) / len(sims) if sims else None, None)
        self.chart.set_scores(values)

    def _set_row(self, r: int, n: int, values: dict, intervals: dict, bleu) -> None:
        self.aggregate.item(r, 0).setText(str(n))
        for c, key in enumerate(METRIC_KEYS, start=1):
            if key == "bleu" and bleu is None:
                text = "…"
            else:
                v = values[key]
                text = f"{v:.1f}"
                if key in intervals:
                    lo, hi = intervals[key]
                    text += f"\n[{lo:.1f}–{hi:.1f}]"
            self.aggregate.item(r, c).setText(text)
            self.aggregate.item(r, c).setTextAlignment(Qt.AlignmentFlag.AlignCenter)
        self.aggregate.resizeRowsToContents()

    def show_reports(self, reports: dict) -> None:
        """The final table and chart from ScoreReports (label -> report), with intervals."""
        self._live_timer.stop()
        values, intervals = {}, {}
        for r, label in enumerate(self.labels):
            rep = reports[label]
            values[label] = {k: rep.value(k) for k in METRIC_KEYS}
            intervals[label] = {k: rep.interval(k) for k in METRIC_KEYS if k in rep.ci}
            self._set_row(r, rep.n, values[label], intervals[label], bleu=rep.bleu)
            self._set_similarity(r, None if rep.similarity is None else rep.value(SIMILARITY_KEY),
                                 rep.interval(SIMILARITY_KEY) if SIMILARITY_KEY in rep.ci else None)
        self.chart.set_scores(values, intervals)
        with_sim = any(rep.similarity is not None for rep in reports.values())
        self.ci_note.setText(f"<small>ROUGE tokenizer: {self.tokenizer}; stemming "
                             f"{'on' if self.use_stemmer else 'off'}. Whiskers: 95% bootstrap interval."
                             + (f" {SIMILARITY_NOTE}" if with_sim else "") + "</small>")

    def _set_similarity(self, r: int, value, interval) -> None:
        text = "–" if value is None else f"{value:.1f}"
        if value is not None and interval is not None:
            text += f"\n[{interval[0]:.1f}–{interval[1]:.1f}]"
        self.aggregate.item(r, SIM_COL).setText(text)
        self.aggregate.item(r, SIM_COL).setTextAlignment(Qt.AlignmentFlag.AlignCenter)

    def aggregate_text(self, label: str, key: str) -> str:
        if key == SIMILARITY_KEY:
            return self.aggregate.item(self.labels.index(label), SIM_COL).text()
        return self.aggregate.item(self.labels.index(label), 1 + METRIC_KEYS.index(key)).text()

    # ------------------------------------------------------------------------------------------
    def highlight_kind(self) -> str:
        return HIGHLIGHTS[max(0, self.kind_group.checkedId())][0]

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
        f1 = f" → {METRIC_LABELS[key]} F1 {100 * s[key].fmeasure:.1f}" if key in s else ""
        self.match_summary.setText(
            f"{n} matched {what}: recall {n}/{ref_total} of the reference, precision {n}/{out_total} of "
            f"the output{f1}.")
