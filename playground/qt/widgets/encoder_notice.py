"""A line a tab shows while an encoder-only model is loaded: what it cannot do there, with a
button that switches back to the bundled decoder."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from playground.core.models.loading import ENCODER_ONLY


class EncoderNotice(QWidget):
    """Hidden unless ``update_for`` gets an encoder-only model."""

    def __init__(self, context, what: str, parent=None) -> None:
        super().__init__(parent)
        self.context = context
        self.what = what  # e.g. "This tab generates text"
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setStyleSheet("QLabel { background: #fff4d6; color: #5a4500; padding: 6px; border-radius: 4px; }")
        self.switch_button = QPushButton("Switch to the bundled decoder (SmolLM2)")
        self.switch_button.setToolTip("Load the bundled SmolLM2-135M-Instruct, a decoder-only model that generates text.")
        self.switch_button.clicked.connect(self.switch_back)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.switch_button)
        self.hide()

    def update_for(self, loaded, extra: str = "") -> bool:
        """Show the notice for an encoder-only model; returns whether it is shown."""
        encoder = loaded is not None and loaded.info.kind == ENCODER_ONLY
        if encoder:
            self.label.setText(f"<b>{loaded.info.name} is an encoder-only model: it does not generate text.</b> "
                               f"{self.what}, which needs a decoder. It reads a whole text at once (every token "
                               f"sees every other) and turns it into vectors: see Inside, and Evaluate's "
                               f"embedding similarity.{(' ' + extra) if extra else ''}")
        self.setVisible(encoder)
        return encoder

    def switch_back(self) -> None:
        from playground.core.models.sources import ModelSource

        self.context.load_model(ModelSource("bundled"))
