"""Widgets put on screen the way the GUI tests need them (qtbot closes them after the test)."""

from __future__ import annotations


def shown(qtbot, widget, width: int = 1300, height: int = 850):
    """``widget`` registered with qtbot, resized and shown."""
    qtbot.addWidget(widget)
    widget.resize(width, height)
    widget.show()
    return widget


def main_window(qtbot, ctx):
    """The main window on ``ctx`` with every tab built, shown."""
    from playground.qt.main_window import MainWindow

    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.build_tabs()
    window.show()
    return window
