"""The bar above the tabs: which model is loaded, where it runs, in which precision, its size."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from playground.qt.context import AppContext
from playground.qt.widgets.make import show_progress


NO_ADAPTER = "No adapter"
NAME_CHARS = 18  # an adapter's name is cut to this many characters in the bar (whole in the tooltip)


class ModelBar(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        # The app loads a model right after the window paints: "No model loaded" read as a failure
        # for the seconds before the load starts.
        self.name_label = QLabel("Loading the model…")
        self.name_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.name_label.setToolTip("The model every tab uses. A language model predicts the next token "
                                   "from the ones before it.")
        self.details_label = QLabel("")
        # Wrapped, so a long line of details never sets the window's minimum width (at a
        # projector's zoom it would push the window wider than the screen).
        self.details_label.setWordWrap(True)
        self.details_label.setToolTip(
            "Parameters: the number of learned weights. Memory: weights × bytes per weight "
            "(4 for float32, 2 for float16/bfloat16). Context: the most tokens the model can read at once.")
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        # Always there, at one width (disabled while no adapter is attached): attaching one must not
        # make the bar's details wrap onto a second line and push every tab down.
        self.adapter_check = QCheckBox(NO_ADAPTER)
        self.adapter_check.setToolTip(
            "On: every tab uses the fine-tuned model (the base model plus the adapter trained in the Fine-tune "
            "tab). Off: the base model as it was. Flip it to compare the two on the same prompt. "
            "'Use in playground' on a Fine-tune result attaches one.")
        self.adapter_check.setEnabled(False)
        # The room is reserved by a box of fixed width; the check box keeps its natural size inside
        # it (a stretched QCheckBox ignores clicks beside its text).
        self.adapter_box = QWidget()
        box = QHBoxLayout(self.adapter_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.adapter_check)
        box.addStretch(1)
        self._fit_adapter_check()
        self.adapter_check.toggled.connect(self.context.use_adapter)
        self.change_button = QPushButton("Change model…")
        self.change_button.setToolTip("Load the bundled model, a local folder, a model from the "
                                      "Hugging Face cache, or download one from the Hub.")
        layout.addWidget(QLabel("<b>Model:</b>"))
        layout.addWidget(self.name_label)
        layout.addWidget(self.details_label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.adapter_box)
        layout.addWidget(self.change_button)
        context.sig_model_loading.connect(self._on_loading)
        context.sig_model_changed.connect(self._on_changed)
        context.sig_model_load_failed.connect(self._on_failed)
        context.sig_busy.connect(self._on_busy)
        context.sig_adapter_changed.connect(self._on_adapter)
        if context.session.current is not None:  # a bar made after the load still shows it
            self._on_changed(context.session.current)
        if context.session.adapter is not None:  # and the adapter attached before it
            self._on_adapter(context.session.adapter)

    def _fit_adapter_check(self) -> None:
        fm = self.adapter_check.fontMetrics()
        indicator = self.adapter_check.sizeHint().width() - fm.horizontalAdvance(self.adapter_check.text())
        self.adapter_box.setFixedWidth(indicator + fm.horizontalAdvance("Adapter: " + "M" * (NAME_CHARS // 2)
                                                                         + "n" * (NAME_CHARS - NAME_CHARS // 2)))

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent

        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the presenter's zoom
            self._fit_adapter_check()

    def _on_loading(self, name: str) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Loading…")  # the name is in name_label: a 220 px bar cuts it
        self.progress.setToolTip(f"Loading {name}…")
        if self.context.session.current is None:
            self.name_label.setText(f"Loading {name}…")

    def _on_busy(self, message: str, fraction) -> None:
        if not message:
            self.progress.setVisible(False)
            return
        self.progress.setVisible(True)
        show_progress(self.progress, fraction)
        self.progress.setToolTip(message)

    def _on_changed(self, loaded) -> None:
        if self.context.session.adapter is None:
            self._on_adapter(None)
        info = loaded.info
        self.progress.setVisible(False)
        self.name_label.setText(f"<b>{info.name}</b>")
        chat = "chat template" if info.has_chat_template else "no chat template"
        self.details_label.setText(
            f"{info.kind} · {info.parameters / 1e6:,.0f}M parameters · {info.memory_bytes / 2**20:,.0f} MiB · "
            f"{info.device} · {info.dtype} · context {info.context_window:,} tokens · "
            f"vocabulary {info.vocab_size:,} · {chat}")

    def _on_adapter(self, adapted) -> None:
        session = self.context.session
        self.adapter_check.setEnabled(adapted is not None)
        if adapted is not None:
            name = adapted.extras.get("adapter_name") or "fine-tuned"
            short = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
            self.adapter_check.setText(f"Adapter: {short}")
            self.adapter_check.setStatusTip(name)
        else:
            self.adapter_check.setText(NO_ADAPTER)
        self.adapter_check.blockSignals(True)
        self.adapter_check.setChecked(session.adapter_on)
        self.adapter_check.blockSignals(False)

    def _on_failed(self, message: str, hint: str) -> None:
        self.progress.setVisible(False)
        if self.context.session.current is None:
            self.name_label.setText("No model loaded")
