"""The Inside tab: tokens, attention maps (one head, all heads, lines), the logit lens and
embeddings, for a text the user types. Model work runs in the task runner; views only draw."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.units import format_bytes
from playground.qt.inside import lessons, saving
from playground.qt.inside.common import ViewPage
from playground.qt.inside.controls import AnalysisControls, memory_status
from playground.qt.inside.embedding_view import EmbeddingView
from playground.qt.inside.heads_view import HeadGridView
from playground.qt.inside.heatmap_view import HeatmapView
from playground.qt.inside.lens_view import LogitLensView
from playground.qt.inside.lines_view import LinesView
from playground.qt.inside.selection import SelectionBar
from playground.qt.inside.side_tasks import SideTasksMixin
from playground.qt.inside.token_view import TokenView
from playground.qt.panel import Panel
from playground.qt.shortcuts import run_shortcut
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, flexible_height, note_label
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

DEFAULT_TEXT = "The animal didn't cross the street because it was too tired."
ATTENTION_VIEWS = ("attention", "heads", "lines")


class RoomTabs(QTabWidget):
    """The views' tabs, as tall as the room left (never asking for a height for their width: a lesson's
    wrapped text would otherwise ask for the views' preferred height and the tab would scroll)."""

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt's name)
        return False


class InsidePanel(SideTasksMixin, Panel):
    title = "Inside"
    guide = "See how text becomes tokens and vectors, and which tokens each token attends to, layer by layer."
    help = lessons.GUIDE
    notebook_kind = "attention"

    sig_analysis_finished = Signal(object)
    """the AttentionResult of an analysis, or None when it failed or was stopped"""
    sig_view_updated = Signal(str)
    """the name of the view that was just redrawn ('attention', 'heads', 'lines', ...)"""
    sig_lens_finished = Signal(object)
    """the LogitLensResult, or None when it failed or was stopped"""
    sig_embeddings_finished = Signal(object)
    """the EmbeddingResult, or None when it failed"""

    def notebook_state(self) -> dict | None:
        return saving.notebook_experiment(self)

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.result = None
        self.result_model = None  # the model that computed ``result`` (kept across the Adapter switch)
        self.task = None
        # The side tasks: the lens and the embeddings, each in its own slot.
        self.lens_slot, self.embed_slot = TaskSlot(context.runner, parent=self), TaskSlot(context.runner, parent=self)
        self.lens_stale = True
        self.has_attention = True
        self.summary = self._status = ""  # the last analysis, with its model: plain (handout), rich (status line)

        self._build_inputs()
        self._build_selection()
        self._build_views()
        self._build_save_buttons()
        self._lay_out()
        self._build_timers()
        self._on_view_changed(self.view_tabs.currentIndex())

    def _build_inputs(self) -> None:
        """The text (and decoder text), the analysis controls, Analyse / Stop, progress and message lines."""
        self.text_edit = QPlainTextEdit(DEFAULT_TEXT)
        self.text_edit.setToolTip("The text to look inside. Ctrl+Enter analyses it, Esc stops.")
        self.text_edit.setMaximumHeight(90)
        flexible_height(self.text_edit, 2)  # two lines at least, 90 px at most: the maps keep the room
        self.target_edit = QLineEdit()
        self.target_edit.setPlaceholderText("Decoder text (empty: the model writes its own answer)")
        self.target_edit.setToolTip("Encoder-decoder models read the text with the encoder and write with the "
                                    "decoder. Cross-attention shows which input tokens each output token uses.")
        self.target_edit.setVisible(False)
        self.controls = AnalysisControls(self.context.settings)
        self.analyse_button = button("Analyse  (Ctrl+Enter)", "Run the model once on the text with attention "
                                     "switched on.", self.analyse)
        self.stop_button = button("Stop  (Esc)", on_click=self.stop)
        self.stop_button.setEnabled(False)
        # The analysis and the logit lens: phase, step x of y, time left, Stop (shown while either runs).
        self.progress_strip = ProgressStrip("Stop the analysis or the logit lens (Esc).")
        self.progress_strip.attach(self.slot).attach(self.lens_slot)
        # Which model (adapter or base) and precision computed the maps on show, for which text and limit.
        self.result_header = ResultHeader(empty="Press Analyse: the maps below will name the model that computed "
                                                "them.")
        self.status_label = note_label()
        self.message_label = self.message_line()

    def _build_selection(self) -> None:
        """What to show: which map, layer and head (for the three attention views)."""
        self.selection_row = SelectionBar()
        self.selection_row.sig_changed.connect(self._schedule_refresh)
        # Hidden for views with no layer/head to choose, but its room is kept: the sub-tab bar stays put.
        (policy := self.selection_row.sizePolicy()).setRetainSizeWhenHidden(True)
        self.selection_row.setSizePolicy(policy)
        # Short names for the selection widgets (tests and the smoke test drive them like a person).
        self.map_combo = self.selection_row.map_combo
        self.layer_slider = self.selection_row.layer_slider
        self.head_combo = self.selection_row.head_combo

    def _build_views(self) -> None:
        """The views, each on its sub-tab with its lesson."""
        self.token_view = TokenView()
        self.heatmap = HeatmapView()
        self.heads = HeadGridView()
        self.lines = LinesView()
        self.lens = LogitLensView()
        self.embeddings = EmbeddingView()
        from playground.qt.inside.kinds_views import MeaningView, ObjectivesView

        self.meaning, self.objectives = MeaningView(self.context), ObjectivesView(self.context)
        self.views = {"tokens": self.token_view, "attention": self.heatmap, "heads": self.heads,
                      "lines": self.lines, "lens": self.lens, "embeddings": self.embeddings,
                      "meaning": self.meaning, "objectives": self.objectives}
        self.view_tabs = RoomTabs()
        for name, title, lesson in (("tokens", "Tokens", lessons.TOKENS), ("attention", "Attention map", lessons.ATTENTION),
                                    ("heads", "All heads", lessons.HEADS), ("lines", "Lines", lessons.LINES),
                                    ("lens", "Logit lens", lessons.LENS), ("embeddings", "Embeddings", lessons.EMBEDDINGS),
                                    ("meaning", "Meaning", lessons.MEANING), ("objectives", "Objectives", lessons.OBJECTIVES)):
            self.view_tabs.addTab(ViewPage(self.views[name], lesson), title)
        from playground.qt.inside.both_kinds_view import BothKindsView  # issue 16: both kinds side by side

        self.views["kinds"] = BothKindsView(self.context)
        self.view_tabs.addTab(ViewPage(self.views["kinds"], lessons.BOTH_KINDS), "Both kinds")
        self.view_tabs.currentChanged.connect(self._on_view_changed)
        self.heads.sig_head_clicked.connect(self._on_head_clicked)
        self.lens.sig_window_changed.connect(lambda s, n: self.run_lens(s, n))
        self.embeddings.sig_compare_requested.connect(self.compare_words)

    def _build_save_buttons(self) -> None:
        self.png_button = button("Save picture…", "Save the current view as a PNG image.",
                                 lambda: self._export_dialog("png"))
        self.csv_button = button("Save numbers…", "Save the numbers behind the current view as CSV (opens in any "
                                 "spreadsheet).", lambda: self._export_dialog("csv"))

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self.text_edit)
        left.addWidget(self.target_edit)
        top.addLayout(left, 3)
        right = QVBoxLayout()
        right.addWidget(self.controls)
        buttons = QHBoxLayout()
        buttons.addWidget(self.analyse_button)
        buttons.addWidget(self.stop_button)
        right.addLayout(buttons)
        top.addLayout(right, 1)
        status = QHBoxLayout()
        status.addWidget(self.status_label, 1)
        status.addWidget(self.png_button)
        status.addWidget(self.csv_button)
        # On a small window the main window's scroll area around the tab lets it scroll.
        outer = QVBoxLayout(self)
        outer.addWidget(self.lesson(lessons.PANEL))
        outer.addLayout(top)
        outer.addWidget(self.message_label)
        outer.addWidget(self.progress_strip)
        outer.addLayout(status)
        outer.addWidget(self.result_header)
        outer.addWidget(self.selection_row)
        outer.addWidget(self.view_tabs, 1)
        # The views take the room that is left, from their smallest readable size: their preferred sizes
        # (figures of 9 x 4 inches) would make the tab taller than a 1200x800 window, cutting the labels.
        from PySide6.QtWidgets import QSizePolicy

        self.view_tabs.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self._fit_views()

    def _fit_views(self) -> None:
        self.view_tabs.setMinimumHeight(0)
        self.view_tabs.setMinimumHeight(self.view_tabs.minimumSizeHint().height())

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent

        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "view_tabs"):  # the presenter's zoom
            QTimer.singleShot(0, self._fit_views)

    def _build_timers(self) -> None:
        """Ctrl+Enter / Esc, the debounced redraw and the debounced token count."""
        run_shortcut(self, self.analyse, editor=self.text_edit, stop=self.stop)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(40)  # debounce slider drags: draw once the hand rests
        self._refresh_timer.timeout.connect(self.refresh)
        self._token_timer = QTimer(self)
        self._token_timer.setSingleShot(True)
        self._token_timer.setInterval(200)
        self._token_timer.timeout.connect(self.update_tokens)
        self.text_edit.textChanged.connect(self._token_timer.start)
        self.controls.sig_changed.connect(self._token_timer.start)

    # model and tokens ------------------------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        if self.result is not None and self.context.only_switched(self.result_model, loaded):
            # The Adapter switch: the analysis stays, marked with the model that computed it.
            self.update_tokens()
            saving.mark_origin(self)
            if loaded is not self.result_model:
                self.result_header.mark_stale("the Adapter switch selects another model now; Analyse again")
            elif self.result_header.provenance is not None:
                self.result_header.show_provenance(self.result_header.provenance)
            return
        self.result = None
        self.result_header.clear_result()
        self.lens_stale = True
        self.target_edit.setVisible(loaded.is_encoder_decoder)
        self.selection_row.clear()
        for view in (self.heatmap, self.heads, self.lines, self.lens, self.embeddings):
            view.clear()
        from playground.core.attention.taps import find_taps

        # Known before anyone presses Analyse: a model without attention layers has no maps to show.
        self.has_attention = any(t.key != "hidden_states" for t in find_taps(loaded.model, loaded.is_encoder_decoder))
        self.update_tokens()

    def current_view(self) -> str:
        return list(self.views)[self.view_tabs.currentIndex()]

    def update_tokens(self) -> None:
        """Tokenize on the GUI thread (a tokenizer is fast) and show the memory the attention would need."""
        from playground.core.base.errors import PlaygroundError
        from playground.core.prompting.tokens import tokenize_text

        loaded = self.context.session.current
        text = self.text_edit.toPlainText()
        if loaded is None:
            self.token_view.clear("The model is still loading…")
            return
        try:
            pieces = tokenize_text(loaded.tokenizer, text)
        except PlaygroundError as exc:
            self.token_view.clear(exc.message)
            self.status_label.setText("")
            return
        self.token_view.show_tokens(pieces, text)
        self.status_label.setText(memory_status(loaded, len(pieces), self.has_attention, self.controls.limit_bytes(),
                                                self.controls.over_limit()))

    # analysis --------------------------------------------------------------------------------
    def analyse(self) -> None:
        loaded = self.ready_to_start()
        if loaded is None:
            return
        text = self.text_edit.toPlainText()
        target = self.target_edit.text() if loaded.is_encoder_decoder else None
        limit, policy = self.controls.limit_bytes(), self.controls.over_limit()
        self.controls.save()
        from playground.core.attention import extract_attention, summarize

        self.result_model = loaded

        def work(handle):
            return summarize(extract_attention(loaded, text, target=target, limit_bytes=limit, over_limit=policy,
                                               handle=handle), handle)

        self._cancel_side_task()
        self.task = self.slot.start("attention", work, on_progress=self._on_progress, on_done=self._on_result,
                                    on_finished=self._on_finished)
        self._analysis_settings = f"memory limit {format_bytes(limit)}, {policy} past it"
        self.analyse_button.setEnabled(False)
        self.stop_button.setEnabled(True)

    def _on_progress(self, fraction, message: str) -> None:
        self.progress_strip.on_progress(fraction, message)

    def _on_finished(self, task) -> None:
        outcome = task.outcome
        self.analyse_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if outcome == "cancelled":
            self.status_label.setText("Stopped.")
        if outcome != "done":
            self.sig_analysis_finished.emit(None)

    def _on_result(self, result) -> None:
        self.result = result
        self.lens_stale = True
        amap = result.main
        decoder = f" → {len(result.target_ids):,} decoder tokens" if result.target_ids else ""
        self._summary = (f"{len(result.tokens):,} tokens{decoder} · {amap.num_layers} layers × {amap.num_heads} heads"
                         f" · attention {result.plan.describe()}")
        saving.mark_origin(self)
        decoder = f", {len(result.target_ids):,} decoder tokens" if result.target_ids else ""
        self.result_header.show_for(self.result_model, prompt=f"{len(result.tokens):,} tokens of text{decoder}",
                                    settings=getattr(self, "_analysis_settings", ""))
        self.selection_row.set_maps(result.maps)
        self.lens.set_length(len(result.target_ids) or len(result.tokens))
        self.refresh()
        self.sig_analysis_finished.emit(result)

    def stop(self) -> None:
        self.slot.stop()
        self._cancel_side_task()

    # selection and drawing -------------------------------------------------------------------
    def selection(self) -> tuple[str, int, int | str]:
        return self.selection_row.selection()

    def _schedule_refresh(self) -> None:
        self._refresh_timer.start()

    def _on_view_changed(self, _index: int) -> None:
        view = self.current_view()
        self.selection_row.setVisible(view in ATTENTION_VIEWS)
        self.refresh()

    def _on_head_clicked(self, head: int) -> None:
        self.selection_row.choose_head(head)
        self.view_tabs.setCurrentIndex(list(self.views).index("attention"))

    def refresh(self) -> None:
        """Redraw the visible view from the result (a lookup: the numbers are already computed)."""
        view = self.current_view()
        if self.result is None or view not in ATTENTION_VIEWS + ("lens",):
            return
        if view == "lens":
            if self.lens_stale:
                self.run_lens(*self.lens.window())
            return
        name, layer, head = self.selection()
        if name not in self.result.maps or head is None:
            return
        amap = self.result.maps[name]
        layer = min(layer, amap.num_layers - 1)
        head_name = {"mean": "mean of heads", "rollout": "rollout"}.get(head, f"head {head}")
        title = f"{amap.title} · layer {layer} · {head_name}"
        if amap.downsampled:
            title += " (downsampled)"
        names = {"row_name": "attending token (query)", "col_name": "attended-to token (key)"}
        if name == "cross":
            names = {"row_name": "decoder token (query)", "col_name": "encoder token (key)"}
        spans = {"row_spans": amap.query_spans, "col_spans": amap.key_spans}
        if view == "attention":
            self.heatmap.show_matrix(self.result.matrix(name, layer, head), amap.query_labels, amap.key_labels,
                                     title, **names, **spans)
        elif view == "heads":
            self.heads.show_layer(amap.layer(layer), amap.query_labels, amap.key_labels,
                                  f"{amap.title} · layer {layer} · all {amap.num_heads} heads",
                                  selected=head if isinstance(head, int) else -1, square=amap.is_square)
        else:
            self.lines.show_attention(self.result.matrix(name, layer, head), amap.query_labels, amap.key_labels, title,
                                      **spans)
        self.sig_view_updated.emit(view)

    # the session handout and saving ----------------------------------------------------------
    def session_snapshot(self) -> list[tuple[str, str]]:
        """The analysed text and what was found, for the session handout."""
        return saving.snapshot(self)

    def session_figures(self) -> list:
        """The charts that show a result (never the empty ones of views not used yet)."""
        return saving.figures(self)

    def export_current(self, path: str, kind: str) -> None:
        """Save the current view as 'png' (picture) or 'csv' (numbers); InputError when it shows nothing."""
        saving.export_view(self.views[self.current_view()], self.current_view(), path, kind)

    def _export_dialog(self, kind: str) -> None:
        saving.export_with_dialog(self, kind)
