"""Step 2: the data. Bundled dialogues or your file, column mapping, template, a preview of the
examples as the model will see them, split sizes and the token-length histogram."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTextBrowser,
    QVBoxLayout,
)

from playground.qt.finetune.charts import LengthHistogram
from playground.qt.finetune.page import WizardPage, get_path, set_path

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
SHOW_LINES = 12


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:SHOW_LINES])
    return shown + (f" … (+{len(lines) - SHOW_LINES} more)" if len(lines) > SHOW_LINES else "")


class DataPage(WizardPage):
    title = "Data"
    lesson_text = LESSON

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        from playground.core.prompts import TEMPLATES

        self.preview = None       # DataPreview of the current settings
        self.error: tuple[str, str] | None = None
        self.task = None
        self.file_columns: list[str] = []

        # source and mapping -------------------------------------------------------------------
        self.source_combo = QComboBox()
        self.source_combo.addItem("Bundled dialogues (train / validation / test)", BUNDLED)
        self.source_combo.addItem("Your own file…", FILE)
        self.source_combo.setToolTip("The bundled dataset: everyday conversations, each with a summary written "
                                     "by a person, already split. Or your CSV, TSV, JSONL, JSON or Parquet file.")
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Choose a data file with one example per row.")
        self.open_button.clicked.connect(self.choose_file)
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("a .csv, .tsv, .jsonl, .json or .parquet file")
        self.path_edit.editingFinished.connect(self._source_changed)
        self.dialogue_combo = QComboBox()
        self.dialogue_combo.setToolTip("The column with the text the model reads (the conversation).")
        self.summary_combo = QComboBox()
        self.summary_combo.setToolTip("The column with what the model should learn to write (the summary).")
        self.val_spin = QDoubleSpinBox()
        self.test_spin = QDoubleSpinBox()
        for spin, what in ((self.val_spin, "validation"), (self.test_spin, "test")):
            spin.setRange(0.0, 0.5)
            spin.setSingleStep(0.05)
            spin.setDecimals(2)
            spin.setToolTip(f"Share of your file held out as the {what} split (the bundled data is already split).")
        src_row = QHBoxLayout()
        src_row.addWidget(self.source_combo, 1)
        src_row.addWidget(self.open_button)
        form = QFormLayout()
        form.addRow("Data", src_row)
        form.addRow("File", self.path_edit)
        form.addRow("Dialogue column", self.dialogue_combo)
        form.addRow("Summary column", self.summary_combo)
        form.addRow("Validation share", self.val_spin)
        form.addRow("Test share", self.test_spin)
        data_box = QGroupBox("Examples")
        data_box.setLayout(form)

        # template and length --------------------------------------------------------------------
        self.template_combo = QComboBox()
        for t in TEMPLATES.values():
            self.template_combo.addItem(t.label, t.name)
        self.template_combo.addItem("Your own template…", FREE)
        self.template_combo.setToolTip("How each prompt is worded (the prompt lab's templates). Use the same "
                                       "template when you later ask the fine-tuned model for summaries.")
        self.free_edit = QLineEdit()
        self.free_edit.setPlaceholderText("e.g.  Chat:\\n{dialogue}\\nIn short:")
        self.free_edit.setToolTip("{dialogue} marks where the conversation goes; write \\n for a new line.")
        self.chat_check = QCheckBox("Wrap prompts in the model's chat template")
        self.chat_check.setToolTip("Instruction-tuned chat models expect their own format (roles, special "
                                   "tokens). Train with it if you will prompt the model that way.")
        self.max_spin = QSpinBox()
        self.max_spin.setRange(16, 32768)
        self.max_spin.setSingleStep(32)
        self.max_spin.setToolTip("The most tokens per example (prompt + summary). Memory and time grow with it.")
        self.trunc_combo = QComboBox()
        self.trunc_combo.addItem("Cut the conversation to fit", "truncate_dialogue")
        self.trunc_combo.addItem("Drop the example", "drop")
        self.trunc_combo.setToolTip("What happens to a longer example: its conversation is shortened (the "
                                    "instruction and the summary stay whole), or it is left out.")
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(0, 1_000_000)
        self.limit_spin.setSpecialValueText("all")
        self.limit_spin.setToolTip("Train on only the first N training examples (all: every one). Fewer "
                                   "examples train faster and teach less.")
        self.val_limit_spin = QSpinBox()
        self.val_limit_spin.setRange(0, 1_000_000)
        self.val_limit_spin.setSpecialValueText("all")
        self.val_limit_spin.setToolTip("Measure the validation loss on only the first N validation examples "
                                       "(all: every one). Each measurement is a pass over them.")
        tform = QFormLayout()
        tform.addRow("Template", self.template_combo)
        tform.addRow("Own template", self.free_edit)
        tform.addRow(self.chat_check)
        tform.addRow("Maximum length", self.max_spin)
        tform.addRow("Longer examples", self.trunc_combo)
        tform.addRow("Training examples", self.limit_spin)
        tform.addRow("Validation examples", self.val_limit_spin)
        tbox = QGroupBox("Prompt template and length")
        tbox.setLayout(tform)

        # what the data looks like -----------------------------------------------------------------
        self.status_label = self.note("")
        self.problem_label = self.error_label()
        for label in (self.status_label, self.problem_label):  # no blank gap while they have nothing to say
            label.setVisible(False)
        self.mapping_button = QPushButton("Change the column mapping")
        self.mapping_button.setToolTip("Pick which columns hold the conversation and the summary.")
        self.mapping_button.clicked.connect(self.focus_mapping)
        self.mapping_button.setVisible(False)
        self.sizes_label = self.note("")
        self.histogram = LengthHistogram()
        self.histogram.setToolTip("How long the training examples are, in tokens. The red line is the maximum: "
                                  "examples to its right are cut or dropped.")
        self.preview_view = QTextBrowser()
        self.preview_view.setMinimumHeight(220)
        self.preview_view.setToolTip("The first training examples as the model sees them. Grey: the prompt "
                                     "(no loss). Highlighted: the completion the model learns to write.")
        look = QGroupBox("What the model will see")
        lv = QVBoxLayout(look)
        lv.addWidget(self.status_label)
        lv.addWidget(self.problem_label)
        lv.addWidget(self.mapping_button)
        lv.addWidget(self.sizes_label)
        lv.addWidget(self.histogram)
        lv.addWidget(self.preview_view, 1)

        top = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(data_box)
        left.addWidget(tbox)
        left.addStretch(1)
        top.addLayout(left, 2)
        top.addWidget(look, 3)
        self.body.addLayout(top)

        self._analyze_timer = QTimer(self)
        self._analyze_timer.setSingleShot(True)
        self._analyze_timer.setInterval(300)
        self._analyze_timer.timeout.connect(self.analyze)
        self.source_combo.currentIndexChanged.connect(self._source_changed)
        for sig in (self.dialogue_combo.activated, self.summary_combo.activated, self.template_combo.currentIndexChanged,
                    self.free_edit.editingFinished, self.chat_check.toggled, self.val_spin.valueChanged,
                    self.test_spin.valueChanged, self.limit_spin.valueChanged, self.val_limit_spin.valueChanged):
            sig.connect(self._settings_changed)
        self.max_spin.valueChanged.connect(self._limits_changed)
        self.trunc_combo.currentIndexChanged.connect(self._limits_changed)
        self.template_combo.currentIndexChanged.connect(self._template_mode)

    # --- job ------------------------------------------------------------------------------------------

    @staticmethod
    def _say(label, text: str) -> None:
        label.setText(text)
        label.setVisible(bool(text))

    def load(self, job: dict) -> None:
        widgets = [self.source_combo, self.dialogue_combo, self.summary_combo, self.template_combo, self.free_edit,
                   self.chat_check, self.max_spin, self.trunc_combo, self.limit_spin, self.val_limit_spin,
                   self.val_spin, self.test_spin,
                   self.path_edit]
        for w in widgets:
            w.blockSignals(True)
        source = get_path(job, "data.source", "bundled")
        self.source_combo.setCurrentIndex(0 if source == "bundled" else 1)
        self.path_edit.setText("" if source == "bundled" else source)
        cols = get_path(job, "data.columns", {}) or {}
        for combo, key in ((self.dialogue_combo, "dialogue"), (self.summary_combo, "summary")):
            combo.clear()
            if cols.get(key):
                combo.addItem(cols[key])
        template = get_path(job, "data.template", "instruction")
        i = self.template_combo.findData(template)
        if i < 0:
            self.template_combo.setCurrentIndex(self.template_combo.findData(FREE))
            self.free_edit.setText(template.replace("\n", "\\n"))
        else:
            self.template_combo.setCurrentIndex(i)
        self.chat_check.setChecked(bool(get_path(job, "data.use_chat_template", False)))
        self.max_spin.setValue(int(get_path(job, "data.max_length", 512)))
        self.trunc_combo.setCurrentIndex(max(0, self.trunc_combo.findData(get_path(job, "data.truncation"))))
        self.limit_spin.setValue(int(get_path(job, "data.max_train_examples", 0)))
        self.val_limit_spin.setValue(int(get_path(job, "data.max_validation_examples", 0)))
        self.val_spin.setValue(float(get_path(job, "data.validation_fraction", 0.1)))
        self.test_spin.setValue(float(get_path(job, "data.test_fraction", 0.1)))
        for w in widgets:
            w.blockSignals(False)
        self._template_mode()
        self._source_mode()
        self.preview = None
        self._analyze_timer.start()

    def store(self, job: dict) -> None:
        user = self.source_combo.currentData() == FILE
        set_path(job, "data.source", self.path_edit.text().strip() if user else "bundled")
        if user:
            set_path(job, "data.columns", {"dialogue": self.dialogue_combo.currentText(),
                                           "summary": self.summary_combo.currentText()})
        set_path(job, "data.template", self.template())
        set_path(job, "data.use_chat_template", self.chat_check.isChecked() and self.chat_check.isEnabled())
        set_path(job, "data.max_length", self.max_spin.value())
        set_path(job, "data.truncation", self.trunc_combo.currentData())
        set_path(job, "data.max_train_examples", self.limit_spin.value())
        set_path(job, "data.max_validation_examples", self.val_limit_spin.value())
        set_path(job, "data.validation_fraction", round(self.val_spin.value(), 4))
        set_path(job, "data.test_fraction", round(self.test_spin.value(), 4))

    def template(self) -> str:
        if self.template_combo.currentData() == FREE:
            return self.free_edit.text().replace("\\n", "\n")
        return self.template_combo.currentData()

    def problem(self) -> str:
        if self.error is not None:
            return f"The data cannot be used yet: {self.error[0]}"
        if self.task is not None or self._analyze_timer.isActive():
            return "The data is still being read: one moment."
        if self.preview is None:
            return "Wait for a model: the data is tokenized with the model's tokenizer."
        sizes = self.preview.sizes(self.max_spin.value(), self.trunc_combo.currentData())
        if sizes["train"] < 1:
            return "No training example is left: raise the maximum length or cut instead of dropping."
        return ""

    def enter(self) -> None:
        if self.preview is None and self.error is None and self.task is None and not self._analyze_timer.isActive():
            self.analyze()

    def on_model_changed(self, loaded) -> None:
        usable = loaded.info.has_chat_template and not loaded.is_encoder_decoder
        self.chat_check.setEnabled(usable)
        self.max_spin.setMaximum(max(16, loaded.info.context_window))
        self.preview = None
        self._analyze_timer.start()

    # --- reacting --------------------------------------------------------------------------------------

    def _template_mode(self) -> None:
        self.free_edit.setEnabled(self.template_combo.currentData() == FREE)

    def _source_mode(self) -> None:
        user = self.source_combo.currentData() == FILE
        for w in (self.open_button, self.path_edit, self.dialogue_combo, self.summary_combo, self.val_spin,
                  self.test_spin):
            w.setEnabled(user)

    def _source_changed(self) -> None:
        self._source_mode()
        self._settings_changed()

    def _settings_changed(self, *_) -> None:
        self.preview = None
        if self.task is not None:  # its result (and its column mapping) is out of date now
            self.task.cancel()
            self.task = None
        self._analyze_timer.start()
        self.sig_changed.emit()

    def _limits_changed(self, *_) -> None:
        self._show_outcome()
        self.sig_changed.emit()

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose training data", "",
                                              "Tables (*.csv *.tsv *.jsonl *.json *.parquet)")
        if path:
            self.open_file(path)

    def open_file(self, path: str) -> None:
        """Use a data file: its columns fill the mapping (guessed from their names)."""
        self.source_combo.blockSignals(True)
        self.source_combo.setCurrentIndex(1)
        self.source_combo.blockSignals(False)
        self.path_edit.setText(path)
        for combo in (self.dialogue_combo, self.summary_combo):
            combo.clear()
        self._source_mode()
        self._settings_changed()

    def focus_mapping(self) -> None:
        self.dialogue_combo.setFocus()
        self.dialogue_combo.showPopup()

    # --- analysis (in the background) ------------------------------------------------------------------

    def analyze(self) -> None:
        """Read, split and tokenize the data with the current settings, off the GUI thread."""
        from playground.qt.finetune.jobs import job_config

        self._analyze_timer.stop()
        loaded = self.context.session.current
        if loaded is None:
            self._say(self.status_label, "The data is tokenized with the model's tokenizer: waiting for the model.")
            return
        if self.task is not None:
            self.task.cancel()
        job = self.wizard.collect()
        self.error = None
        self._say(self.problem_label, "")
        self.mapping_button.setVisible(False)
        user = self.source_combo.currentData() == FILE
        path = self.path_edit.text().strip()
        if user and not path:
            self._show_error("Choose a data file first.", "Click Open… and pick a CSV, JSONL or Parquet file.")
            return
        try:
            cfg = job_config(job)
        except Exception as exc:
            from playground.core.errors import describe_exception

            self._show_error(*describe_exception(exc))
            return
        self._say(self.status_label, "Reading and tokenizing the data…")
        tok, enc_dec = loaded.tokenizer, loaded.is_encoder_decoder

        def work(handle):
            from playground.core.datasets import guess_columns, read_rows
            from playground.core.errors import InputError
            from playground.core.finetune.preview import preview_data

            columns = []
            if user:
                columns, _, _ = read_rows(path)
                guess = guess_columns(columns)
                cols = cfg.data.columns
                if cols.get("dialogue") not in columns and guess[0]:
                    cols["dialogue"] = guess[0]
                if cols.get("summary") not in columns and guess[1]:
                    cols["summary"] = guess[1]
            try:
                return columns, cfg.data.columns, preview_data(cfg.data, tok, enc_dec, cfg.training.seed,
                                                               handle=handle), None
            except InputError as exc:
                return columns, cfg.data.columns, None, (exc.message, exc.hint)

        # A newer analysis supersedes this one in the slot: its late results are dropped there.
        self.task = self.slot.start("read the training data", work, on_done=self._analyzed,
                                    on_failed=self._analyze_failed, on_finished=self._task_finished)

    def _task_finished(self, task) -> None:
        if self.task is task:
            self.task = None

    def _analyze_failed(self, message: str, hint: str) -> None:
        self.task = None
        self._show_error(message, hint)

    def _analyzed(self, result) -> None:
        self.task = None
        columns, mapping, preview, error = result
        if columns:
            self.file_columns = columns
            for combo, key in ((self.dialogue_combo, "dialogue"), (self.summary_combo, "summary")):
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(columns)
                if mapping.get(key) in columns:
                    combo.setCurrentText(mapping[key])
                combo.blockSignals(False)
            self.wizard.job["data"]["columns"] = dict(mapping)
        if error is not None:
            self._show_error(*error)
            return
        self.preview = preview
        self.error = None
        self.histogram.setVisible(True)
        self.preview_view.setVisible(True)
        self._say(self.status_label, "")
        self.histogram.set_lengths(preview.splits["train"].lengths, self.max_spin.value())
        self._show_outcome()
        self._show_samples()
        self.sig_changed.emit()

    def _show_error(self, message: str, hint: str) -> None:
        self.error = (message, hint)
        self.preview = None
        self._say(self.status_label, "")
        self.sizes_label.setText("")
        self.preview_view.clear()
        self.histogram.set_lengths([], self.max_spin.value())
        self.histogram.setVisible(False)  # nothing to show until the data can be read
        self.preview_view.setVisible(False)
        self._say(self.problem_label, f"<b>{html.escape(message)}</b><br>{html.escape(hint)}")
        column_trouble = "column" in message.lower() or "same column" in message.lower()
        self.mapping_button.setVisible(self.source_combo.currentData() == FILE and column_trouble)

    def _show_outcome(self) -> None:
        """Split sizes, and the rows a maximum length and policy would cut or drop (by line)."""
        p = self.preview
        if p is None:
            return
        max_len, policy = self.max_spin.value(), self.trunc_combo.currentData()
        self.histogram.set_max(max_len)
        sizes = p.sizes(max_len, policy)
        parts = [f"<b>{sizes[s]}</b> {s}" for s in ("train", "validation", "test")]
        text = "Examples: " + " · ".join(parts) + "."
        notes = []
        name = Path(p.splits["train"].source).name
        for split, sp in p.splits.items():
            if sp.empty_lines:
                notes.append(f"{len(sp.empty_lines)} empty row(s) skipped in {html.escape(sp.source)}: "
                             f"line(s) {_lines(sp.empty_lines)}")
        out = p.splits["train"].outcome(max_len, policy, p.encoder_decoder)
        if out["truncated"]:
            notes.append(f"{len(out['truncated'])} training example(s) longer than {max_len} tokens will have "
                         f"their conversation cut: line(s) {_lines(out['truncated'])}")
        if out["dropped"]:
            notes.append(f"{len(out['dropped'])} training example(s) longer than {max_len} tokens will be "
                         f"left out: line(s) {_lines(out['dropped'])}")
        lengths = p.splits["train"].lengths
        if lengths:
            ordered = sorted(lengths)
            text += (f" Tokens per training example: median {ordered[len(ordered) // 2]}, "
                     f"longest {ordered[-1]}, {sum(min(n, max_len) for n in lengths):,} in all.")
        if notes:
            text += "<br><small>" + "<br>".join(notes) + "</small>"
        self.sizes_label.setText(text)
        self.sizes_label.setToolTip(f"Rows are counted in {name}, line numbers as in the file.")

    def _show_samples(self) -> None:
        if self.preview is None:
            return
        blocks = []
        for s in self.preview.samples:
            prompt = html.escape(s["prompt"]).replace("\n", "<br>")
            completion = html.escape(s["completion"]).replace("\n", "<br>")
            blocks.append(
                f"<p><small>line {s['line']} · prompt {s['prompt_tokens']} tokens · completion "
                f"{s['completion_tokens']} tokens</small><br><span style='color:#777777'>{prompt}</span>"
                f"<span style='background-color:#d7ecd0; color:#000000'>{completion}</span></p>")
        self.preview_view.setHtml("<hr>".join(blocks) or "<i>No training examples.</i>")
