"""The Labs dock: the course's labs step by step beside the tabs, checked against the app's state."""

from playground.qt.labs.dock import LabsDock
from playground.qt.labs.watcher import LabStateWatcher

__all__ = ["LabStateWatcher", "LabsDock"]
