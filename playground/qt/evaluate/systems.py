"""One row per system to compare: zero-shot, k-shot, a saved adapter, or a predictions file."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from playground.core.base.errors import InputError
from playground.core.evaluation.run import ADAPTER, FILE, K_SHOT, ZERO_SHOT, SystemSpec

KIND_LABELS = [(ZERO_SHOT, "Zero-shot"), (K_SHOT, "k-shot"), (ADAPTER, "Saved adapter"), (FILE, "Predictions file")]
KIND_TIPS = {
    ZERO_SHOT: "The current model, asked to summarize with no example: just the instruction and the dialogue.",
    K_SHOT: "The current model with k worked examples (dialogue + summary) from the train split before the "
            "dialogue: in-context learning. Examples take context space and time.",
    ADAPTER: "The current model with a saved adapter (a folder with adapter_config.json, e.g. a LoRA from "
             "the Fine-tune tab), loaded on a copy so other tabs keep the plain model.",
    FILE: "Outputs someone already made (another model, a person…): one column of a CSV, JSONL or Parquet "
          "file, matched by its 'id' column, else by row order.",
}


class SystemRow(QWidget):
    """Controls for one system. ``spec()`` turns them into a SystemSpec (or raises InputError)."""

    sig_changed = Signal()
    """the row's settings changed"""

    def __init__(self, number: int, kind: str = ZERO_SHOT, enabled: bool = False, parent=None) -> None:
        super().__init__(parent)
        self.number = number
        self.enabled_check = QCheckBox(f"{number}")
        self.enabled_check.setChecked(enabled)
        self.enabled_check.setToolTip("Include this system in the comparison.")
        self.kind_combo = QComboBox()
        for key, label in KIND_LABELS:
            self.kind_combo.addItem(label, key)
            self.kind_combo.setItemData(self.kind_combo.count() - 1, KIND_TIPS[key], 3)  # 3 = ToolTipRole
        self.kind_combo.setCurrentIndex([k for k, _ in KIND_LABELS].index(kind))
        self.shots_spin = QSpinBox()
        self.shots_spin.setRange(1, 8)
        self.shots_spin.setValue(2)
        self.shots_spin.setSuffix(" shots")
        self.shots_spin.setToolTip("How many worked examples the prompt shows before the dialogue.")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("folder or file…")
        self.browse_button = QPushButton("…")
        self.browse_button.setMaximumWidth(30)
        self.browse_button.clicked.connect(self.browse)
        self.column_combo = QComboBox()
        self.column_combo.setToolTip("The column of the file that holds the predictions.")
        self.column_combo.setMinimumContentsLength(4)
        self.column_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.path_edit.setMinimumWidth(60)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for w in (self.enabled_check, self.kind_combo, self.shots_spin, self.path_edit, self.browse_button,
                  self.column_combo):
            layout.addWidget(w)
        layout.setStretchFactor(self.path_edit, 1)
        layout.addStretch(0)
        self.kind_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.kind_combo.currentIndexChanged.connect(self._update)
        self.enabled_check.toggled.connect(self._update)
        self.path_edit.editingFinished.connect(self._path_changed)
        self.shots_spin.valueChanged.connect(self.sig_changed)
        self.column_combo.currentIndexChanged.connect(self.sig_changed)
        self._update()

    @property
    def kind(self) -> str:
        return self.kind_combo.currentData()

    def is_enabled(self) -> bool:
        return self.enabled_check.isChecked()

    def state(self) -> dict:
        """The row as the record ``EvaluateSettings.systems`` keeps (a file's column is read again)."""
        return {"kind": self.kind, "enabled": self.is_enabled(), "shots": self.shots_spin.value(),
                "path": self.path_edit.text().strip()}

    def show_state(self, item: dict) -> bool:
        """Put a kept record back; one that no longer fits (an unknown kind) is skipped (False)."""
        kinds = [k for k, _ in KIND_LABELS]
        if not isinstance(item, dict) or item.get("kind") not in kinds:
            return False
        self.kind_combo.setCurrentIndex(kinds.index(item["kind"]))
        if isinstance(item.get("shots"), int):
            self.shots_spin.setValue(item["shots"])
        if isinstance(item.get("path"), str) and item["path"]:
            self.set_path(item["path"])
        self.enabled_check.setChecked(bool(item.get("enabled")))
        return True

    def _update(self) -> None:
        kind = self.kind
        on = self.is_enabled()
        self.kind_combo.setToolTip(KIND_TIPS[kind])
        self.shots_spin.setVisible(kind == K_SHOT)
        self.path_edit.setVisible(kind in (ADAPTER, FILE))
        self.browse_button.setVisible(kind in (ADAPTER, FILE))
        self.column_combo.setVisible(kind == FILE)
        self.path_edit.setPlaceholderText("adapter folder…" if kind == ADAPTER else "predictions file…")
        for w in (self.kind_combo, self.shots_spin, self.path_edit, self.browse_button, self.column_combo):
            w.setEnabled(on)
        self.sig_changed.emit()

    def browse(self) -> None:
        if self.kind == ADAPTER:
            path = QFileDialog.getExistingDirectory(self, "Choose an adapter folder")
        else:
            path, _ = QFileDialog.getOpenFileName(self, "Choose a predictions file", "",
                                                  "Tables (*.csv *.tsv *.jsonl *.json *.parquet)")
        if path:
            self.set_path(path)

    def set_path(self, path: str) -> None:
        """Use this adapter folder or predictions file (a file's columns fill the column list)."""
        self.path_edit.setText(path)
        self._path_changed()

    def _path_changed(self) -> None:
        if self.kind == FILE and self.path_edit.text().strip():
            from playground.core.evaluation.datasets import read_records

            self.column_combo.clear()
            try:
                columns, _ = read_records(self.path_edit.text().strip())
            except InputError as exc:
                self.column_combo.setToolTip(str(exc))
                return
            self.column_combo.addItems(columns)
            for guess in ("prediction", "predictions", "output", "summary", "generated"):
                if guess in columns:
                    self.column_combo.setCurrentText(guess)
                    break
        self.sig_changed.emit()

    def spec(self) -> SystemSpec:
        kind = self.kind
        if kind == K_SHOT:
            return SystemSpec(K_SHOT, shots=self.shots_spin.value())
        if kind == ADAPTER:
            path = self.path_edit.text().strip()
            if not path:
                raise InputError(f"System {self.number}: choose the adapter folder.", "Click '…' beside it.")
            return SystemSpec(ADAPTER, adapter_dir=path)
        if kind == FILE:
            path = self.path_edit.text().strip()
            if not path:
                raise InputError(f"System {self.number}: choose the predictions file.", "Click '…' beside it.")
            column = self.column_combo.currentText()
            if not column:
                raise InputError(f"System {self.number}: the file has no column to use as predictions.")
            return SystemSpec(FILE, predictions_path=path, predictions_column=column)
        return SystemSpec(ZERO_SHOT)
