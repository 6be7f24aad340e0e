"""The Method step's time estimate: a few real training steps timed on a copy of the model give
tokens per second, and so the time per epoch on this computer."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from playground.qt.finetune.page import WizardPage


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class SpeedEstimate(QWidget):
    """The sentence on time per epoch and the Measure speed button; runs through the page's slot."""

    def __init__(self, slot, parent=None) -> None:
        super().__init__(parent)
        self.slot = slot
        self.speed = None        # the last TrainingSpeed measured
        self.key = None          # the settings it was measured with
        self.task = None
        self.label = WizardPage.note("")
        self.button = QPushButton("Measure speed")
        self.button.setToolTip("Time a few real training steps on a copy of the model to estimate the "
                               "time per epoch on this computer.")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)

    def current(self, key) -> bool:
        return self.speed is not None and self.key == key

    def show(self, tokens: int, epochs: float, key) -> None:
        if self.task is not None:
            return
        if not self.current(key):
            self.label.setText(f"One epoch: {tokens:,} training tokens. <i>Measure speed</i> times a few "
                               "steps here to estimate how long that takes." if tokens else
                               "The time per epoch appears once the data is read.")
            return
        sp = self.speed
        seconds = tokens / max(1e-9, sp.tokens_per_s)
        self.label.setText(
            f"About <b>{duration(seconds)} per epoch</b> ({tokens:,} tokens at {sp.tokens_per_s:,.0f} tokens/s "
            f"measured on {sp.device}); {epochs:g} epoch(s) ≈ {duration(seconds * epochs)}, plus scoring the "
            "test dialogues before and after.")

    def fail(self, message: str, hint: str = "") -> None:
        self.label.setText(f"<span style='color:#b00020'>The speed could not be measured: {message}</span> {hint}")

    def measure(self, base, cfg, tokens: int, key, then) -> None:
        """Time a few steps of ``cfg`` on a copy of ``base``; ``then()`` once the new figure is in."""
        if self.task is not None:
            return

        def work(handle):
            from playground.core.finetune.speed import measure_training_speed

            return measure_training_speed(base, cfg, tokens, handle=handle)

        def done(speed) -> None:
            self.speed, self.key, self.task = speed, key, None
            then()

        def finished(_task) -> None:
            self.task = None
            self.button.setEnabled(True)

        self.button.setEnabled(False)
        self.label.setText("Timing a few training steps on a copy of the model…")
        self.task = self.slot.start("measure training speed", work, on_done=done, on_failed=self.fail,
                                    on_finished=finished)
