"""What does not fit: every tab at laptop and projector sizes, with the Labs dock and in presenter mode.

    xvfb-run -a -s "-screen 0 1920x1080x24" python bench/layout_check.py [--sizes 1200x800,1400x900]

For each window size and mode (plain, Labs dock open, presenter mode) and each tab it prints what a
person would find cut or hidden, as ``playground/qt/layout_audit.py`` finds it (the same check
tests/qt/test_layout_fits.py makes): the window past the screen (each size is taken as the screen's
room, as on a laptop or a projector of that size), the model bar past one line, a tab or a form that
scrolls sideways or down (down is allowed in presenter mode), a widget cut by its parent or squeezed
below its text, a button's text cut, a table's columns cut.

No model is loaded: this measures the layout each tab shows before its first result. Issue 28's
check is that the list is empty at both sizes, with the dock and in presenter mode.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


MODES = ("plain", "dock", "presenter")


def arrange(window, width: int, height: int, mode: str) -> None:
    """The window at ``width`` x ``height`` on a screen of that size, in ``mode``: plain, dock (the Labs
    dock open) or presenter (presenter mode, from the View menu's action)."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication

    window.set_presenting(False)
    window.toggle_labs(False)
    window.available_geometry = lambda: QRect(0, 0, width, height)
    window.resize(width, height)
    if mode == "dock":
        window.toggle_labs(True)
    if mode == "presenter":
        window.presenter_action.trigger()
    for _ in range(3):
        QApplication.processEvents()


def findings(window, panel, mode: str) -> list:
    """What is cut or hidden on ``panel``'s tab (shown first) and on the window around it."""
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication

    from playground.qt.layout_audit import page_findings, window_findings

    window.tabs.setCurrentIndex(window.panels.index(panel))
    for _ in range(3):
        QApplication.processEvents()
    room = window.available_geometry()
    return window_findings(window, QRect(room)) + page_findings(panel, allow_scroll_down=mode == "presenter")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1200x800,1400x900")
    args = parser.parse_args()
    os.environ.setdefault("PLAYGROUND_HOME", tempfile.mkdtemp(prefix="layout-check-"))

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    context = AppContext()
    window = MainWindow(context)
    window.show()
    window.build_tabs()
    from playground.qt.layout_audit import show_bundled_facts

    show_bundled_facts(window.model_bar)
    total = 0
    for size in args.sizes.split(","):
        width, height = (int(x) for x in size.split("x"))
        for mode in MODES:
            arrange(window, width, height, mode)
            print(f"\n== {width}x{height}, {mode} (window now {window.width()}x{window.height()}, model bar "
                  f"{window.model_bar.height()} px, tabs at y={window.tabs.y()})")
            for panel in window.panels:
                found = findings(window, panel, mode)
                total += len(found)
                print(f"  {panel.title:<10} " + ("ok" if not found else str(found[0])))
                for line in found[1:]:
                    print(f"  {'':<10} {line}")
    arrange(window, 1200, 800, "plain")
    print(f"\n{total} problems")
    context.runner.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
