"""Step 1: the model to fine-tune (the app's current model), where it trains, what to expect."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QFormLayout, QGroupBox

from playground.qt.binding import bind, form_row
from playground.qt.widgets.compact_form import compact_form_layout
from playground.qt.finetune.page import WizardPage

LESSON = (
    "<b>Fine-tuning starts from a pre-trained model.</b> Pre-training taught it language from a huge "
    "amount of text; <i>instruction fine-tuning</i> now shows it a few hundred examples of one task "
    "(here: summarizing a conversation) so it learns to do that task on request.<br><br>"
    "Training needs far more memory and compute than generating: each step runs the model forward, "
    "then <i>backward</i> to compute how every trained weight should change. A GPU does this tens of "
    "times faster than a CPU; on a CPU, pick a small model and a parameter-efficient method (LoRA)."
)


class ModelPage(WizardPage):
    title = "Model"
    lesson_text = LESSON

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        self.model_label = self.note("No model is loaded yet: it loads by itself at start, or choose one "
                                     "with <i>Change model…</i> in the bar above.")
        self.device_combo = QComboBox()
        self.device_combo.setToolTip(self.draft.field("model.device").metadata["help"])
        self._fill_devices()
        bind(self.device_combo, self.draft, "model.device")
        precision_label, self.precision_combo = form_row(self.draft, "model.precision")
        self.expect_label = self.note("")
        self.error = self.error_label()
        form = compact_form_layout()
        form.addRow(self.draft.field("model.device").metadata["label"], self.device_combo)
        form.addRow(precision_label, self.precision_combo)
        box = QGroupBox("The model to fine-tune")
        inner = QFormLayout(box)
        inner.addRow(self.model_label)
        where = QGroupBox("Where it trains")
        where.setLayout(form)
        self.body.addWidget(box)
        self.body.addWidget(where)
        self.body.addWidget(self.expect_label)
        self.body.addWidget(self.error)
        self.body.addStretch(1)
        self.draft.on(("model.device",), lambda _key: self._update_expectation())

    def _fill_devices(self, probe: bool = False) -> None:
        """The devices to train on. Asking torch for a GPU imports torch (seconds, more on a busy
        machine): that waits until the page is first shown, so building the tabs stays quick."""
        names = {"cuda": "GPU (CUDA)", "cpu": "CPU"}
        if probe:
            from playground.core.models.device import available_devices

            devices = [d for d in available_devices() if d in names]
        else:
            devices = ["cpu"]
        self._devices_probed = probe
        combo = self.device_combo
        combo.blockSignals(True)  # refilling is not the person choosing: the draft keeps its value
        try:
            combo.clear()
            combo.addItem("auto", "auto")
            for dev in devices:
                combo.addItem(names[dev], dev)
            combo.setCurrentIndex(max(0, combo.findData(self.draft.get("model.device"))))
        finally:
            combo.blockSignals(False)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._devices_probed:
            self._fill_devices(probe=True)

    def problem(self) -> str:
        loaded = self.context.session.current
        if loaded is None:
            return "Wait for the model to load (or choose one with Change model… above)."
        if loaded.info.kind == "encoder-only":
            return f"{loaded.info.name} is an encoder-only model: it cannot write summaries. Choose another model."
        if self.draft.config.model.precision == "fp16" and self.training_device() == "cpu":
            return "fp16 training needs a GPU: choose bf16 or float32 on the CPU."
        return ""

    def training_device(self) -> str:
        dev = self.draft.config.model.device
        if dev == "auto":
            from playground.core.models.device import available_devices

            return "cuda" if "cuda" in available_devices() else "cpu"
        return dev

    def on_model_changed(self, loaded) -> None:
        info = loaded.info
        src = loaded.source
        where = "bundled with the app" if src.kind == "bundled" else (info.folder or src.ref)
        self.model_label.setText(
            f"<b>{info.name}</b> — {info.kind}, {info.architecture}<br>"
            f"{info.parameters:,} parameters ({info.parameters / 1e6:,.0f}M), {info.num_layers} layers, "
            f"{info.num_heads} attention heads, a {info.vocab_size:,}-token vocabulary, context "
            f"{info.context_window:,} tokens.<br><small>From: {where}. To fine-tune another model, load it "
            f"with <i>Change model…</i> in the bar above.</small>")
        self._update_expectation()

    def _update_expectation(self) -> None:
        loaded = self.context.session.current
        if loaded is None:
            self.expect_label.setText("")
            return
        millions = loaded.info.parameters / 1e6
        device = self.training_device()
        if device == "cuda":
            import torch

            name = torch.cuda.get_device_name(0)
            text = (f"Training on the GPU <b>{name}</b>. A model of {millions:,.0f}M parameters trains an "
                    "epoch of a few hundred dialogues in about a minute or less with LoRA.")
        else:
            import os

            cores = os.cpu_count() or 1
            minutes = "a few minutes" if millions < 200 else ("tens of minutes" if millions < 1000 else "hours")
            text = (f"Training on the <b>CPU</b> ({cores} cores). With LoRA, a model of {millions:,.0f}M "
                    f"parameters takes {minutes} per epoch of a few hundred short dialogues; full fine-tuning "
                    "takes longer and needs about four times the weights' memory. The Method step measures "
                    "the speed on this computer.")
        self.expect_label.setText(text)
