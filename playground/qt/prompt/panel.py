"""The Prompt tab: zero-, one- and few-shot in-context learning on the dialogues, side by side."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground.core.prompting.history import History
from playground.core.prompting.prompts import TEMPLATES
from playground.core.prompting.special_tokens import readable
from playground.qt.panel import Panel
from playground.qt.shortcuts import run_shortcut
from playground.qt.prompt.choosing import FREE, ChoosingMixin
from playground.qt.prompt.compare_view import CompareView
from playground.qt.prompt.history_view import HistoryView
from playground.qt.prompt.prompt_text import PromptTextMixin
from playground.qt.prompt.runs import PromptRunsMixin, describe_shots  # noqa: F401 (re-exported)
from playground.qt.widgets.token_meter import TokenMeter
from playground.qt.widgets.make import button, flexible_height, form, hbox, note_label, splitter, vbox

LESSON = (
    "<b>In-context learning.</b> Without changing a single weight, you can show a model a task "
    "inside the prompt. <i>Zero-shot</i> only asks; <i>one-shot</i> shows one worked example first; "
    "<i>few-shot</i> shows several. Large models usually gain from examples; a model as small as the "
    "bundled one often copies an example's wording instead, so its score can drop as shots are added: "
    "run the comparison and see which way it goes here. Every example takes room in the <i>context "
    "window</i>: watch the meter. When examples do not help, fine-tuning is the next step."
)


class PromptPanel(ChoosingMixin, PromptRunsMixin, PromptTextMixin, Panel):
    title = "Prompt"
    guide = "Teach the model a task inside the prompt, with no training: compare zero-, one- and few-shot."
    help = """<h2>Prompt: in-context learning</h2>
<p>A <b>prompt</b> is the text the model reads; its <b>completion</b> is what it writes next. You can teach
a task inside the prompt without training: <b>zero-shot</b> only asks, <b>one-shot</b> shows one worked
example first, <b>few-shot</b> shows several.</p>
<p>Every example costs tokens in the <b>context window</b>, the most text the model can look at once. The
meter shows instruction, examples, dialogue and room for the answer. Compare 0, 1 and k shots side by side
and watch ROUGE: large models usually gain from examples; a model as small as the bundled one often copies
an example's wording and can score lower with more shots. When examples do not help, fine-tuning starts to
pay.</p>"""
    notebook_kind = "prompt_comparison"

    def lab_events(self) -> dict:
        def run(event) -> dict:
            v = (self.last_run().get("variants") or [None])[0]
            return {"shots": len(v.shots) if v else 0, "template": v.template if v else "", "scores": dict(event.scores)}

        def comparison() -> dict:
            variants = self.last_run().get("variants", [])
            return {"mode": self.compare_mode.currentData(), "labels": [v.label for v in variants],
                    "shots": [len(v.shots) for v in variants], "templates": [v.template for v in variants],
                    "scored": self.compare_view.scored}

        return {"prompt_run": (self.sig_run_finished, run), "prompt_comparison": (self.sig_compare_finished, comparison),
                "prompt_measured": (self.sig_prompt_measured, lambda over: {"over": over})}

    def notebook_state(self) -> dict | None:
        cols = [c for c in self.compare_view.columns if c.result is not None and c.result.done]
        if not cols:
            return None
        run = self.last_run()
        return {"kind": "prompt_comparison", "reference": run.get("reference", ""),
                "settings": run.get("settings") or self.settings().to_dict(),
                "variants": [{"label": c.label, "prompt": readable(c.result.prompt)} for c in cols]}

    def reveal(self, control: str) -> QWidget | None:
        """The Run / Compare sub-tab's buttons (the sub-tab switched), the token meter in the left column."""
        pages = {"run_button": self.run_button, "compare_button": self.compare_button,
                 "compare_mode": self.compare_mode}
        widget = pages.get(control) or {"meter": self.meter}.get(control)
        if widget is None:
            return None
        for i in range(self.views.count()):
            if self.views.widget(i).isAncestorOf(widget):
                self.views.setCurrentIndex(i)
        return widget

    sig_run_finished = Signal(object)
    """the VariantEvent of a finished single run (with its summary and scores)"""
    sig_compare_finished = Signal()
    """a comparison ended (finished or stopped); columns hold what was scored"""
    sig_prompt_measured = Signal(bool)
    """the prompt and its token meter were rebuilt; True when the prompt does not fit the context window"""

    def __init__(self, context, parent: QWidget | None = None, history: History | None = None) -> None:
        super().__init__(context, parent)
        self.history = history or History()
        self.task = None
        self.edited = False
        self._setting_prompt = False
        self.train, self.splits = [], {}
        self._load_data()
        self._build()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(120)
        self._refresh_timer.timeout.connect(self.refresh_prompt)
        for sig in (self.draft.sig_changed, self.dialogue_edit.textChanged, self.shot_list.itemChanged,
                    self.special_note.sig_plain_changed):
            sig.connect(self._schedule_refresh)
        self.example_combo.currentIndexChanged.connect(self._example_chosen)
        self.split_combo.currentIndexChanged.connect(self._split_chosen)
        self._split_chosen()

    # data ----------------------------------------------------------------------------------------
    def _load_data(self) -> None:
        from playground.core.evaluation.datasets import load_split
        from playground.core.base.errors import PlaygroundError

        self.data_problem = ""
        for split in ("train", "validation", "test"):
            try:
                self.splits[split] = load_split(split).examples
            except PlaygroundError as exc:
                self.splits[split] = []
                self.data_problem = f"{exc.message} {exc.hint}".strip()
        self.train = self.splits["train"]

    # layout --------------------------------------------------------------------------------------
    def _build(self) -> None:
        src_box = self._build_source_box()
        p_box = self._build_prompt_box()
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 4, 0)
        if self.data_problem:
            lv.addWidget(QLabel(html.escape(self.data_problem)))
        lv.addWidget(src_box, 1)
        lv.addWidget(p_box)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        # Never wider than the column: text wraps at a projector's zoom instead of running off the right.
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        self._left_scroll = scroll
        self._fit_left()
        self.views = QTabWidget()
        self.views.addTab(self._build_run_tab(), "Run")
        self.views.addTab(self._build_compare_tab(), "Compare")
        self.history_view = HistoryView(self.history)
        self.history_view.sig_reopen.connect(self.reopen)
        self.views.addTab(self.history_view, "History")
        from playground.qt.widgets.progress_strip import ProgressStrip

        # One strip for a run and a comparison: which summary is being written, token x of y, time left, Stop.
        self.progress_strip = ProgressStrip("Stop after the current token; the columns already scored stay (Esc).")
        self.progress_strip.attach(self.slot)
        right = QWidget()
        vbox(self.progress_strip, (self.views, 1), parent=right).setContentsMargins(0, 0, 0, 0)
        split = splitter((scroll, 2), (right, 3))
        outer = QVBoxLayout(self)
        from playground.qt.widgets.encoder_notice import EncoderNotice

        self.encoder_notice = EncoderNotice(self.context, "This tab runs prompts for the model to answer")
        self.lesson_label = self.lesson(LESSON)  # the tab's explanation: one place, at the top (issue 28)
        outer.addWidget(self.lesson_label)
        outer.addWidget(self.encoder_notice)
        outer.addWidget(split, 1)
        run_shortcut(self, self.run_single)

    def _fit_left(self) -> None:
        """The controls' column as wide as its widest control needs, so none is cut (again after a zoom)."""
        scroll = self._left_scroll
        need = scroll.widget().minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(need + 2 * scroll.frameWidth())

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if hasattr(self, "_left_scroll"):  # a zoom while another tab was shown: measure again now
            self._fit_left()

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent

        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange and hasattr(self, "_left_scroll"):  # the presenter's zoom
            QTimer.singleShot(0, self._fit_left)

    def _build_source_box(self) -> QGroupBox:
        self.split_combo = QComboBox()
        self.split_combo.addItems(["test", "validation"])
        self.split_combo.setToolTip("Which held-out dialogues to summarize. Worked examples always come "
                                    "from the train split, so the model never sees the answer.")
        self.example_combo = QComboBox()
        self.random_button = button("Random", on_click=self._random_example)
        self.dialogue_edit = QPlainTextEdit()
        self.dialogue_edit.setToolTip("The conversation to summarize. You can paste your own.")
        self.reference_view = QPlainTextEdit()
        self.reference_view.setReadOnly(True)
        # A few lines, scrolling inside itself: a long reference never makes the column scroll.
        self.reference_view.setMaximumHeight(self.reference_view.fontMetrics().lineSpacing() * 4 + 12)
        self.reference_view.setToolTip("The reference summary a person wrote; ROUGE compares the output to it.")
        src = form(("Split", self.split_combo), ("Dialogue", hbox((self.example_combo, 1), self.random_button)))
        src_box = QGroupBox("1. The dialogue")
        vbox(src, (self.dialogue_edit, 1), QLabel("<b>Reference summary</b>"), self.reference_view, parent=src_box)
        return src_box

    def _build_prompt_box(self) -> QGroupBox:
        from playground.core.prompting.prompt_settings import PromptSettings
        from playground.qt.binding import Draft, bind, form_row, persist, widget_for

        # The ``prompt`` section of the settings: every row below is bound to one field of it.
        self.draft = draft = Draft(PromptSettings(), self)
        persist(draft, self.context.settings)
        self.template_combo = QComboBox()
        for t in TEMPLATES.values():
            self.template_combo.addItem(t.label, t.name)
            self.template_combo.setItemData(self.template_combo.count() - 1, t.description, Qt.ItemDataRole.ToolTipRole)
        self.template_combo.addItem("Free template…", FREE)
        self.template_combo.setToolTip(draft.field("template").metadata["help"])
        bind(self.template_combo, draft, "template")
        self.free_edit = widget_for(draft, "free_template")
        self.chat_check = self.chat_template_check(draft.field("use_chat_template").metadata["help"])
        bind(self.chat_check, draft, "use_chat_template")
        self.shots_spin = widget_for(draft, "shots")
        self.seed_spin = widget_for(draft, "seed")
        tokens_label, self.max_tokens = form_row(draft, "generation.max_new_tokens")
        self.max_tokens.setToolTip(self.max_tokens.toolTip() + " Decoding is greedy here, so runs are repeatable "
                                   "and their scores comparable.")
        self.free_edit.setEnabled(draft.value.template == FREE)
        draft.connect_path("template", lambda: self.free_edit.setEnabled(draft.value.template == FREE))
        self.shot_list = QListWidget()
        self.shot_list.setToolTip("Tick examples to choose them by hand (in the order listed); untick all to "
                                  "draw at random.")
        self.shot_list.setMaximumHeight(120)
        self.shot_list.setVisible(False)
        # The hand-picked examples fold away until asked for: the column fits a 1200x800 window.
        self.choose_check = QCheckBox("Choose examples by hand")
        self.choose_check.setToolTip("Show the train examples to tick the ones the prompt shows (otherwise they "
                                     "are drawn at random with the seed).")
        self.choose_check.toggled.connect(self.shot_list.setVisible)
        for ex in self.train:
            item = QListWidgetItem(f"{ex.id} · {ex.topic}")
            item.setData(Qt.ItemDataRole.UserRole, ex.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.shot_list.addItem(item)
        for combo in (self.split_combo, self.example_combo, self.template_combo):
            # Long item texts must not set the column's minimum width (text would be cut at a zoom).
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        label = {name: draft.field(name).metadata["label"] for name in ("template", "free_template", "shots", "seed")}
        rows = form((label["template"], self.template_combo), (label["free_template"], self.free_edit),
                    (label["shots"], self.shots_spin), (label["seed"], self.seed_spin),
                    (tokens_label, self.max_tokens))
        rows.insertRow(2, self.chat_check)  # across both columns: its label is the whole sentence
        for box in (self.shots_spin, self.seed_spin, self.max_tokens):
            # As wide as the numbers they hold (issue 28's compact forms), not the column.
            box.setMaximumWidth(box.fontMetrics().horizontalAdvance("0000000") + 40)
        # The free template's row shows only while "Free template…" is chosen.
        self._prompt_rows = rows
        rows.setRowVisible(self.free_edit, draft.value.template == FREE)
        draft.connect_path("template", lambda: rows.setRowVisible(self.free_edit, draft.value.template == FREE))
        p_box = QGroupBox("2. The prompt")
        vbox(rows, self.choose_check, self.shot_list, parent=p_box)
        return p_box

    def _build_run_tab(self) -> QWidget:
        self.meter = TokenMeter()
        self.meter_label = note_label()
        self.shots_label = note_label("", "The worked examples in the prompt now, from the train split (id · "
                                      "topic).")
        self.fit_button = button("Drop shots to fit", "Use as many examples as fit in the window with room for "
                                 "the answer.", self.drop_shots_to_fit)
        self.fit_button.setVisible(False)
        from playground.qt.widgets.special_tokens_note import SpecialTokensNote

        self.special_note = SpecialTokensNote()  # names special tokens in the dialogue
        self.prompt_edit = QPlainTextEdit()
        self.prompt_edit.setToolTip("The exact text the model will read. Edit it freely; Reset rebuilds it.")
        self.prompt_edit.textChanged.connect(self._prompt_edited)
        self.reset_button = button("Reset prompt", on_click=self.reset_prompt)
        self.copy_button = button("Copy as Python", "Copy a short transformers script that reproduces this "
                                  "prompt and settings.", self.copy_as_python)
        self.notebook_button = button("Export notebook…", "Save a Jupyter notebook that reproduces the comparison "
                                      "(and the other tabs' experiments) with plain transformers and rouge-score.",
                                      self.export_notebook)
        self.run_button = button("Generate  (Ctrl+Enter)", on_click=self.run_single)
        self.stop_button = button("Stop  (Esc)", on_click=self.stop)
        self.stop_button.setEnabled(False)
        self.output_edit = QPlainTextEdit()
        self.output_edit.setReadOnly(True)
        self.output_edit.setPlaceholderText("The model's summary streams here.")
        from playground.qt.widgets.result_header import ResultHeader

        self.result_header = ResultHeader(empty="The output will name the model, prompt and settings that made it.")
        self.score_label = note_label()
        self.message = self.message_line()

        for editor, lines in ((self.prompt_edit, 4), (self.output_edit, 3)):
            flexible_height(editor, lines)
        run_tab = QWidget()
        # Two short rows of buttons, so the column stays narrow enough to sit beside the Labs dock.
        buttons = hbox(self.run_button, self.stop_button, 1)
        extras = hbox(self.reset_button, self.copy_button, self.notebook_button, 1)
        vbox(self.meter, hbox((self.meter_label, 1), self.fit_button), self.shots_label, self.special_note,
             (self.prompt_edit, 3),
             buttons, extras, self.message, QLabel("<b>Output</b>"), self.result_header, (self.output_edit, 2),
             self.score_label, parent=run_tab)
        return run_tab

    def _build_compare_tab(self) -> QWidget:
        self.compare_mode = QComboBox()
        self.compare_mode.addItem("0, 1 and k shots (k = Shots, at least 2)", "shots")
        self.compare_mode.addItem("Every template (at the chosen shots)", "templates")
        self.compare_mode.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.compare_mode.setMinimumContentsLength(16)
        self.compare_button = button("Run comparison", "Run the same dialogue under each prompt, one after "
                                     "another, and score each.", self.run_compare)
        self.compare_view = CompareView()
        from playground.qt.widgets.result_header import ResultHeader

        self.compare_header = ResultHeader(empty="Run the comparison: one column per prompt, each scored with "
                                                 "ROUGE (0–100) against the reference.")
        cmp_tab = QWidget()
        vbox(hbox((self.compare_mode, 1), self.compare_button), self.compare_header, (self.compare_view, 1),
             parent=cmp_tab)
        return cmp_tab

    # the rendered prompt and its tokens -----------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        made_by = getattr(self, "_compare_loaded", None)
        if made_by is not None and made_by is not loaded:
            self.compare_header.mark_stale("another model is in use now; run the comparison again")
        self.encoder_notice.update_for(loaded, "The rendered prompt and its tokens below still work.")
        self.chat_check.setEnabled(loaded.info.has_chat_template and not loaded.is_encoder_decoder)
        if not self.chat_check.isEnabled():
            self.chat_check.setChecked(False)
        self.refresh_prompt()
