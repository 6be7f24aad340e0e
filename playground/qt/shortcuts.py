"""The run / stop keys every tab shares: Ctrl+Enter runs, Esc stops (DESIGN: what users expect); the
presenter-mode keys."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

RUN_KEYS = ("Ctrl+Return", "Ctrl+Enter")
#: Presenter mode on and off (View > Presenter mode); Esc also leaves it when nothing is running.
PRESENTER_KEYS = ("Ctrl+Shift+P", "F11")


class _RunStopKeys(QObject):
    """Catches Ctrl+Enter and Esc inside one editor (which would otherwise take the keys)."""

    def __init__(self, editor: QWidget, run: Callable[[], object], stop: Callable[[], object] | None) -> None:
        super().__init__(editor)
        self.run, self.stop = run, stop

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                    event.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.run()
                return True
            if event.key() == Qt.Key.Key_Escape and self.stop is not None:
                self.stop()
                return True
        return super().eventFilter(obj, event)


def run_shortcut(owner: QWidget, run: Callable[[], object], editor: QWidget | None = None,
                 stop: Callable[[], object] | None = None) -> None:
    """Ctrl+Enter anywhere in ``owner`` calls ``run``. With ``editor``, Ctrl+Enter and Esc are also
    caught in that editor itself: window shortcuts only fire while the window is active."""
    for seq in RUN_KEYS:
        sc = QShortcut(QKeySequence(seq), owner)
        sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        sc.activated.connect(run)
    if editor is not None:
        editor.installEventFilter(_RunStopKeys(editor, run, stop))
