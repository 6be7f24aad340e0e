"""The "Change model…" dialog: bundled, local folder, Hugging Face cache or Hub id."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from playground.core.models.sources import ModelSource


class ModelDialog(QDialog):
    """Asks which model to load, on which device, in which precision."""

    def __init__(self, parent: QWidget | None = None, recent_folders: list[str] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Change model")
        self.setMinimumWidth(560)
        layout = QVBoxLayout(self)
        intro = QLabel(
            "A model is a file of learned weights plus a tokenizer. Decoder-only models (GPT, Llama, "
            "SmolLM) continue text; encoder-decoder models (T5, BART) read the whole input, then write "
            "an output. Everything runs on this computer.")
        intro.setWordWrap(True)
        layout.addWidget(intro)

        self.group = QButtonGroup(self)
        self.bundled_radio = QRadioButton("Bundled SmolLM2-135M-Instruct (works offline) · decoder-only: writes text")
        self.encoder_radio = QRadioButton("Bundled all-MiniLM-L6-v2 (works offline) · encoder-only: reads text "
                                          "into vectors, does not generate")
        self.encoder_radio.setToolTip("A BERT-style encoder (6 layers, 12 heads, 22.7M parameters): every token "
                                      "attends to every other. Use it in Inside and Evaluate; it cannot write text.")
        self.local_radio = QRadioButton("A local model folder")
        self.cache_radio = QRadioButton("A model in the Hugging Face cache")
        self.hub_radio = QRadioButton("Download from the Hugging Face Hub (needs internet)")
        for i, r in enumerate((self.bundled_radio, self.local_radio, self.cache_radio, self.hub_radio)):
            self.group.addButton(r, i)
        self.group.addButton(self.encoder_radio, 4)
        self.bundled_radio.setChecked(True)

        self.folder_edit = QLineEdit()
        self.folder_edit.setPlaceholderText("/path/to/model-folder (holds config.json)")
        if recent_folders:
            self.folder_edit.setText(recent_folders[0])
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit)
        folder_row.addWidget(browse)
        self.cache_combo = QComboBox()
        self.cache_combo.setPlaceholderText("(scan the cache)")
        scan = QPushButton("Scan")
        scan.clicked.connect(self._scan_cache)
        cache_row = QHBoxLayout()
        cache_row.addWidget(self.cache_combo, 1)
        cache_row.addWidget(scan)
        self.hub_edit = QLineEdit()
        self.hub_edit.setPlaceholderText("e.g. google/flan-t5-small")

        layout.addWidget(self.bundled_radio)
        layout.addWidget(self.encoder_radio)
        layout.addWidget(self.local_radio)
        layout.addLayout(folder_row)
        layout.addWidget(self.cache_radio)
        layout.addLayout(cache_row)
        layout.addWidget(self.hub_radio)
        layout.addWidget(self.hub_edit)
        self.folder_edit.textEdited.connect(lambda: self.local_radio.setChecked(True))
        self.hub_edit.textEdited.connect(lambda: self.hub_radio.setChecked(True))

        form = QFormLayout()
        self.device_combo = QComboBox()
        self.device_combo.addItems(["auto", "cpu", "cuda", "mps"])
        self.device_combo.setToolTip("auto picks an NVIDIA GPU (CUDA), then an Apple GPU (MPS), then the CPU.")
        self.dtype_combo = QComboBox()
        self.dtype_combo.addItems(["auto", "float32", "float16", "bfloat16"])
        self.dtype_combo.setToolTip("Bytes per weight: float32 = 4, float16/bfloat16 = 2. Lower precision "
                                    "halves memory; bfloat16 keeps float32's range with fewer digits.")
        self.pickle_check = QCheckBox("Allow pickle weights (.bin) — only from sources you trust")
        self.pickle_check.setToolTip("Pickle files can run code when opened. Safetensors files cannot.")
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.dtype_combo)
        layout.addLayout(form)
        layout.addWidget(self.pickle_check)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Load")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Choose a model folder")
        if folder:
            self.folder_edit.setText(folder)
            self.local_radio.setChecked(True)

    def _scan_cache(self) -> None:
        from playground.core.models.sources import list_cached_hub_models

        self.cache_combo.clear()
        found = list_cached_hub_models()
        self.cache_combo.addItems(found)
        self.cache_combo.setPlaceholderText("(no models in the cache)" if not found else "")
        if found:
            self.cache_radio.setChecked(True)

    def choice(self) -> tuple[ModelSource, str, str]:
        """(source, device, dtype) as chosen."""
        allow = self.pickle_check.isChecked()
        if self.local_radio.isChecked():
            source = ModelSource.parse(self.folder_edit.text() or "./", allow)
            source = ModelSource("local", source.ref, allow)
        elif self.cache_radio.isChecked():
            source = ModelSource("cache", self.cache_combo.currentText(), allow)
        elif self.hub_radio.isChecked():
            source = ModelSource("hub", self.hub_edit.text().strip(), allow)
        elif self.encoder_radio.isChecked():
            source = ModelSource("encoder")
        else:
            source = ModelSource("bundled")
        return source, self.device_combo.currentText(), self.dtype_combo.currentText()
