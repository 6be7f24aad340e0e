"""The generation settings as sliders: greedy or sample, temperature, top-k, top-p, seed."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSlider,
    QSpinBox,
    QWidget,
)

from playground.core.decoding.sampling import MAX_TEMPERATURE, MIN_TEMPERATURE, SamplingSettings

TEMPERATURE_TIP = ("Temperature divides the model's scores before the softmax. Below 1 the likely tokens get "
                   "likelier (safer, more repetitive); above 1 the distribution flattens (more surprising). "
                   f"At the minimum ({MIN_TEMPERATURE:.2f}) it works as greedy.")
TOP_K_TIP = ("Top-k keeps only the k most likely tokens and renormalizes them; the rest can never be "
             "picked. 0 turns it off.")
TOP_P_TIP = ("Top-p (nucleus) keeps the fewest most likely tokens whose probabilities add up to more than p "
             "(see the blue cumulative line). 1.00 turns it off; near 0 only the top token stays.")
GREEDY_TIP = "Greedy always takes the most likely token: the same prompt gives the same text every time."
SAMPLE_TIP = ("Sampling draws the next token at random, in proportion to its probability after temperature, "
              "top-k and top-p.")
SEED_TIP = "The seed fixes the random draws: the same seed and settings pick the same tokens again."


def _slider(lo: int, hi: int, value: int, tip: str) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    s.setSingleStep(1)
    s.setPageStep(10)
    s.setToolTip(tip)
    return s


class SamplingControls(QGroupBox):
    """Emits ``sig_changed`` on every move; reading ``settings()`` costs nothing."""

    sig_changed = Signal()
    """any setting changed (read them with settings())"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Generation settings", parent)
        self.greedy_radio = QRadioButton("Greedy")
        self.greedy_radio.setToolTip(GREEDY_TIP)
        self.sample_radio = QRadioButton("Sample")
        self.sample_radio.setToolTip(SAMPLE_TIP)
        self.sample_radio.setChecked(True)
        self._mode = QButtonGroup(self)
        self._mode.addButton(self.greedy_radio)
        self._mode.addButton(self.sample_radio)
        self.temperature = _slider(round(MIN_TEMPERATURE * 100), round(MAX_TEMPERATURE * 100), 100, TEMPERATURE_TIP)
        self.top_k = _slider(0, 200, 0, TOP_K_TIP)
        self.top_p = _slider(0, 100, 100, TOP_P_TIP)
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip(SEED_TIP)
        self.temperature_value = QLabel()
        self.top_k_value = QLabel()
        self.top_p_value = QLabel()
        for label in (self.temperature_value, self.top_k_value, self.top_p_value):
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self._fit_to_font()

        grid = QGridLayout(self)
        mode_row = QHBoxLayout()
        mode_row.addWidget(self.greedy_radio)
        mode_row.addWidget(self.sample_radio)
        mode_row.addStretch(1)
        grid.addWidget(QLabel("Decoding"), 0, 0)
        grid.addLayout(mode_row, 0, 1, 1, 2)
        rows = [("Temperature", self.temperature, self.temperature_value, TEMPERATURE_TIP),
                ("Top-k", self.top_k, self.top_k_value, TOP_K_TIP),
                ("Top-p", self.top_p, self.top_p_value, TOP_P_TIP)]
        for r, (name, slider, value, tip) in enumerate(rows, start=1):
            label = QLabel(name)
            label.setToolTip(tip)
            grid.addWidget(label, r, 0)
            grid.addWidget(slider, r, 1)
            grid.addWidget(value, r, 2)
        seed_label = QLabel("Seed")
        seed_label.setToolTip(SEED_TIP)
        grid.addWidget(seed_label, 4, 0)
        grid.addWidget(self.seed, 4, 1, 1, 2)
        grid.setColumnStretch(1, 1)

        for w in (self.temperature, self.top_k, self.top_p):
            w.valueChanged.connect(self._on_change)
        self.seed.valueChanged.connect(self._on_change)
        self.sample_radio.toggled.connect(self._on_change)
        self._update_labels()

    def _fit_to_font(self) -> None:
        # A fixed width: a label that grows would re-lay out the tab (and redraw the chart).
        for label in (self.temperature_value, self.top_k_value, self.top_p_value):
            label.setFixedWidth(label.fontMetrics().horizontalAdvance("0.00") + 8)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presenter zoom
            self._fit_to_font()

    def settings(self) -> SamplingSettings:
        return SamplingSettings(do_sample=self.sample_radio.isChecked(),
                                temperature=self.temperature.value() / 100, top_k=self.top_k.value(),
                                top_p=self.top_p.value() / 100, seed=self.seed.value())

    def set_settings(self, s: SamplingSettings) -> None:
        (self.sample_radio if s.do_sample else self.greedy_radio).setChecked(True)
        self.temperature.setValue(round(s.temperature * 100))
        self.top_k.setValue(int(s.top_k))
        self.top_p.setValue(round(s.top_p * 100))
        self.seed.setValue(int(s.seed or 0))

    def _on_change(self) -> None:
        self._update_labels()
        self.sig_changed.emit()

    def _update_labels(self) -> None:
        t = self.temperature.value() / 100
        self.temperature_value.setText(f"{t:.2f}")
        # The slider's end works as greedy (see SamplingSettings); the label says so in colour.
        self.temperature_value.setStyleSheet("color: #8a5a00; font-weight: bold;" if t <= MIN_TEMPERATURE else "")
        self.top_k_value.setText(str(self.top_k.value()) if self.top_k.value() else "off")
        self.top_p_value.setText(f"{self.top_p.value() / 100:.2f}" if self.top_p.value() < 100 else "off")
        sampling = self.sample_radio.isChecked()
        for w in (self.temperature, self.top_k, self.top_p, self.seed, self.temperature_value,
                  self.top_k_value, self.top_p_value):
            w.setEnabled(sampling)
