"""The Sampling tab's settings as sliders: the shared generation form, slider variant."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from playground.core.decoding.settings import SamplingSettings
from playground.qt.binding import Draft
from playground.qt.widgets.generation_form import GenerationForm


class SamplingControls(QWidget):
    """Greedy / Sample, temperature, top-k, top-p and seed, bound to ``draft`` (a SamplingSettings).

    Emits ``sig_changed`` on every move; reading ``settings()`` costs nothing. The widgets are the
    form's (``temperature``, ``top_k``, ``top_p`` sliders, ``seed``, ``greedy_radio`` / ``sample_radio``).
    """

    sig_changed = Signal()
    """any setting changed (read them with settings())"""

    def __init__(self, draft: Draft | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        # The tab about sampling starts with sampling on (the settings' section says the same).
        self.draft = draft or Draft(SamplingSettings(do_sample=True), self)
        self.form = GenerationForm(self.draft, "", variant="slider")
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)
        self.layout().addWidget(self.form)
        f = self.form
        self.temperature, self.top_k, self.top_p, self.seed = f.temperature, f.top_k, f.top_p, f.seed
        self.greedy_radio, self.sample_radio = f.mode.buttons
        self.sample_radio.setToolTip(self.sample_radio.toolTip() + " The Sampling tab starts here: it is the "
                                     "tab about sampling (the other tabs start greedy).")
        v = f.value_labels
        self.temperature_value, self.top_k_value, self.top_p_value = v["temperature"], v["top_k"], v["top_p"]
        f.sig_changed.connect(self.sig_changed.emit)

    def settings(self) -> SamplingSettings:
        return self.draft.value

    def set_settings(self, s: SamplingSettings) -> None:
        self.draft.replace(s)
