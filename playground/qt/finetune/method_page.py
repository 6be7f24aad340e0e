"""Step 3: the method (LoRA, prompt tuning, full fine-tuning) and its settings, what share of the
weights it trains, what memory it needs (the explainer) and how long an epoch takes here."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
)

from playground.core.memory import METHOD_LABELS, ModelShape, trainable_parameters
from playground.qt.finetune.memory_view import MemoryExplainer
from playground.qt.finetune.page import WizardPage, get_path, set_path

LESSON = (
    "<b>How much of the model learns?</b> <i>Full fine-tuning</i> updates every weight: the most "
    "capacity, and the most memory (a gradient and two optimizer numbers per weight). It can also make "
    "the model forget what it knew (<i>catastrophic forgetting</i>).<br><br>"
    "<i>Parameter-efficient fine-tuning</i> (PEFT) freezes the model. <i>LoRA</i> adds two thin matrices "
    "beside chosen layers (their product, of low <i>rank</i>, is the change to the weight) and trains only "
    "those: often under 1% of the weights, a few MB to save, and the base model stays as it was. "
    "<i>Prompt tuning</i> trains only a few 'virtual token' embeddings put in front of every prompt: a "
    "soft prompt the model reads.<br><br>"
    "The memory chart shows where training memory goes. Activations grow with batch size and sequence "
    "length for every method; PEFT saves the gradients and optimizer states."
)
METHOD_TIPS = {
    "lora": "LoRA: two small matrices A (rank × in) and B (out × rank) beside each adapted layer; the layer "
            "computes W·x + (alpha/rank)·B·A·x. Only A and B learn.",
    "prompt_tuning": "Prompt tuning: a few learned vectors (virtual tokens) are put before every prompt. The "
                     "model itself does not change.",
    "full": "Full fine-tuning: every weight learns. Needs about four times the weights' memory plus activations.",
}


#: Below this size the Method step measures the training speed as soon as it is shown.
AUTO_MEASURE_PARAMETERS = 400_000_000


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class MethodPage(WizardPage):
    title = "Method"
    lesson_text = LESSON

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        self.shape: ModelShape | None = None
        self.targets: list[str] = []
        self.speed = None
        self.speed_key = None
        self.speed_task = None

        # method --------------------------------------------------------------------------------
        self.method_group = QButtonGroup(self)
        self.method_buttons = {}
        mrow = QHBoxLayout()
        for name in ("lora", "prompt_tuning", "full"):
            b = QRadioButton(METHOD_LABELS[name])
            b.setToolTip(METHOD_TIPS[name])
            self.method_group.addButton(b)
            self.method_buttons[name] = b
            mrow.addWidget(b)
        mrow.addStretch(1)
        self.share_label = self.note("")
        self.share_label.setToolTip("Trainable parameters: the weights the optimizer changes. The rest stay frozen.")

        self.rank_spin = QSpinBox()
        self.rank_spin.setRange(1, 512)
        self.rank_spin.setToolTip("Rank r: the width of the two LoRA matrices. Higher learns more, costs more "
                                  "(parameters grow in proportion).")
        self.alpha_spin = QSpinBox()
        self.alpha_spin.setRange(1, 1024)
        self.alpha_spin.setToolTip("Alpha: the LoRA update is scaled by alpha / rank. 2 × rank is a common choice.")
        self.dropout_spin = QDoubleSpinBox()
        self.dropout_spin.setRange(0.0, 0.9)
        self.dropout_spin.setSingleStep(0.05)
        self.dropout_spin.setToolTip("Dropout on the LoRA input while training: a little randomness against "
                                     "overfitting a small dataset.")
        self.targets_edit = QLineEdit()
        self.targets_edit.setPlaceholderText("auto")
        self.targets_edit.setToolTip("Which layers get LoRA matrices, by name (comma separated). 'auto': the "
                                     "attention projections detected for this architecture.")
        self.targets_label = self.note("")
        lform = QFormLayout()
        lform.addRow("Rank", self.rank_spin)
        lform.addRow("Alpha", self.alpha_spin)
        lform.addRow("Dropout", self.dropout_spin)
        lform.addRow("Layers", self.targets_edit)
        lform.addRow(self.targets_label)
        self.lora_box = QGroupBox("LoRA settings")
        self.lora_box.setLayout(lform)

        self.vt_spin = QSpinBox()
        self.vt_spin.setRange(1, 512)
        self.vt_spin.setToolTip("Virtual tokens: how many learned vectors make the soft prompt. Each one also "
                                "makes every sequence a token longer.")
        self.init_combo = QComboBox()
        self.init_combo.addItem("From the words below", "text")
        self.init_combo.addItem("Random", "random")
        self.init_combo.setToolTip("Where the soft prompt starts: the embeddings of real words (learns faster) "
                                   "or random vectors.")
        self.init_edit = QLineEdit()
        self.init_edit.setToolTip("The words whose embeddings start the soft prompt.")
        pform = QFormLayout()
        pform.addRow("Virtual tokens", self.vt_spin)
        pform.addRow("Start from", self.init_combo)
        pform.addRow("Words", self.init_edit)
        self.prompt_box = QGroupBox("Prompt tuning settings")
        self.prompt_box.setLayout(pform)
        self.full_note = self.note("<i>Every weight learns: no settings beyond the training ones. Expect a "
                                   "lower learning rate and about four times the weights' memory.</i>")

        # training ------------------------------------------------------------------------------------
        self.epochs_spin = QDoubleSpinBox()
        self.epochs_spin.setRange(0.05, 100)
        self.epochs_spin.setSingleStep(0.5)
        self.epochs_spin.setToolTip("Epochs: how many times the training examples are seen. A fraction trains "
                                    "on part of them.")
        self.lr_edit = QLineEdit()
        self.lr_edit.setToolTip("Learning rate: the size of each update. 'auto' uses a rate that suits the "
                                "method (3e-4 for LoRA, 3e-5 full, 3e-2 prompt tuning).")
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, 256)
        self.batch_spin.setToolTip("Micro-batch: examples per forward pass. Activation memory grows with it; "
                                   "on a CPU, 1 is usually fastest.")
        self.accum_spin = QSpinBox()
        self.accum_spin.setRange(1, 1024)
        self.accum_spin.setToolTip("Gradient accumulation: micro-batches whose gradients add up before one "
                                   "update. Effective batch = micro-batch × accumulation, at no extra memory.")
        self.schedule_combo = QComboBox()
        for value, label in (("cosine", "cosine"), ("linear", "linear"), ("constant", "constant")):
            self.schedule_combo.addItem(label, value)
        self.schedule_combo.setToolTip("How the learning rate changes: it warms up, then decays (cosine or "
                                       "linear) or stays constant.")
        self.warmup_spin = QDoubleSpinBox()
        self.warmup_spin.setRange(0.0, 0.5)
        self.warmup_spin.setSingleStep(0.05)
        self.warmup_spin.setToolTip("Share of the steps spent raising the learning rate from 0 (gentle start).")
        self.ckpt_check = QCheckBox("Gradient checkpointing")
        self.ckpt_check.setToolTip("Recompute activations during the backward pass instead of keeping them: "
                                   "much less memory, about a third slower.")
        tform = QFormLayout()
        tform.addRow("Epochs", self.epochs_spin)
        tform.addRow("Learning rate", self.lr_edit)
        tform.addRow("Micro-batch", self.batch_spin)
        tform.addRow("Accumulation", self.accum_spin)
        tform.addRow("Schedule", self.schedule_combo)
        tform.addRow("Warm-up share", self.warmup_spin)
        tform.addRow(self.ckpt_check)
        train_box = QGroupBox("Training")
        train_box.setLayout(tform)

        self.time_label = self.note("")
        self.measure_button = QPushButton("Measure speed")
        self.measure_button.setToolTip("Time a few real training steps on a copy of the model to estimate the "
                                       "time per epoch on this computer.")
        self.measure_button.clicked.connect(self.measure_speed)
        time_row = QHBoxLayout()
        time_row.addWidget(self.time_label, 1)
        time_row.addWidget(self.measure_button)

        self.explainer = MemoryExplainer()

        left = QVBoxLayout()
        left.addLayout(mrow)
        left.addWidget(self.share_label)
        left.addWidget(self.lora_box)
        left.addWidget(self.prompt_box)
        left.addWidget(self.full_note)
        left.addWidget(train_box)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addLayout(time_row)
        right.addWidget(self.explainer, 1)
        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addLayout(right, 3)
        self.body.addLayout(top)

        self._update_timer = QTimer(self)
        self._update_timer.setSingleShot(True)
        self._update_timer.setInterval(100)
        self._update_timer.timeout.connect(self.update_numbers)
        self.method_group.buttonToggled.connect(lambda *_: self._changed())
        for sig in (self.rank_spin.valueChanged, self.alpha_spin.valueChanged, self.dropout_spin.valueChanged,
                    self.targets_edit.editingFinished, self.vt_spin.valueChanged, self.init_combo.currentIndexChanged,
                    self.init_edit.editingFinished, self.epochs_spin.valueChanged, self.lr_edit.editingFinished,
                    self.batch_spin.valueChanged, self.accum_spin.valueChanged, self.schedule_combo.currentIndexChanged,
                    self.warmup_spin.valueChanged, self.ckpt_check.toggled):
            sig.connect(lambda *_: self._changed())

    # --- job -----------------------------------------------------------------------------------------

    @property
    def method(self) -> str:
        for name, b in self.method_buttons.items():
            if b.isChecked():
                return name
        return "lora"

    def load(self, job: dict) -> None:
        self.blockSignals(True)
        self.method_buttons.get(get_path(job, "method.name", "lora"), self.method_buttons["lora"]).setChecked(True)
        self.rank_spin.setValue(int(get_path(job, "method.lora.rank", 8)))
        self.alpha_spin.setValue(int(get_path(job, "method.lora.alpha", 16)))
        self.dropout_spin.setValue(float(get_path(job, "method.lora.dropout", 0.05)))
        targets = get_path(job, "method.lora.target_modules", "auto")
        self.targets_edit.setText("" if targets == "auto" else ", ".join(targets) if isinstance(targets, list)
                                  else str(targets))
        self.vt_spin.setValue(int(get_path(job, "method.prompt_tuning.virtual_tokens", 20)))
        self.init_combo.setCurrentIndex(max(0, self.init_combo.findData(get_path(job, "method.prompt_tuning.init"))))
        self.init_edit.setText(str(get_path(job, "method.prompt_tuning.init_text", "")))
        self.epochs_spin.setValue(float(get_path(job, "training.epochs", 1.0)))
        lr = get_path(job, "training.learning_rate", "auto")
        self.lr_edit.setText("auto" if lr == "auto" else f"{float(lr):g}")
        self.batch_spin.setValue(int(get_path(job, "training.micro_batch_size", 1)))
        self.accum_spin.setValue(int(get_path(job, "training.gradient_accumulation_steps", 8)))
        self.schedule_combo.setCurrentIndex(max(0, self.schedule_combo.findData(get_path(job, "training.schedule"))))
        self.warmup_spin.setValue(float(get_path(job, "training.warmup_ratio", 0.05)))
        self.ckpt_check.setChecked(bool(get_path(job, "training.gradient_checkpointing", False)))
        self.blockSignals(False)
        self._show_method_settings()
        self._update_timer.start()

    def store(self, job: dict) -> None:
        set_path(job, "method.name", self.method)
        set_path(job, "method.lora.rank", self.rank_spin.value())
        set_path(job, "method.lora.alpha", self.alpha_spin.value())
        set_path(job, "method.lora.dropout", round(self.dropout_spin.value(), 4))
        text = self.targets_edit.text().strip()
        set_path(job, "method.lora.target_modules",
                 "auto" if text in ("", "auto") else [t.strip() for t in text.split(",") if t.strip()])
        set_path(job, "method.prompt_tuning.virtual_tokens", self.vt_spin.value())
        set_path(job, "method.prompt_tuning.init", self.init_combo.currentData())
        set_path(job, "method.prompt_tuning.init_text", self.init_edit.text())
        set_path(job, "training.epochs", round(self.epochs_spin.value(), 4))
        set_path(job, "training.learning_rate", self.learning_rate_value())
        set_path(job, "training.micro_batch_size", self.batch_spin.value())
        set_path(job, "training.gradient_accumulation_steps", self.accum_spin.value())
        set_path(job, "training.schedule", self.schedule_combo.currentData())
        set_path(job, "training.warmup_ratio", round(self.warmup_spin.value(), 4))
        set_path(job, "training.gradient_checkpointing", self.ckpt_check.isChecked())

    def learning_rate_value(self):
        text = self.lr_edit.text().strip().lower()
        if text in ("", "auto"):
            return "auto"
        try:
            value = float(text)
        except ValueError:
            return text  # problem() reports it
        return value

    def problem(self) -> str:
        lr = self.learning_rate_value()
        if lr != "auto" and (isinstance(lr, str) or lr <= 0):
            return f"The learning rate '{self.lr_edit.text()}' is not a positive number (or 'auto')."
        if self.method == "lora" and self.targets_edit.text().strip() not in ("", "auto") and self.shape is not None:
            missing = [t for t in self._chosen_targets() if t not in self._linear_names()]
            if missing:
                return (f"This model has no layer called {', '.join(missing)}. Its linear layers: "
                        f"{', '.join(self._linear_names())}.")
        return ""

    def enter(self) -> None:
        self.update_numbers()
        # Time a few steps by itself for models small enough to copy in a moment; bigger ones wait
        # for the button (the copy costs their size in memory).
        loaded = self.context.session.base
        small = loaded is not None and loaded.info.parameters < AUTO_MEASURE_PARAMETERS
        if small and self.wizard.data_page.preview is not None and not self.wizard.train_page.busy \
                and (self.speed is None or self.speed_key != self._speed_inputs()):
            self.measure_speed()

    # --- numbers ------------------------------------------------------------------------------------------

    def on_model_changed(self, loaded) -> None:
        from playground.core.finetune.methods import detect_lora_targets

        base = self._base_model(loaded)
        self.targets = detect_lora_targets(base)
        self._all_linear = None
        self._model_for_names = base
        self.shape = ModelShape.from_model(base, self._chosen_targets())
        self.explainer.set_model(self.shape)
        self.speed = None
        self._update_timer.start()

    @staticmethod
    def _base_model(loaded):
        model = loaded.model
        return model.get_base_model() if hasattr(model, "get_base_model") else model

    def _linear_names(self) -> list[str]:
        if getattr(self, "_all_linear", None) is None:
            from playground.core.finetune.methods import _linear_leaf_names

            self._all_linear = _linear_leaf_names(self._model_for_names)
        return self._all_linear

    def _chosen_targets(self) -> list[str]:
        text = self.targets_edit.text().strip()
        if text in ("", "auto"):
            return list(self.targets)
        return [t.strip() for t in text.split(",") if t.strip()]

    def _show_method_settings(self) -> None:
        m = self.method
        self.lora_box.setVisible(m == "lora")
        self.prompt_box.setVisible(m == "prompt_tuning")
        self.full_note.setVisible(m == "full")

    def _changed(self) -> None:
        self._show_method_settings()
        self._update_timer.start()
        self.sig_changed.emit()

    def job_changed(self) -> None:
        """Another page changed the job (e.g. the maximum length): follow it."""
        self._update_timer.start()

    def update_numbers(self) -> None:
        """Trainable share, the memory explainer's inputs and the time estimate."""
        self._update_timer.stop()
        if self.shape is None:
            self.share_label.setText("Load a model to see how many weights each method trains.")
            return
        shape = self.shape
        if self.method == "lora" and [lin.name for lin in shape.lora_layers] != self._chosen_targets():
            shape = ModelShape.from_model(self._model_for_names, [t for t in self._chosen_targets()
                                                                  if t in self._linear_names()])
            self.shape = shape
            self.explainer.set_model(shape)
        trained = trainable_parameters(shape, self.method, self.rank_spin.value(), self.vt_spin.value())
        total = shape.parameters + (0 if self.method == "full" else trained)
        share = trained / max(1, total)
        what = {"lora": f"LoRA trains <b>{share:.2%}</b> of the weights",
                "prompt_tuning": f"Prompt tuning trains <b>{share:.4%}</b> of the weights",
                "full": "Full fine-tuning trains <b>100%</b> of the weights"}[self.method]
        text = f"{what}: {trained:,} of {total:,} parameters."
        if self.method == "lora":
            layers = shape.num_layers + shape.num_decoder_layers
            text += (f"<br><small>Adapted layers: {', '.join(lin.name for lin in shape.lora_layers) or 'none'} "
                     f"in each of {layers} blocks.</small>")
            self.targets_label.setText(f"<small>Detected for this model: {', '.join(self.targets)}</small>")
        self.share_label.setText(text)
        preview = self.wizard.data_page.preview
        max_len = int(get_path(self.wizard.job, "data.max_length", 512))
        seq, loss_tokens = max_len, None
        if preview is not None and preview.splits["train"].lengths:
            lengths = sorted(min(n, max_len) for n in preview.splits["train"].lengths)
            seq = lengths[-1]  # a micro-batch pads to its longest example; the longest sets the peak
            comp = sorted(preview.splits["train"].completion_tokens)
            loss_tokens = comp[-1] if comp else None
        self.explainer.set_training(method=self.method, batch_size=self.batch_spin.value(), seq_len=seq,
                                    lora_rank=self.rank_spin.value(), virtual_tokens=self.vt_spin.value(),
                                    gradient_checkpointing=self.ckpt_check.isChecked(), loss_tokens=loss_tokens)
        self._show_time()

    # --- time per epoch -------------------------------------------------------------------------------

    def _speed_inputs(self):
        job = self.wizard.job
        return (self.method, self.batch_spin.value(), self.ckpt_check.isChecked(), get_path(job, "data.max_length"),
                get_path(job, "model.device"), get_path(job, "model.precision"), self.rank_spin.value(),
                self.vt_spin.value())

    def epoch_tokens(self) -> int:
        preview = self.wizard.data_page.preview
        if preview is None:
            return 0
        max_len = int(get_path(self.wizard.job, "data.max_length", 512))
        return sum(min(n, max_len) for n in preview.splits["train"].lengths)

    def _show_time(self) -> None:
        if self.speed_task is not None:
            return
        tokens = self.epoch_tokens()
        if self.speed is None or self.speed_key != self._speed_inputs():
            self.time_label.setText(f"One epoch: {tokens:,} training tokens. <i>Measure speed</i> times a few "
                                    "steps here to estimate how long that takes." if tokens else
                                    "The time per epoch appears once the data is read.")
            return
        sp = self.speed
        seconds = tokens / max(1e-9, sp.tokens_per_s)
        epochs = self.epochs_spin.value()
        self.time_label.setText(
            f"About <b>{_duration(seconds)} per epoch</b> ({tokens:,} tokens at {sp.tokens_per_s:,.0f} tokens/s "
            f"measured on {sp.device}); {epochs:g} epoch(s) ≈ {_duration(seconds * epochs)}, plus scoring the "
            "test dialogues before and after.")

    def measure_speed(self) -> None:
        from playground.qt.finetune.jobs import job_config

        loaded = self.context.session.current
        if loaded is None or self.speed_task is not None:
            return
        try:
            cfg = job_config(self.wizard.collect())
        except Exception as exc:
            from playground.core.errors import describe_exception

            self.time_label.setText("<span style='color:#b00020'>%s</span>" % describe_exception(exc)[0])
            return
        tokens = self.epoch_tokens()
        key = self._speed_inputs()
        base = self.context.session.base or loaded

        def work(handle):
            from playground.core.finetune.speed import measure_training_speed

            return measure_training_speed(base, cfg, tokens, handle=handle)

        self.measure_button.setEnabled(False)
        self.time_label.setText("Timing a few training steps on a copy of the model…")
        self.speed_task = self.slot.start(
            "measure training speed", work, on_done=lambda sp: self._speed_done(sp, key),
            on_failed=lambda m, h: self.time_label.setText(
                f"<span style='color:#b00020'>The speed could not be measured: {m}</span> {h}"),
            on_finished=self._speed_finished)

    def _speed_done(self, speed, key) -> None:
        self.speed, self.speed_key = speed, key
        self.speed_task = None
        self._show_time()

    def _speed_finished(self, task) -> None:
        self.speed_task = None
        self.measure_button.setEnabled(True)
