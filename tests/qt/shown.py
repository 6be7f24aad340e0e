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


def in_tab_room(qtbot, panel, width: int = 1200, height: int = 693):
    """``panel`` in a scroll area the way the main window holds a tab, in the room a 1200x800 window
    leaves it; returns the scroll area, shown (keep it: it owns the panel now)."""
    from PySide6.QtWidgets import QScrollArea

    scroll = QScrollArea()
    qtbot.addWidget(scroll)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QScrollArea.Shape.NoFrame)
    scroll.setWidget(panel)
    scroll.resize(width, height)
    scroll.show()
    return scroll
