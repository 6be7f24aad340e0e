"""The Method step's forms, each row made from its config field (label, range, help) and bound to
the job draft: the method choice, LoRA's and prompt tuning's settings, and the training settings
with the number of optimizer steps they give."""

from __future__ import annotations

from PySide6.QtWidgets import QButtonGroup, QFormLayout, QGroupBox, QHBoxLayout, QRadioButton

from playground.core.finetune.methods import METHOD_FACTS
from playground.qt.binding import Draft, add_rows, form_row
from playground.qt.widgets.compact_form import cap_width, compact_form_layout
from playground.qt.finetune.page import WizardPage


def parse_rate(text: str):
    """What the learning-rate box holds: "auto", a number, or the text as typed (validate refuses it)."""
    text = str(text).strip().lower()
    if text in ("", "auto"):
        return "auto"
    try:
        return float(text)
    except ValueError:
        return text


def show_rate(value) -> str:
    return f"{value:g}" if isinstance(value, (int, float)) else str(value)


def parse_targets(text: str):
    text = str(text).strip()
    if text in ("", "auto"):
        return "auto"
    return [t.strip() for t in text.split(",") if t.strip()]


def show_targets(value) -> str:
    return "" if value == "auto" else ", ".join(value) if isinstance(value, list) else str(value)


def method_choice(draft: Draft) -> tuple[QHBoxLayout, dict[str, QRadioButton]]:
    """One radio button per method (the facts table's order), kept in step with ``method.name``."""
    group = QButtonGroup(draft)
    buttons = {}
    row = QHBoxLayout()
    for name, facts in METHOD_FACTS.items():
        b = QRadioButton(facts.label)
        b.setToolTip(facts.tip)
        b.toggled.connect(lambda on, n=name: on and draft.set("method.name", n))
        group.addButton(b)
        buttons[name] = b
        row.addWidget(b)
    row.addStretch(1)

    def show(_key: str = "") -> None:
        b = buttons.get(draft.get("method.name"))
        if b is not None and not b.isChecked():
            b.setChecked(True)

    draft.connect_path("method.name", show)
    show()
    return row, buttons


def _box(title: str, form: QFormLayout) -> QGroupBox:
    box = QGroupBox(title)
    box.setLayout(form)
    return box


#: LoRA's rows, each made from its field in core/finetune/config.py (a new option: its field, and its name here).
LORA_ROWS = ("method.lora.rank", "method.lora.alpha", "method.lora.dropout")
PROMPT_TUNING_ROWS = ("method.prompt_tuning.virtual_tokens", "method.prompt_tuning.init",
                      "method.prompt_tuning.init_text")


def lora_box(draft: Draft):
    """(box, widgets by path, detected-layers label); the layers row reads a comma-separated list."""
    form = compact_form_layout()
    rows = add_rows(form, draft, *LORA_ROWS)
    for widget in rows.values():
        cap_width(widget)
    label, targets = form_row(draft, "method.lora.target_modules", parse=parse_targets, fmt=show_targets)
    form.addRow(label, targets)
    rows["method.lora.target_modules"] = targets
    detected = WizardPage.note("")
    form.addRow(detected)
    return _box("LoRA settings", form), rows, detected


def prompt_box(draft: Draft):
    """(box, widgets by path)."""
    form = compact_form_layout()
    rows = add_rows(form, draft, *PROMPT_TUNING_ROWS)
    for path, widget in rows.items():
        if not path.endswith("init_text"):  # a sentence keeps the form's width
            cap_width(widget)
    return _box("Prompt tuning settings", form), rows


TRAINING_ROWS = ("training.epochs", "training.max_steps", "training.micro_batch_size",
                 "training.gradient_accumulation_steps", "training.schedule", "training.warmup_ratio")


def training_box(draft: Draft):
    """(box, widgets by path, learning-rate edit, checkpointing box, steps label)."""
    form = compact_form_layout()
    rows = add_rows(form, draft, *TRAINING_ROWS)
    for widget in rows.values():
        cap_width(widget)
    label, rate = form_row(draft, "training.learning_rate", parse=parse_rate, fmt=show_rate)
    rate.setMaximumWidth(120)
    form.insertRow(2, label, rate)
    _, checkpointing = form_row(draft, "training.gradient_checkpointing")
    form.addRow(checkpointing)
    steps = WizardPage.note("")
    steps.setToolTip("An optimizer step adds up the gradients of micro-batch × accumulation examples, then "
                     "changes the weights once. The loss curve has one point per step.")
    form.addRow(steps)
    return _box("Training", form), rows, rate, checkpointing, steps
