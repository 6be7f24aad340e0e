"""Ctrl+Enter runs and Esc stops, typed in the editor a tab gives them to."""

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit, QVBoxLayout, QWidget

from playground.qt.shortcuts import run_shortcut


def test_keys_in_the_editor_run_and_stop(qtbot):
    owner = QWidget()
    editor = QPlainTextEdit()
    QVBoxLayout(owner).addWidget(editor)
    qtbot.addWidget(owner)
    calls = []
    run_shortcut(owner, lambda: calls.append("run"), editor=editor, stop=lambda: calls.append("stop"))
    qtbot.keyClicks(editor, "hi")
    qtbot.keyClick(editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor, Qt.Key.Key_Enter, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # a plain Enter is a new line, not a run
    assert calls == ["run", "run", "stop"]
    assert editor.toPlainText() == "hi\n"
