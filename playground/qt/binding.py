"""Widgets bound to the fields of a typed draft, and form rows made from the fields' metadata.

``bind(widget, draft, "method.lora.rank")`` keeps a spin box, double spin box, check box, combo box
or line edit and one field of a dataclass in step, both ways (napari's ``connect_setattr``).
``form_row(draft, "method.lora.rank")`` also makes the widget, its range and its tooltip from the
field's ``metadata={"label": ..., "help": ..., "range": (lo, hi[, step]), "choices": (...)}``
(trl's ``field(metadata={"help": ...})``), so a setting is declared once, on its dataclass.

A draft may hold values ``validate()`` would refuse; checking happens at Next / Start.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (QAbstractSlider, QButtonGroup, QCheckBox, QComboBox, QDoubleSpinBox,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QRadioButton, QSpinBox, QWidget)


class Draft(QObject):
    """A dataclass value being edited, which says which field changed.

    ``get`` / ``set`` take dotted paths ("training.seed"); ``set`` emits ``sig_changed(path)`` only
    when the value really changes, and ``replace`` swaps the whole value (``sig_changed("")``).
    """

    sig_changed = Signal(str)
    """the dotted path of the field that changed ("" when the whole value was replaced)"""

    def __init__(self, value: Any, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.value = value

    def get(self, path: str) -> Any:
        obj = self.value
        for name in path.split(".") if path else ():
            obj = obj[name] if isinstance(obj, dict) else getattr(obj, name)
        return obj

    def set(self, path: str, value: Any) -> None:
        old = self.get(path)
        if old == value and type(old) is type(value):
            return
        self.value = _with(self.value, path.split("."), value)
        self.sig_changed.emit(path)

    def replace(self, value: Any) -> None:
        self.value = value
        self.sig_changed.emit("")

    def field(self, path: str) -> dataclasses.Field:
        """The dataclass field behind ``path`` (its metadata holds label, help and range)."""
        *parents, name = path.split(".")
        holder = self.get(".".join(parents))
        for f in dataclasses.fields(holder):
            if f.name == name:
                return f
        raise KeyError(path)

    def connect_path(self, path: str, fn: Callable[[], Any]) -> None:
        """Call ``fn()`` whenever ``path``, a field inside it, or a section above it changes."""
        def changed(key: str) -> None:
            if touches(key, path):
                fn()
        self.sig_changed.connect(changed)


def _with(obj: Any, names: list[str], value: Any) -> Any:
    """``obj`` with the field at ``names`` set to ``value``: in place for a mutable holder, a new
    value (``dataclasses.replace``) for a frozen dataclass, whose holders are rebuilt in turn."""
    name, rest = names[0], names[1:]
    if rest:
        value = _with(obj[name] if isinstance(obj, dict) else getattr(obj, name), rest, value)
    if isinstance(obj, dict):
        obj[name] = value
        return obj
    if dataclasses.is_dataclass(obj) and obj.__dataclass_params__.frozen:
        return dataclasses.replace(obj, **{name: value})
    setattr(obj, name, value)
    return obj


def touches(key: str, path: str) -> bool:
    """Whether a change at ``key`` can change the value at ``path`` (or one below it)."""
    return key == "" or path == "" or key == path or path.startswith(key + ".") or key.startswith(path + ".")


class RadioChoice(QWidget):
    """Radio buttons in a row, one per (text, value) choice; ``value()`` is the checked one's."""

    sig_changed = Signal()
    """another button was checked"""

    def __init__(self, choices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.group = QButtonGroup(self)
        self.buttons: list[QRadioButton] = []
        self._values = []
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        for text, value in choices:
            button = QRadioButton(text)
            self.group.addButton(button)
            self.buttons.append(button)
            self._values.append(value)
            row.addWidget(button)
            button.toggled.connect(lambda on: on and self.sig_changed.emit())
        row.addStretch(1)
        self.buttons[0].setChecked(True)

    def value(self) -> Any:
        for button, value in zip(self.buttons, self._values):
            if button.isChecked():
                return value
        return self._values[0]

    def show_value(self, value: Any) -> None:
        for button, choice in zip(self.buttons, self._values):
            if choice == value:
                button.setChecked(True)

    def setToolTip(self, tip: str) -> None:  # noqa: N802 (Qt's name)
        super().setToolTip(tip)
        for button in self.buttons:
            button.setToolTip(tip)


# widget <-> value, per widget kind ------------------------------------------------------------------

def _combo_value(combo: QComboBox) -> Any:
    data = combo.currentData()
    return data if data is not None else combo.currentText()


def _combo_show(combo: QComboBox, value: Any) -> None:
    index = combo.findData(value)
    if index < 0:
        index = combo.findText(str(value))
    if index >= 0:
        combo.setCurrentIndex(index)
    elif combo.isEditable():
        combo.setEditText(str(value))


def _accessors(widget: QWidget):
    """(signal, read, show) for a supported widget."""
    if isinstance(widget, QCheckBox):
        return widget.toggled, widget.isChecked, lambda v: widget.setChecked(bool(v))
    if isinstance(widget, QAbstractSlider):
        return widget.valueChanged, widget.value, lambda v: widget.setValue(int(v))
    if isinstance(widget, RadioChoice):
        return widget.sig_changed, widget.value, widget.show_value
    if isinstance(widget, QDoubleSpinBox):
        return widget.valueChanged, widget.value, lambda v: widget.setValue(float(v))
    if isinstance(widget, QSpinBox):
        return widget.valueChanged, widget.value, lambda v: widget.setValue(int(v))
    if isinstance(widget, QComboBox):
        signal = widget.currentTextChanged if widget.isEditable() else widget.currentIndexChanged
        return signal, lambda: _combo_value(widget), lambda v: _combo_show(widget, v)
    if isinstance(widget, QLineEdit):
        return widget.textChanged, widget.text, lambda v: widget.setText("" if v is None else str(v))
    raise TypeError(f"bind() does not know how to bind a {type(widget).__name__}")


def bind(widget: QWidget, draft: Draft, path: str, parse: Callable[[Any], Any] | None = None,
         fmt: Callable[[Any], Any] | None = None) -> QWidget:
    """Keep ``widget`` and the draft's field ``path`` in step (the draft's value is shown first).

    ``parse`` turns what the widget holds into the field's value ("0.05" -> 0.05), ``fmt`` the
    field's value into what the widget shows; both default to the value itself.
    """
    signal, read_widget, show_widget = _accessors(widget)
    read = (lambda: parse(read_widget())) if parse else read_widget
    fmt = fmt or (lambda v: v)
    typing = [False]  # the change comes from this widget: do not write it back while the person types

    def to_widget() -> None:
        shown = fmt(draft.get(path))
        if typing[0] or shown == read_widget():
            return
        widget.blockSignals(True)
        try:
            show_widget(shown)
        finally:
            widget.blockSignals(False)

    def from_widget(*_) -> None:
        typing[0] = True
        try:
            draft.set(path, read())
        finally:
            typing[0] = False

    to_widget()
    signal.connect(from_widget)
    draft.connect_path(path, to_widget)
    return widget


# widgets made from field metadata --------------------------------------------------------------------

def widget_for(draft: Draft, path: str, **convert: Callable[[Any], Any]) -> QWidget:
    """A widget for the field at ``path``: kind from its value, range / choices / help from metadata."""
    meta = draft.field(path).metadata
    value = draft.get(path)
    choices = meta.get("choices")
    if choices:
        w = QComboBox()
        for choice in choices:
            label, data = choice if isinstance(choice, tuple) else (str(choice), choice)
            w.addItem(label, data)
    elif isinstance(value, bool):
        w = QCheckBox(meta.get("text", ""))
    elif isinstance(value, int):
        w = QSpinBox()
        lo, hi, *step = meta.get("range", (0, 1_000_000))
        w.setRange(int(lo), int(hi))
        if step:
            w.setSingleStep(int(step[0]))
    elif isinstance(value, float):
        w = QDoubleSpinBox()
        lo, hi, *step = meta.get("range", (0.0, 1e6))
        w.setRange(float(lo), float(hi))
        w.setDecimals(int(meta.get("decimals", 3)))
        if step:
            w.setSingleStep(float(step[0]))
    else:
        w = QLineEdit()
        if meta.get("placeholder"):
            w.setPlaceholderText(meta["placeholder"])
    if isinstance(w, (QSpinBox, QDoubleSpinBox)):
        if meta.get("suffix"):
            w.setSuffix(meta["suffix"])
        if meta.get("special"):  # what the lowest value means ("all", "off")
            w.setSpecialValueText(meta["special"])
    if meta.get("help"):
        w.setToolTip(meta["help"])
    return bind(w, draft, path, **convert)


def form_row(draft: Draft, path: str, **convert: Callable[[Any], Any]) -> tuple[QLabel, QWidget]:
    """(label, bound widget) for one field, both carrying the field's help as a tooltip
    (``convert``: bind's ``parse`` / ``fmt``)."""
    f = draft.field(path)
    label = QLabel(f.metadata.get("label", f.name.replace("_", " ").capitalize()))
    widget = widget_for(draft, path, **convert)
    label.setToolTip(f.metadata.get("help", ""))
    label.setBuddy(widget)
    return label, widget


def persist(draft: Draft, settings, key: str | None = None) -> None:
    """Fill ``draft`` from its section of the app's settings, and store it there on every change.

    ``settings`` is the app's ``Settings``; the section is the one whose type is the draft's
    value's (``key`` names it when a type serves several). Saving to disk happens when the app
    closes, as for every setting.
    """
    kind = type(draft.value)
    draft.replace(settings.section(kind, key))
    draft.sig_changed.connect(lambda _path: settings.put(draft.value, key))


def add_rows(form: QFormLayout, draft: Draft, *paths: str) -> dict[str, QWidget]:
    """Add one bound row per path to ``form``; returns the widgets by path."""
    widgets = {}
    for path in paths:
        label, widget = form_row(draft, path)
        form.addRow(label, widget)
        widgets[path] = widget
    return widgets

