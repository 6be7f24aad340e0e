"""Step 3: the method (LoRA, prompt tuning, full fine-tuning) and its settings, what share of the
weights it trains, what memory it needs (the explainer) and how long an epoch takes here."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout

from playground.core.finetune.methods import METHOD_FACTS
from playground.core.finetune.memory import ModelShape, trainable_parameters
from playground.qt.finetune.draft import MEASURED, PREVIEW
from playground.qt.finetune.memory_view import MemoryExplainer
from playground.qt.finetune.method_forms import lora_box, method_choice, parse_targets, prompt_box, training_box
from playground.qt.finetune.page import WizardPage
from playground.qt.finetune.speed_view import SpeedEstimate

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
#: Below this size the Method step measures the training speed as soon as it is shown.
AUTO_MEASURE_PARAMETERS = 400_000_000
#: What the numbers on this page depend on.
INPUTS = ("method", "training", "data.max_length", "data.truncation", "model", PREVIEW)


class MethodPage(WizardPage):
    title = "Method"
    lesson_text = LESSON

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        self.shape: ModelShape | None = None
        self.targets: list[str] = []
        self._all_linear = None
        self._model_for_names = None
        draft = self.draft
        mrow, self.method_buttons = method_choice(draft)
        self.share_label = self.note("")
        self.share_label.setToolTip("Trainable parameters: the weights the optimizer changes. The rest stay frozen.")
        self.lora_box, lora, self.targets_label = lora_box(draft)
        self.rank_spin, self.targets_edit = lora["method.lora.rank"], lora["method.lora.target_modules"]
        self.prompt_box, prompt = prompt_box(draft)
        self.vt_spin = prompt["method.prompt_tuning.virtual_tokens"]
        self.full_note = self.note("<i>Every weight learns: no settings beyond the training ones. Expect a "
                                   "lower learning rate and about four times the weights' memory.</i>")
        self.settings_boxes = {"lora": self.lora_box, "prompt_tuning": self.prompt_box, "full": self.full_note}
        train_box, rows, self.lr_edit, self.ckpt_check, self.steps_label = training_box(draft)
        (self.epochs_spin, self.max_steps_spin, self.batch_spin, self.accum_spin, self.schedule_combo,
         self.warmup_spin) = rows.values()
        self.speed_view = SpeedEstimate(self.slot)
        self.time_label, self.measure_button = self.speed_view.label, self.speed_view.button
        self.measure_button.clicked.connect(self.measure_speed)
        self.explainer = MemoryExplainer()
        self.explainer.int8_button.clicked.connect(self.measure_int8)
        self._lay_out(mrow, train_box)

        self._update_timer = QTimer(self)
        self._update_timer.setSingleShot(True)
        self._update_timer.setInterval(100)
        self._update_timer.timeout.connect(self.update_numbers)
        draft.on(INPUTS, self._job_changed)
        draft.on((MEASURED,), lambda _key: draft.measured and self.explainer.set_measured(*draft.measured))
        self._show_method_settings()

    def _lay_out(self, method_row, train_box) -> None:
        left = QVBoxLayout()
        left.addLayout(method_row)
        for w in (self.share_label, *self.settings_boxes.values(), train_box):
            left.addWidget(w)
        left.addStretch(1)
        right = QVBoxLayout()
        right.addWidget(self.speed_view)
        right.addWidget(self.explainer, 1)
        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addLayout(right, 3)
        self.body.addLayout(top)

    @property
    def method(self) -> str:
        return self.draft.config.method.name

    def measure_int8(self) -> None:
        """The INT8 bar's measured figure: the loaded model's weights converted (a copy, off the GUI thread)."""
        loaded = self.context.session.base
        if loaded is None:
            self.explainer.caption.setText("Load a model first: the INT8 figure is measured on it.")
            return
        model = loaded.model

        def work(handle):
            from playground.core.lifecycle.precision import measured_weight_bytes

            handle.report(None, "Converting a copy of the weights to INT8...")
            return measured_weight_bytes(model, "int8")

        self.slot.start("Measuring the INT8 weights", work, on_done=self.explainer.set_measured_int8)

    @property
    def facts(self):
        return METHOD_FACTS.get(self.method, METHOD_FACTS["lora"])

    @property
    def speed(self):
        return self.speed_view.speed

    def problem(self) -> str:
        lr = self.draft.config.training.learning_rate
        if lr != "auto" and (isinstance(lr, str) or lr <= 0):
            return f"The learning rate '{self.lr_edit.text()}' is not a positive number (or 'auto')."
        if self.facts.adapts_layers and self.draft.config.method.lora.target_modules != "auto" \
                and self.shape is not None:
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
        if small and self.draft.preview is not None and not self.draft.busy \
                and not self.speed_view.current(self._speed_inputs()):
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
        self.speed_view.speed = None
        self._update_timer.start()

    @staticmethod
    def _base_model(loaded):
        model = loaded.model
        return model.get_base_model() if hasattr(model, "get_base_model") else model

    def _linear_names(self) -> list[str]:
        if self._all_linear is None:
            from playground.core.finetune.methods import _linear_leaf_names

            self._all_linear = _linear_leaf_names(self._model_for_names)
        return self._all_linear

    def _chosen_targets(self) -> list[str]:
        chosen = parse_targets(self.targets_edit.text())
        return list(self.targets) if chosen == "auto" else chosen

    def _show_method_settings(self) -> None:
        for name, box in self.settings_boxes.items():
            box.setVisible(name == self.method)

    def _job_changed(self, key: str) -> None:
        if key in ("", "method.name"):
            self._show_method_settings()
        self._update_timer.start()

    def train_examples(self) -> int:
        """Training examples left after the maximum length (0 before the data is read)."""
        p = self.draft.preview
        return p.sizes(self.draft.config.data.max_length, self.draft.config.data.truncation)["train"] if p else 0

    def update_numbers(self) -> None:
        """Trainable share, optimizer steps, the memory explainer's inputs and the time estimate."""
        self._update_timer.stop()
        self._show_steps()
        if self.shape is None:
            self.share_label.setText("Load a model to see how many weights each method trains.")
            return
        self._show_share()
        preview, max_len = self.draft.preview, self.draft.config.data.max_length
        seq, loss_tokens = max_len, None
        if preview is not None and preview.splits["train"].lengths:
            lengths = sorted(min(n, max_len) for n in preview.splits["train"].lengths)
            seq = lengths[-1]  # a micro-batch pads to its longest example; the longest sets the peak
            comp = sorted(preview.splits["train"].completion_tokens)
            loss_tokens = comp[-1] if comp else None
        d = self.draft
        self.explainer.set_training(method=self.method, batch_size=d.config.training.micro_batch_size, seq_len=seq,
                                    lora_rank=d.config.method.lora.rank,
                                    virtual_tokens=d.config.method.prompt_tuning.virtual_tokens,
                                    gradient_checkpointing=d.config.training.gradient_checkpointing,
                                    loss_tokens=loss_tokens)
        self.speed_view.show(self.epoch_tokens(), d.config.training.epochs, self._speed_inputs())

    def _show_steps(self) -> None:
        from playground.core.finetune.batching import describe_steps

        if self.draft.preview is None:
            self.steps_label.setText("<small>The number of optimizer steps appears once the data is read.</small>")
            return
        self.steps_label.setText(f"<small>{describe_steps(self.draft.config.training, self.train_examples())}"
                                 "</small>")

    def _show_share(self) -> None:
        shape, facts = self.shape, self.facts
        if facts.adapts_layers and [lin.name for lin in shape.lora_layers] != self._chosen_targets():
            shape = ModelShape.from_model(self._model_for_names, [t for t in self._chosen_targets()
                                                                  if t in self._linear_names()])
            self.shape = shape
            self.explainer.set_model(shape)
        trained = trainable_parameters(shape, self.method, self.draft.config.method.lora.rank,
                                       self.draft.config.method.prompt_tuning.virtual_tokens)
        total = shape.parameters + (0 if facts.trains_all else trained)
        share = trained / max(1, total)
        text = (f"{facts.label} trains <b>{share:{facts.share_format}}</b> of the weights: {trained:,} of {total:,} "
                "parameters.")
        if facts.adapts_layers:
            where = (f"{shape.lora_modules} layers in all" if shape.lora_modules
                     else f"in each of {shape.num_layers + shape.num_decoder_layers} blocks")
            text += (f"<br><small>Adapted layers: {', '.join(lin.name for lin in shape.lora_layers) or 'none'} "
                     f"({where}).</small>")
            self.targets_label.setText(f"<small>Detected for this model: {', '.join(self.targets)}</small>")
        self.share_label.setText(text)

    # --- time per epoch -------------------------------------------------------------------------------

    def _speed_inputs(self):
        d = self.draft
        return tuple(d.get(k) for k in ("method.name", "training.micro_batch_size", "training.gradient_checkpointing",
                                        "data.max_length", "model.device", "model.precision", "method.lora.rank",
                                        "method.prompt_tuning.virtual_tokens"))

    def epoch_tokens(self) -> int:
        preview = self.draft.preview
        if preview is None:
            return 0
        max_len = self.draft.config.data.max_length
        return sum(min(n, max_len) for n in preview.splits["train"].lengths)

    def measure_speed(self) -> None:
        loaded = self.context.session.current
        if loaded is None or self.speed_view.task is not None:
            return
        try:
            cfg = self.draft.validate()
        except Exception as exc:
            from playground.core.base.errors import describe_exception

            self.speed_view.fail(*describe_exception(exc))
            return
        self.speed_view.measure(self.context.session.base or loaded, cfg, self.epoch_tokens(), self._speed_inputs(),
                                then=self.update_numbers)
