"""Step 2: the data. Bundled dialogues or your file, column mapping, template, a preview of the
examples as the model will see them, split sizes and the token-length histogram."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from playground.qt.binding import add_rows, form_row
from playground.qt.widgets.compact_form import cap_width, compact_form_layout
from playground.qt.finetune.data_view import DataLook
from playground.qt.finetune.page import WizardPage
from playground.qt.widgets.make import ask_table_file

LESSON = (
    "<b>Instruction data.</b> Each example is a <i>prompt</i> (an instruction around the conversation, "
    "built with a template) and a <i>completion</i> (the summary a person wrote). The model learns only "
    "on the completion: the loss is computed on the summary's tokens, the prompt's are masked.<br><br>"
    "The data is split three ways: <i>training</i> examples change the weights, <i>validation</i> examples "
    "tell you whether it generalises (their loss should fall too), <i>test</i> examples are kept aside to "
    "score the model before and after.<br><br>"
    "Every example costs compute in proportion to its tokens. The <i>maximum length</i> caps them: longer "
    "conversations are cut (or dropped); a cap far above most examples only wastes memory."
)
BUNDLED, FILE = "bundled", "file"
FREE = "__free__"
#: Settings that change only what a maximum length cuts, not what is read: no new analysis.
LIMITS = ("data.max_length", "data.truncation")


class DataPage(WizardPage):
    title = "Data"
    lesson_text = LESSON

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        self.error: tuple[str, str] | None = None
        self.task = None
        self.stopped = False  # the person stopped the last read: nothing is read until they ask again
        self.file_columns: list[str] = []
        self.look = DataLook()
        self.look.mapping_button.clicked.connect(self.focus_mapping)
        # Reading and tokenizing a big file takes a while: its counts show in the status, with a Stop.
        self.stop_button = QPushButton("Stop reading")
        self.stop_button.setToolTip("Stop reading and tokenizing the data (Esc). Read it again with the same button.")
        self.stop_button.setVisible(False)
        self.stop_button.clicked.connect(self._stop_or_read_again)
        self.look.layout().insertWidget(1, self.stop_button)
        # the parts a person (and a test) looks at
        self.sizes_label, self.problem_label = self.look.sizes_label, self.look.problem_label
        self.mapping_button, self.histogram = self.look.mapping_button, self.look.histogram

        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(self._examples_box())
        left.addWidget(self._template_box())
        left.addStretch(1)
        top.addLayout(left, 2)
        top.addWidget(self.look, 3)
        self.body.addLayout(top)

        self._analyze_timer = QTimer(self)
        self._analyze_timer.setSingleShot(True)
        self._analyze_timer.setInterval(300)
        self._analyze_timer.timeout.connect(self.analyze)
        self.draft.on(("data", "training.seed"), self._draft_changed)
        self._draft_changed("")

    @property
    def preview(self):
        return self.draft.preview

    # --- the form ---------------------------------------------------------------------------------

    def _examples_box(self) -> QGroupBox:
        self.source_combo = QComboBox()
        self.source_combo.addItem("Bundled dialogues (train / validation / test)", BUNDLED)
        self.source_combo.addItem("Your own file…", FILE)
        self.source_combo.setToolTip(self.draft.field("data.source").metadata["help"])
        self.source_combo.currentIndexChanged.connect(self._source_chosen)
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Choose a data file with one example per row.")
        self.open_button.clicked.connect(self.choose_file)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("a .csv, .tsv, .jsonl, .json or .parquet file")
        self.path_edit.editingFinished.connect(self._source_chosen)
        self.dialogue_combo = QComboBox()
        self.dialogue_combo.setToolTip("The column with the text the model reads (the conversation).")
        self.summary_combo = QComboBox()
        self.summary_combo.setToolTip("The column with what the model should learn to write (the summary).")
        for combo in (self.dialogue_combo, self.summary_combo):
            combo.activated.connect(self._mapping_chosen)
        src_row = QHBoxLayout()
        src_row.addWidget(self.source_combo, 1)
        src_row.addWidget(self.open_button)
        form = compact_form_layout()
        form.addRow("Data", src_row)
        form.addRow("File", self.path_edit)
        form.addRow("Dialogue column", self.dialogue_combo)
        form.addRow("Summary column", self.summary_combo)
        rows = add_rows(form, self.draft, "data.validation_fraction", "data.test_fraction")
        self.val_spin, self.test_spin = (cap_width(w) for w in rows.values())
        self.path_edit.setMinimumWidth(300)  # a file's path
        for combo in (self.dialogue_combo, self.summary_combo):
            combo.setMinimumWidth(160)
        box = QGroupBox("Examples")
        box.setLayout(form)
        return box

    def _template_box(self) -> QGroupBox:
        from playground.core.prompting.prompts import TEMPLATES

        self.template_combo = QComboBox()
        for t in TEMPLATES.values():
            self.template_combo.addItem(t.label, t.name)
        self.template_combo.addItem("Your own template…", FREE)
        self.template_combo.setToolTip("How each prompt is worded (the prompt lab's templates). Use the same "
                                       "template when you later ask the fine-tuned model for summaries.")
        self.template_combo.currentIndexChanged.connect(self._template_chosen)
        self.free_edit = QLineEdit()
        self.free_edit.setPlaceholderText("e.g.  Chat:\\n{dialogue}\\nIn short:")
        self.free_edit.setToolTip("{dialogue} marks where the conversation goes; write \\n for a new line.")
        self.free_edit.editingFinished.connect(self._template_chosen)
        _, self.chat_check = form_row(self.draft, "data.use_chat_template")
        form = compact_form_layout()
        form.addRow("Template", self.template_combo)
        form.addRow("Own template", self.free_edit)
        form.addRow(self.chat_check)
        rows = add_rows(form, self.draft, "data.max_length", "data.truncation", "data.max_train_examples",
                        "data.max_validation_examples")
        self.max_spin, self.trunc_combo, self.limit_spin, self.val_limit_spin = (cap_width(w) for w in rows.values())
        self.free_edit.setMinimumWidth(240)
        box = QGroupBox("Prompt template and length")
        box.setLayout(form)
        return box

    # --- widgets -> draft (the fields one bound widget cannot hold) ---------------------------------

    def user_file(self) -> bool:
        return self.source_combo.currentData() == FILE

    def _source_chosen(self, *_) -> None:
        self.draft.set("data.source", self.path_edit.text().strip() if self.user_file() else BUNDLED)
        self._source_mode()

    def _mapping_chosen(self, *_) -> None:
        self.draft.set("data.columns", {"dialogue": self.dialogue_combo.currentText(),
                                        "summary": self.summary_combo.currentText()})

    def _template_chosen(self, *_) -> None:
        free = self.template_combo.currentData() == FREE
        self.free_edit.setEnabled(free)
        self.draft.set("data.template", self.free_edit.text().replace("\\n", "\n") if free
                       else self.template_combo.currentData())

    # --- draft -> widgets, and what a change means ---------------------------------------------------

    def _draft_changed(self, key: str) -> None:
        if key in LIMITS:
            self._show_outcome()
            return
        if key in ("", "data.source"):
            self._show_source()
        if key in ("", "data.template"):
            self._show_template()
        if key in ("", "data.columns"):
            self._show_columns()
        self._settings_changed()

    def _show_source(self) -> None:
        source = self.draft.config.data.source
        for w in (self.source_combo, self.path_edit):
            w.blockSignals(True)
        self.source_combo.setCurrentIndex(0 if source == BUNDLED else 1)
        if source != BUNDLED:
            self.path_edit.setText(source)
        for w in (self.source_combo, self.path_edit):
            w.blockSignals(False)
        self._source_mode()

    def _show_template(self) -> None:
        template = self.draft.config.data.template
        i = self.template_combo.findData(template)
        self.template_combo.blockSignals(True)
        if i < 0:
            self.template_combo.setCurrentIndex(self.template_combo.findData(FREE))
            self.free_edit.setText(template.replace("\n", "\\n"))
        else:
            self.template_combo.setCurrentIndex(i)
        self.template_combo.blockSignals(False)
        self.free_edit.setEnabled(i < 0)

    def _show_columns(self) -> None:
        cols = self.draft.config.data.columns or {}
        for combo, key in ((self.dialogue_combo, "dialogue"), (self.summary_combo, "summary")):
            if cols.get(key) and combo.findText(cols[key]) < 0:
                combo.addItem(cols[key])
            combo.setCurrentText(cols.get(key, ""))

    def _source_mode(self) -> None:
        for w in (self.open_button, self.path_edit, self.dialogue_combo, self.summary_combo, self.val_spin,
                  self.test_spin):
            w.setEnabled(self.user_file())

    def _settings_changed(self) -> None:
        self.draft.preview = None
        if self.task is not None:  # its result (and its column mapping) is out of date now
            self.task.cancel()
            self.task = None
        self._analyze_timer.start()

    def choose_file(self) -> None:
        path = ask_table_file(self, "Choose training data")
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """Use a data file: its columns fill the mapping (guessed from their names)."""
        for combo in (self.dialogue_combo, self.summary_combo):
            combo.clear()
        self.draft.value.data.columns = {"dialogue": "", "summary": ""}  # guessed anew for this file
        self.draft.set("data.source", path)

    def focus_mapping(self) -> None:
        self.dialogue_combo.setFocus()
        self.dialogue_combo.showPopup()

    # --- the step ---------------------------------------------------------------------------------------

    def problem(self) -> str:
        if self.error is not None:
            return f"The data cannot be used yet: {self.error[0]}"
        if self.stopped:
            return "Reading the data was stopped: read it again to go on."
        if self.task is not None or self._analyze_timer.isActive():
            return "The data is still being read: one moment."
        if self.preview is None:
            return "Wait for a model: the data is tokenized with the model's tokenizer."
        if self.preview.sizes(self.draft.config.data.max_length, self.draft.config.data.truncation)["train"] < 1:
            return "No training example is left: raise the maximum length or cut instead of dropping."
        return ""

    def enter(self) -> None:
        if (self.preview is None and self.error is None and self.task is None and not self.stopped
                and not self._analyze_timer.isActive()):  # a read the person stopped waits for them
            self.analyze()

    def on_model_changed(self, loaded) -> None:
        usable = loaded.info.has_chat_template and not loaded.is_encoder_decoder
        self.chat_check.setEnabled(usable)
        if not usable:
            self.draft.set("data.use_chat_template", False)
        self.max_spin.setMaximum(max(16, loaded.info.context_window))
        self._settings_changed()

    # --- analysis (in the background) ------------------------------------------------------------------

    def analyze(self) -> None:
        """Read, split and tokenize the data with the current settings, off the GUI thread."""
        self._analyze_timer.stop()
        loaded = self.context.session.current
        if loaded is None:
            self.look.status("The data is tokenized with the model's tokenizer: waiting for the model.")
            return
        if self.task is not None:
            self.task.cancel()
        self.error = None
        self.look.clear_error()
        user, path = self.user_file(), self.draft.config.data.source
        if user and not path:
            self._show_error("Choose a data file first.", "Click Open… and pick a CSV, JSONL or Parquet file.")
            return
        try:
            cfg = self.draft.validate()
        except Exception as exc:
            from playground.core.base.errors import describe_exception

            self._show_error(*describe_exception(exc))
            return
        self.look.status("Reading and tokenizing the data…")
        self.stopped = False
        self.stop_button.setText("Stop reading")
        self.stop_button.setShortcut("Esc")
        self.stop_button.setVisible(True)
        tok, enc_dec = loaded.tokenizer, loaded.is_encoder_decoder

        def work(handle):
            from playground.core.finetune.preview import read_and_preview

            return read_and_preview(cfg, tok, enc_dec, user, handle)

        # A newer analysis supersedes this one in the slot: its late results are dropped there.
        self.task = self.slot.start("read the training data", work, on_done=self._analyzed,
                                    on_failed=self._analyze_failed, on_finished=self._task_finished,
                                    on_progress=self._reading_progress)

    def _reading_progress(self, fraction, message: str) -> None:
        if message:
            self.look.status(message)  # "Tokenized 12,288 of 200,000 rows…"

    def _stop_or_read_again(self) -> None:
        if self.task is None:
            self.analyze()
            return
        self.task.cancel()
        self.task = None
        self.stopped = True
        self.look.status("Stopped reading the data. Change a setting, or read it again.")
        self.stop_button.setText("Read the data again")
        self.stop_button.setShortcut("")

    def _task_finished(self, task) -> None:
        if self.task is task:
            self.task = None
        if self.task is None and not self.stopped:
            self.stop_button.setVisible(False)

    def _analyze_failed(self, message: str, hint: str) -> None:
        self.task = None
        self._show_error(message, hint)

    def _analyzed(self, result) -> None:
        self.task = None
        columns, mapping, preview, error = result
        if columns:
            self.file_columns = columns
            for combo, key in ((self.dialogue_combo, "dialogue"), (self.summary_combo, "summary")):
                combo.clear()
                combo.addItems(columns)
                if mapping.get(key) in columns:
                    combo.setCurrentText(mapping[key])
            self.draft.value.data.columns = dict(mapping)  # the guess: no new analysis for it
        if error is not None:
            self._show_error(*error)
            return
        self.error = None
        self.look.show_preview(preview, self.draft.config.data.max_length, self.draft.config.data.truncation)
        self.draft.preview = preview

    def _show_error(self, message: str, hint: str) -> None:
        self.error = (message, hint)
        self.draft.preview = None
        self.look.show_error(message, hint, self.user_file(), self.draft.config.data.max_length)

    def _show_outcome(self) -> None:
        if self.preview is not None:
            self.look.show_outcome(self.preview, self.draft.config.data.max_length, self.draft.config.data.truncation)
