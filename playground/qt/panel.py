"""The base of every tab: it gets the shared context and hears when the model changes.

The panel protocol: what the rest of the app may know about a tab, and all it may read.

- ``title``: the tab's name on its tab, in lab files (``tab = "Prompt"``) and in the F1 guide.
- ``guide``: the one-sentence lesson of the tab (its tab's tooltip).
- ``help``: the F1 guide page of the tab (Qt rich text); the tab's lessons and picture are added to it.
- ``lab_events()``: what a lab may watch, as {event name: (signal, payload function)}; see below.
- ``notebook_kind`` and ``notebook_state()``: the experiment a notebook export may collect from the tab.
- ``reveal(control)``: make the control a lab step names (``control = "run_button"``) visible, switching the
  tab's own sub-tab or page, and give it back, for the Labs' *Show me* to outline.
- ``session_snapshot()`` (and optionally ``session_figures()``): the tab's part of the HTML handout.

Other code (the labs watcher, the notebook export, the main window) uses only these and never reads
a tab's widgets or pages. The tabs' order is the one table in ``playground.qt.tabs``.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QCheckBox, QLabel, QWidget

from playground.qt.context import AppContext
from playground.qt.task_slot import TaskSlot

LabEvents = dict[str, tuple[SignalInstance, Callable[..., "dict | None"]]]
"""event name (one of ``playground.core.labs.state.EVENTS``) -> (the tab's signal that announces it, a
function of that signal's arguments giving the event's plain-data payload, or None when nothing happened)"""


class Panel(QWidget):
    """A tab. Subclasses build widgets in __init__, react in ``on_model_changed`` and declare the protocol."""

    title = "Panel"
    """the tab's name (tab bar, lab files, F1 guide)"""
    guide = ""
    """the tab's lesson in one sentence (the tooltip of its tab)"""
    help = ""
    """the F1 guide page (rich text): the concepts behind the tab; empty says no guide is written yet"""
    notebook_kind = ""
    """the notebook experiment this tab can give (a name in ``playground.core.labs.notebook.EXPERIMENTS``)"""

    def lab_events(self) -> LabEvents:
        """What a lab may watch in this tab (the labs watcher connects each signal once, at start)."""
        return {}

    def notebook_state(self) -> dict | None:
        """The ``notebook_kind`` experiment as plain data for ``core.labs.notebook``; None until there is one."""
        return None

    def reveal(self, control: str) -> QWidget | None:
        """Show the control a lab file names (its ``control``): switch this tab's own sub-tab or page to the one
        holding it and return it, for the Labs to outline; None when this tab has no control of that name."""
        return None

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        # The panel's long work runs through its slot; the panel sets ``slot.say`` to its
        # message line once it has one, so failures are shown there.
        self.slot = TaskSlot(context.runner, parent=self)
        context.sig_model_changed.connect(self.on_model_changed)
        # A panel created after the model loaded still hears about it (once its widgets exist).
        if context.session.current is not None:
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self._initial_sync)

    def _initial_sync(self) -> None:
        loaded = self.context.session.current
        if loaded is not None:
            self.on_model_changed(loaded)

    def on_model_changed(self, loaded) -> None:  # pragma: no cover - default does nothing
        pass

    @property
    def busy(self) -> bool:
        return self.slot.busy

    def stop(self) -> None:
        """Esc: stop this tab's long work, if any."""
        self.slot.stop()

    def session_snapshot(self) -> list[tuple[str, str]]:
        """(heading, text) items for the session handout; charts are added automatically."""
        return []

    def message_line(self) -> QLabel:
        """The tab's red, wrapped message line; failures of its slot's tasks land in it."""
        label = QLabel("")
        label.setWordWrap(True)
        label.setStyleSheet("color: #b00020;")
        self.slot.say = label.setText
        return label

    def ready_to_start(self):
        """The model to start work with, after clearing ``message_label``; None while busy or while no
        model is loaded yet (which is then said on the message line)."""
        if self.busy:
            return None
        self.message_label.setText("")
        return self.context.ready_model(self.message_label.setText)

    @staticmethod
    def chat_template_check(tooltip: str) -> QCheckBox:
        """The chat-template switch, with the one default Prompt, Generate and Sampling share (said in its label)."""
        from playground.core.prompting.prompts import CHAT_TEMPLATE_LABEL, USE_CHAT_TEMPLATE

        check = QCheckBox(CHAT_TEMPLATE_LABEL)
        check.setChecked(USE_CHAT_TEMPLATE)
        check.setToolTip(tooltip + " Off sends your text as it is, for a raw continuation.")
        return check

    @staticmethod
    def lesson(text: str) -> QLabel:
        """The tab's teaching paragraph beside its controls: the bold first sentence, then "More"
        (``qt/widgets/lesson.py``), in the design module's readable colour."""
        from playground.qt.widgets.lesson import LessonLabel

        return LessonLabel(text)


def run_panel_standalone(panel_cls) -> int:
    """Open one panel alone for development: ``python -m playground.qt.<tab>``."""
    import sys

    from PySide6.QtWidgets import QApplication

    from playground.core.models.sources import ModelSource

    app = QApplication.instance() or QApplication(sys.argv)
    context = AppContext()
    panel = panel_cls(context)
    panel.setWindowTitle(panel.title)
    panel.resize(1000, 700)
    panel.show()
    context.load_model(ModelSource("bundled"))
    code = app.exec()
    context.runner.shutdown(wait=False)
    return code
