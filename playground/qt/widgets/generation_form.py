"""The generation settings form every tab uses, made from the fields of ``core.decoding.settings``.

``GenerationForm(draft, prefix)`` adds bound rows for the sampling settings (decoding, temperature,
top-k, top-p, seed) found at ``prefix`` in the draft, and optionally "max new tokens" at
``tokens_path``. Each row's label, range and help come from the field's metadata, so the text
a learner reads is written once, in core. Two variants:

- ``"spin"``: spin boxes and a Greedy / Sample drop-down (Generate, Prompt, Evaluate, new tabs);
- ``"slider"``: sliders with their value beside them and Greedy / Sample radio buttons (the
  Sampling tab, where dragging and watching the chart is the lesson).

While decoding is greedy, the sampling rows are disabled: they would change nothing.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QGroupBox, QLabel, QSlider, QWidget

from playground.core.decoding.settings import MIN_TEMPERATURE
from playground.qt.binding import Draft, RadioChoice, bind, form_row, widget_for

SAMPLING_FIELDS = ("do_sample", "temperature", "top_k", "top_p", "seed")
# Slider positions per unit, and the slider's top end where the field's range is too wide for a
# slider to be useful (top-k up to 1000 in a spin box, 200 on a slider).
_SCALE = {"temperature": 100, "top_p": 100, "top_k": 1}
_SLIDER_TOP = {"top_k": 200}


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def shown_value(name: str, value) -> str:
    """How a slider's value reads beside it: '0.70', 'off' for top-k 0 and top-p 1."""
    if name == "top_k":
        return str(int(value)) if value else "off"
    if name == "top_p":
        return f"{value:.2f}" if value < 1.0 else "off"
    return f"{value:.2f}"


class GenerationForm(QGroupBox):
    """Bound rows for the sampling settings at ``prefix`` (and max new tokens at ``tokens_path``).

    The widgets are attributes named after their fields (``form.temperature``, ``form.top_k``,
    ``form.max_tokens``; ``form.mode`` is the Greedy / Sample control), so a panel and its tests
    reach them by name. ``sig_changed`` fires after any of its fields changed in the draft.
    """

    sig_changed = Signal()
    """one of the form's fields changed (read the draft)"""

    def __init__(self, draft: Draft, prefix: str = "sampling", *, tokens_path: str | None = None,
                 variant: str = "spin", sampling: bool = True, title: str = "Generation settings",
                 parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.draft, self.prefix, self.variant = draft, prefix, variant
        self.value_labels: dict[str, QLabel] = {}
        grid = self.grid = QGridLayout(self)
        grid.setColumnStretch(1, 1)
        row = 0
        if tokens_path is not None:
            label, self.max_tokens = form_row(draft, tokens_path)
            self._add(row, "max_new_tokens", label, self.max_tokens)
            row += 1
            draft.connect_path(tokens_path, self.sig_changed.emit)
        if sampling:
            for name in SAMPLING_FIELDS:
                path = _join(prefix, name)
                label, widget = self._row(name, path)
                self._add(row, name, label, widget)
                row += 1
            draft.connect_path(prefix, self._on_sampling_changed)
            self._update()

    # building -------------------------------------------------------------------------------
    def _row(self, name: str, path: str) -> tuple[QLabel, QWidget]:
        f = self.draft.field(path)
        label = QLabel(f.metadata["label"])
        label.setToolTip(f.metadata["help"])
        if name == "do_sample":
            widget = (RadioChoice(f.metadata["choices"]) if self.variant == "slider"
                      else QComboBox())
            if isinstance(widget, QComboBox):
                for text, value in f.metadata["choices"]:
                    widget.addItem(text, value)
            widget.setToolTip(f.metadata["help"])
            self.mode = bind(widget, self.draft, path)
        elif self.variant == "slider" and name in _SCALE:
            widget = self._slider(name, path, f.metadata)
        else:
            widget = widget_for(self.draft, path)
        label.setBuddy(widget)
        setattr(self, name, widget)
        return label, widget

    def _slider(self, name: str, path: str, meta: dict) -> QSlider:
        scale = _SCALE[name]
        lo, hi, *_ = meta["range"]
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(round(lo * scale), round(_SLIDER_TOP.get(name, hi) * scale))
        slider.setSingleStep(1)
        slider.setPageStep(10)
        slider.setToolTip(meta["help"])
        value = QLabel()
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value_labels[name] = value
        if scale == 1:
            return bind(slider, self.draft, path)
        return bind(slider, self.draft, path, parse=lambda v: v / scale, fmt=lambda v: round(v * scale))

    def _add(self, row: int, name: str, label: QLabel, widget: QWidget) -> None:
        self.grid.addWidget(label, row, 0)
        value = self.value_labels.get(name)
        if value is None:
            self.grid.addWidget(widget, row, 1, 1, 2)
        else:
            self.grid.addWidget(widget, row, 1)
            self.grid.addWidget(value, row, 2)
            self._fit_to_font()

    def _fit_to_font(self) -> None:
        # A fixed width: a value label that grows would re-lay out the tab (and redraw a chart).
        for label in self.value_labels.values():
            label.setFixedWidth(label.fontMetrics().horizontalAdvance("0.00") + 8)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # presenter zoom
            self._fit_to_font()

    # reacting ---------------------------------------------------------------------------------
    def _on_sampling_changed(self) -> None:
        self._update()
        self.sig_changed.emit()

    def _update(self) -> None:
        sampling = self.draft.get(self.prefix)
        for name, label in self.value_labels.items():
            value = getattr(sampling, name)
            label.setText(shown_value(name, value))
            if name == "temperature":
                # The slider's end works as greedy (see SamplingSettings); the label says so in colour.
                label.setStyleSheet("color: #8a5a00; font-weight: bold;"
                                    if value <= MIN_TEMPERATURE + 1e-9 else "")
        for name in SAMPLING_FIELDS[1:]:
            getattr(self, name).setEnabled(sampling.do_sample)
            if name in self.value_labels:
                self.value_labels[name].setEnabled(sampling.do_sample)
