"""The Train step's figures beside the curves: step, epoch, losses, learning rate, speed, time
left and peak memory, each with a tooltip that says what it means."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

from playground.core.finetune.memory import format_bytes

NAMES = {"step": "Step", "epoch": "Epoch", "loss": "Loss", "val": "Validation loss", "lr": "Learning rate",
         "speed": "Tokens/s", "eta": "Time left", "memory": "Peak memory"}
TIPS = {"step": "Optimizer steps done / planned.", "epoch": "Passes over the training examples.",
        "loss": "Training loss of the last step (per summary token).",
        "val": "Validation loss: on examples never trained on.",
        "lr": "The learning rate of the last step (it follows the schedule).",
        "speed": "Real (non-padding) tokens processed per second.",
        "eta": "Training time left, from the time per step so far.",
        "memory": "Peak memory so far: GPU memory allocated, or the whole app's resident memory on a CPU."}


def clock(seconds: float) -> str:
    """m:ss, or h:mm:ss from an hour on."""
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60}:{seconds % 60:02d}"


class TrainingStats(QWidget):
    """Two columns of name: value (narrow enough beside the chart with the Labs dock open). The values
    have a fixed width: numbers changing every step must not move the chart beside them (a resize
    means a full redraw of the figure on the GUI thread)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        self.labels: dict[str, QLabel] = {}
        for i, key in enumerate(NAMES):
            name = QLabel(NAMES[key] + ":")
            value = QLabel("–")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setFixedWidth(value.fontMetrics().horizontalAdvance("0000 / 0000 "))
            for w in (name, value):
                w.setToolTip(TIPS[key])
            grid.addWidget(name, i // 2, (i % 2) * 2)
            grid.addWidget(value, i // 2, (i % 2) * 2 + 1)
            self.labels[key] = value

    def show_step(self, ev) -> None:
        """A StepEvent's figures; the time left from training time only (pauses do not count)."""
        per_step = ev.elapsed_s / max(1, ev.step)
        s = self.labels
        s["step"].setText(f"{ev.step} / {ev.total_steps}")
        s["epoch"].setText(f"{ev.epoch:.2f}")
        s["loss"].setText(f"{ev.loss:.4f}")
        s["lr"].setText(f"{ev.learning_rate:.2e}")
        s["speed"].setText(f"{ev.tokens_per_s:,.0f}")
        s["eta"].setText(clock(per_step * (ev.total_steps - ev.step)))
        s["memory"].setText(format_bytes(ev.peak_memory_bytes))

    def show_validation(self, loss: float) -> None:
        self.labels["val"].setText(f"{loss:.4f}")
