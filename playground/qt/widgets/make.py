"""Small constructors for the widgets every tab builds the same way: a button with its tooltip and
its action, a word-wrapped note line, a spin box with its range, a form of labelled rows.

Each returns a plain Qt widget (or layout), so a panel keeps its attributes and its own layout.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QBoxLayout,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)


def button(text: str, tip: str | None = None, on_click: Callable | None = None,
           checkable: bool = False) -> QPushButton:
    """A push button with its tooltip; ``on_click`` gets ``clicked`` (``toggled`` when checkable)."""
    widget = QPushButton(text)
    if checkable:
        widget.setCheckable(True)
    if tip is not None:
        widget.setToolTip(tip)
    if on_click is not None:
        (widget.toggled if checkable else widget.clicked).connect(on_click)
    return widget


def check(text: str, tip: str | None = None, on_toggled: Callable | None = None,
          checked: bool = False) -> QCheckBox:
    """A check box with its tooltip; ``on_toggled`` gets ``toggled``."""
    widget = QCheckBox(text)
    widget.setChecked(checked)
    if tip is not None:
        widget.setToolTip(tip)
    if on_toggled is not None:
        widget.toggled.connect(on_toggled)
    return widget


def note_label(text: str = "", tip: str | None = None) -> QLabel:
    """A word-wrapped label for a sentence that changes (a result, a hint, a message)."""
    widget = QLabel(text)
    widget.setWordWrap(True)
    if tip is not None:
        widget.setToolTip(tip)
    return widget


def spin(low: int, high: int, value: int | None = None, tip: str | None = None) -> QSpinBox:
    """An integer spin box over ``low..high`` (starting at ``value`` when given) with its tooltip."""
    widget = QSpinBox()
    widget.setRange(low, high)
    if value is not None:
        widget.setValue(value)
    if tip is not None:
        widget.setToolTip(tip)
    return widget


def combo(items, tip: str | None = None) -> QComboBox:
    """A drop-down of (text, data) items, the first chosen, with its tooltip."""
    widget = QComboBox()
    for text, data in items:
        widget.addItem(text, data)
    if tip is not None:
        widget.setToolTip(tip)
    return widget


def form(*rows) -> QFormLayout:
    """A form layout with one row per argument, in order: a (label, widget or layout) pair, or a
    widget alone spanning the row."""
    layout = QFormLayout()
    for row in rows:
        if isinstance(row, tuple):
            layout.addRow(*row)
        else:
            layout.addRow(row)
    return layout


def group(title: str, layout: QLayout) -> QGroupBox:
    """A titled group box holding ``layout``."""
    box = QGroupBox(title)
    box.setLayout(layout)
    return box


def splitter(*parts: tuple[QWidget, int]) -> QSplitter:
    """A horizontal splitter of (widget, stretch factor) pairs, left to right."""
    split = QSplitter()
    for widget, _ in parts:
        split.addWidget(widget)
    for index, (_, stretch) in enumerate(parts):
        split.setStretchFactor(index, stretch)
    return split


def _fill(layout: QBoxLayout, items) -> QBoxLayout:
    for item in items:
        stretch = 0
        if isinstance(item, tuple):
            item, stretch = item
        if isinstance(item, int):
            layout.addStretch(item)
        elif isinstance(item, QLayout):
            layout.addLayout(item, stretch)
        else:
            layout.addWidget(item, stretch)
    return layout


def hbox(*items) -> QHBoxLayout:
    """A row of widgets and layouts, in order; ``(item, stretch)`` gives one a stretch factor and a
    bare int adds that much stretch."""
    return _fill(QHBoxLayout(), items)


def vbox(*items, parent: QWidget | None = None) -> QVBoxLayout:
    """A column like ``hbox``; with ``parent`` it becomes that widget's layout."""
    return _fill(QVBoxLayout(parent) if parent is not None else QVBoxLayout(), items)


def show_progress(bar: QProgressBar, fraction, scale: int = 100) -> None:
    """Show ``fraction`` (0..1) on ``bar`` as a value out of ``scale``; None makes it a busy bar."""
    if fraction is None:
        bar.setRange(0, 0)
    else:
        bar.setRange(0, scale)
        bar.setValue(int(fraction * scale))


def ask_table_file(parent: QWidget, title: str) -> str:
    """A data table the person picks (CSV, TSV, JSONL, JSON or Parquet); '' when they cancel."""
    from PySide6.QtWidgets import QFileDialog

    path, _ = QFileDialog.getOpenFileName(parent, title, "", "Tables (*.csv *.tsv *.jsonl *.json *.parquet)")
    return path


def dspin(low: float, high: float, step: float, value: float, tip: str) -> QDoubleSpinBox:
    """A decimal spin box over ``low..high`` moving by ``step``, starting at ``value``, with its tooltip."""
    widget = QDoubleSpinBox()
    widget.setRange(low, high)
    widget.setSingleStep(step)
    widget.setValue(value)
    widget.setToolTip(tip)
    return widget


def flexible_height(editor: QWidget, lines: int) -> QWidget:
    """An editor as tall as its share of the room (its stretch), never below ``lines`` lines of text.

    Its preferred height (some 190 px for a text box) no longer counts when a tab's height for a
    width is worked out, so a few editors stacked do not make the tab taller than a 1200x800 window.
    """
    from PySide6.QtWidgets import QSizePolicy

    editor.setSizePolicy(editor.sizePolicy().horizontalPolicy(), QSizePolicy.Policy.Ignored)
    editor.setMinimumHeight(editor.fontMetrics().lineSpacing() * lines + 12)
    return editor
