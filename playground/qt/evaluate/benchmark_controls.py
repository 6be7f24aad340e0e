"""The Benchmarks section's controls: which benchmarks (bundled kinds, a file of one's own, how many items) and
which systems side by side (base 0-shot, base k-shot, an adapter, the base at another precision)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from playground.qt.widgets.make import group

FORMATS = [("BF16", "bf16"), ("FP16", "fp16"), ("INT8 weights", "int8"), ("INT4 weights", "int4")]


class BenchmarkControls:
    """For the page: builds the two boxes and turns them into (benchmarks, systems) with ``plan()``."""

    # controls -------------------------------------------------------------------------------------
    def _build_benchmarks(self) -> QWidget:
        from playground.core.evaluation.benchmark import KINDS

        lay = QVBoxLayout()
        self.kind_checks: dict[str, QCheckBox] = {}
        for kind, (title, note) in KINDS.items():
            box = QCheckBox(title)
            box.setToolTip(note)
            box.setChecked(kind in ("knowledge", "continuation"))
            self.kind_checks[kind] = box
            lay.addWidget(box)
        self.own_check = QCheckBox("My file:")
        self.own_check.setToolTip("A JSONL file of your own: one object per line with \"context\", \"choices\" "
                                  "(a list) and \"gold\" (the right choice's index from 0), optionally \"passage\".")
        self.own_path = QLineEdit()
        self.own_path.setPlaceholderText("a .jsonl file")
        self.own_path.textChanged.connect(lambda text: self.own_check.setChecked(bool(text.strip())))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_file)
        row = QHBoxLayout()
        row.addWidget(self.own_check)
        row.addWidget(self.own_path, 1)
        row.addWidget(browse)
        lay.addLayout(row)
        self.limit = QSpinBox()
        self.limit.setRange(0, 500)
        self.limit.setValue(10)
        self.limit.setSpecialValueText("all")
        self.limit.setToolTip("Score only the first N items of each benchmark (all: every item). The bundled "
                              "model takes about a second per item on a CPU; dialogue items longer.")
        limit_row = QHBoxLayout()
        limit_row.addWidget(QLabel("Items per benchmark"))
        limit_row.addWidget(self.limit)
        limit_row.addStretch(1)
        lay.addLayout(limit_row)
        return group("Benchmarks", lay)

    def _build_systems(self) -> QWidget:
        lay = QVBoxLayout()
        self.base_check = QCheckBox("Base model, 0-shot")
        self.base_check.setChecked(True)
        self.base_check.setToolTip("The loaded model with no adapter, reading each item alone.")
        self.shots_check = QCheckBox("Base model, k-shot")
        self.shots_check.setToolTip("The same model with k other items of the benchmark and their right answers "
                                    "first: in-context learning, no training.")
        self.shots = QSpinBox()
        self.shots.setRange(1, 10)
        self.shots.setValue(3)
        self.shots.setPrefix("k = ")
        self.shots.valueChanged.connect(lambda _v: self.shots_check.setChecked(True))
        self.adapter_check = QCheckBox("Adapter:")
        self.adapter_check.setToolTip("A fine-tuned model: a Fine-tune run folder (or its adapter folder) loaded "
                                      "on a copy of the base model, 0-shot.")
        self.adapter_path = QLineEdit()
        self.adapter_path.setPlaceholderText("a Fine-tune run folder")
        self.adapter_path.textChanged.connect(lambda text: self.adapter_check.setChecked(bool(text.strip())))
        pick = QPushButton("Browse…")
        pick.clicked.connect(self._browse_adapter)
        self.precision_check = QCheckBox("Base at")
        self.precision_check.setToolTip("The base model converted to fewer bits per weight, 0-shot: does the "
                                        "rounding cost accuracy?")
        self.precision = QComboBox()
        for label, name in FORMATS:
            self.precision.addItem(label, name)
        self.batched = QCheckBox("Read the context once")
        self.batched.setChecked(True)
        self.batched.setToolTip("On: the text every choice shares (the question, the shots) goes through the model "
                                "once and its keys and values are kept (the KV cache); the choices' own tokens then go "
                                "through together, reading that cache. Off: one pass per choice, each reading the "
                                "whole text again. The numbers are the same; On is faster.")
        for widgets in ((self.base_check,), (self.shots_check, self.shots), (self.adapter_check, self.adapter_path,
                                                                            pick),
                        (self.precision_check, self.precision), (self.batched,)):
            row = QHBoxLayout()
            for w in widgets:
                row.addWidget(w, 1 if isinstance(w, QLineEdit) else 0)
            row.addStretch(0 if any(isinstance(w, QLineEdit) for w in widgets) else 1)
            lay.addLayout(row)
        return group("Systems side by side", lay)

    def _browse_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "A benchmark file", "", "JSON lines (*.jsonl);;All files (*)")
        if path:
            self.own_path.setText(path)

    def _browse_adapter(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "A Fine-tune run folder")
        if path:
            self.adapter_path.setText(path)

    def _offer_attached(self, adapted) -> None:
        folder = adapted.extras.get("adapter_dir", "") if adapted is not None else ""
        if folder and not self.adapter_path.text().strip():
            self.adapter_path.setText(folder)

    def plan(self):
        """(benchmarks, systems) from the controls; InputError in plain words when something is missing."""
        from playground.core.base.errors import InputError
        from playground.core.evaluation.benchmark import bundled_benchmark, load_benchmark
        from playground.core.evaluation.benchmark_run import ADAPTER, BASE, PRECISION, BenchSystem, check_systems

        limit = self.limit.value() or None
        benches = [bundled_benchmark(k).head(limit) for k, box in self.kind_checks.items() if box.isChecked()]
        if self.own_check.isChecked():
            if not self.own_path.text().strip():
                raise InputError("'My file' is ticked but names no file.", "Choose a .jsonl file, or untick it.")
            benches.append(load_benchmark(self.own_path.text().strip()).head(limit))
        if not benches:
            raise InputError("No benchmark is ticked.", "Tick at least one benchmark (or your own file).")
        systems = []
        if self.base_check.isChecked():
            systems.append(BenchSystem(BASE, 0))
        if self.shots_check.isChecked():
            systems.append(BenchSystem(BASE, self.shots.value()))
        if self.adapter_check.isChecked():
            systems.append(BenchSystem(ADAPTER, 0, adapter_dir=self.adapter_path.text().strip()))
        if self.precision_check.isChecked():
            systems.append(BenchSystem(PRECISION, 0, precision=self.precision.currentData()))
        check_systems(systems)
        return benches, systems
