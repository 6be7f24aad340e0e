"""bind() keeps widgets and a draft's fields in step; form rows come from field metadata."""

from dataclasses import dataclass, field

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLineEdit, QSpinBox, QWidget

from playground.qt.binding import Draft, add_rows, bind, form_row, touches


@dataclass
class Inner:
    rank: int = field(default=8, metadata={"label": "Rank", "help": "How many directions the adapter learns.",
                                           "range": (1, 256, 4)})
    dropout: float = field(default=0.05, metadata={"help": "Share of inputs zeroed.", "range": (0.0, 0.9, 0.05),
                                                   "decimals": 2})
    on: bool = field(default=True, metadata={"text": "Enabled"})
    kind: str = field(default="cosine", metadata={"choices": (("Cosine decay", "cosine"), ("Flat", "constant"))})
    name: str = field(default="run", metadata={"placeholder": "a name"})


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    seed: int = 0


def _type(qtbot, widget, text):
    widget.setFocus()
    widget.selectAll() if hasattr(widget, "selectAll") else widget.lineEdit().selectAll()
    qtbot.keyClicks(widget, text)
    qtbot.keyClick(widget, Qt.Key.Key_Tab)


def test_typing_in_a_spin_box_changes_the_draft_and_says_which_field(qtbot):
    draft = Draft(Outer())
    keys = []
    draft.sig_changed.connect(keys.append)
    box = QSpinBox()
    box.setRange(0, 1000)
    qtbot.addWidget(box)
    bind(box, draft, "seed")
    _type(qtbot, box, "42")
    assert draft.value.seed == 42
    assert keys[-1] == "seed"


def test_draft_changes_reach_the_widget_without_echo(qtbot):
    draft = Draft(Outer())
    keys = []
    draft.sig_changed.connect(keys.append)
    check = QCheckBox()
    qtbot.addWidget(check)
    bind(check, draft, "inner.on")
    assert check.isChecked()
    draft.set("inner.on", False)
    assert not check.isChecked()
    assert keys == ["inner.on"]  # the widget's update did not write back a second change
    draft.replace(Outer(inner=Inner(on=True)))
    assert check.isChecked()
    check.click()  # as a person clicking it
    assert draft.value.inner.on is False


def test_form_rows_from_metadata(qtbot):
    draft = Draft(Outer())
    host = QWidget()
    qtbot.addWidget(host)
    form = QFormLayout(host)
    widgets = add_rows(form, draft, "inner.rank", "inner.dropout", "inner.on", "inner.kind", "inner.name")
    rank, dropout, on, kind, name = widgets.values()
    assert isinstance(rank, QSpinBox) and (rank.minimum(), rank.maximum(), rank.singleStep()) == (1, 256, 4)
    assert rank.value() == 8 and rank.toolTip() == "How many directions the adapter learns."
    assert form.labelForField(rank).text() == "Rank"
    assert isinstance(dropout, QDoubleSpinBox) and dropout.decimals() == 2 and dropout.maximum() == 0.9
    assert isinstance(on, QCheckBox) and on.text() == "Enabled"
    assert form.labelForField(on).text() == "On"  # no label given: the field's name
    assert isinstance(kind, QComboBox) and kind.currentText() == "Cosine decay"
    assert isinstance(name, QLineEdit) and name.placeholderText() == "a name" and name.text() == "run"

    kind.setCurrentIndex(kind.findText("Flat"))  # as a person picking from the list
    assert draft.value.inner.kind == "constant"
    qtbot.keyClicks(name, "-2")
    assert draft.value.inner.name == "run-2"
    _type(qtbot, rank, "16")
    assert draft.value.inner.rank == 16
    draft.set("inner.kind", "cosine")
    assert kind.currentText() == "Cosine decay"


def test_a_draft_may_hold_values_a_widget_would_clamp(qtbot):
    draft = Draft(Outer(inner=Inner(rank=0)))  # invalid (range starts at 1): kept until validate()
    label, rank = form_row(draft, "inner.rank")
    qtbot.addWidget(rank)
    assert draft.value.inner.rank == 0
    assert rank.value() == 1


def test_touches():
    assert touches("", "a.b") and touches("a", "a.b") and touches("a.b", "a.b") and touches("a.b.c", "a.b")
    assert not touches("a.bc", "a.b") and not touches("x", "a.b")


def test_unsupported_widget_is_refused(qtbot):
    w = QWidget()
    qtbot.addWidget(w)
    try:
        bind(w, Draft(Outer()), "seed")
    except TypeError as exc:
        assert "QWidget" in str(exc)
    else:
        raise AssertionError("an unsupported widget must be refused")
