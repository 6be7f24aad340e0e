"""Fills a core LabState from the tabs' lab events (nothing is polled): the checks read only that state.

The watcher knows no tab: each panel declares what a lab may watch (``Panel.lab_events()``), and the
core state says what each event changes (``playground.core.labs.state.EVENTS``).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from playground.core.labs import LabState
from playground.core.labs.state import VALUE_EVENTS


class LabStateWatcher(QObject):
    sig_state_changed = Signal()
    """something the learner did changed the LabState (read it from .state)"""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.state = LabState()

    def watch(self, panels) -> None:
        """Connect to the lab events the given panels declare (a panel with none is skipped)."""
        for panel in panels:
            events = panel.lab_events()
            self.state.watching(events)
            for name, (signal, payload) in events.items():
                signal.connect(self._recorder(name, payload))
                if name in VALUE_EVENTS:  # the value before it first changes
                    self.state.record(name, payload())

    def _recorder(self, name: str, payload):
        def record(*args) -> None:
            data = payload(*args)
            if data is not None and self.state.record(name, data):
                self.sig_state_changed.emit()

        return record
