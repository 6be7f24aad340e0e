"""The base of a wizard step: its lesson at the top, full width (one place for the explanation, as in
every tab), its controls below, settings in the job draft."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from playground.qt.panel import Panel
from playground.qt.task_slot import TaskSlot


class WizardPage(QWidget):
    """One step. Subclasses add widgets to ``self.body``, bound to the wizard's ``draft``.

    The draft holds the job as a FinetuneConfig (``model``, ``data``, ``method``, ``training``,
    ``evaluation``, ``output``), so what the wizard shows is what the CLI runs. A page listens to
    the draft for what other pages change; it never reads another page.
    """

    title = "Step"
    lesson_text = ""

    sig_show_step = Signal(int)
    """index of the step this page asks the wizard to show (e.g. Train when a run resumes)"""

    def __init__(self, wizard, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.wizard = wizard
        self.draft = wizard.draft
        self.context = wizard.context
        self.slot = TaskSlot(self.context.runner, parent=self)  # the page's background work
        self.body = QVBoxLayout()
        left = QWidget()
        left.setLayout(self.body)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(left)
        self.lesson_label = Panel.lesson(self.lesson_text)
        self.lesson_label.setTextFormat(Qt.TextFormat.RichText)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.lesson_label)
        column.addWidget(self.scroll, 1)

    def problem(self) -> str:
        """Why the wizard cannot go on from this page yet ('' when it can)."""
        return ""

    def enter(self) -> None:
        """The page comes on show."""

    def on_model_changed(self, loaded) -> None:
        """The app's model changed."""

    @staticmethod
    def note(text: str = "") -> QLabel:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    @staticmethod
    def error_label() -> QLabel:
        label = QLabel("")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setStyleSheet("color: #b00020;")
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label
