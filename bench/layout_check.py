"""What does not fit: every tab at laptop and projector sizes, with the Labs dock and in presenter mode.

    xvfb-run -a -s "-screen 0 1920x1080x24" python bench/layout_check.py [--sizes 1200x800,1400x900]

For each window size and mode (plain, Labs dock open, presenter zoom 150%) and each tab it prints
what a person would find cut or hidden:

- ``scrolls sideways``: the tab is wider than the window (its scroll area scrolls horizontally);
- ``scrolls down N px``: the tab is taller than the window (the first screen does not show it all);
- ``wider than the screen``: the window itself grew past the screen;
- ``cut text``: a button or check box whose text is wider than the button;
- ``cut columns``: a table whose columns do not fit its width (it scrolls sideways).

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


def _problems(window, page) -> list[str]:
    from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QCheckBox, QScrollArea, QTableView

    out = []
    screen = window.screen().availableGeometry()
    if window.frameGeometry().width() > screen.width() + 1:
        out.append(f"window {window.frameGeometry().width()} px wider than the screen ({screen.width()} px)")
    scroll = page.parentWidget().parentWidget() if page.parentWidget() is not None else None
    if isinstance(scroll, QScrollArea):
        h, v = scroll.horizontalScrollBar(), scroll.verticalScrollBar()
        if h.maximum() > 0:
            out.append(f"scrolls sideways by {h.maximum()} px")
        if v.maximum() > 0:
            out.append(f"scrolls down {v.maximum()} px")
    for w in page.findChildren(QAbstractButton):
        if not w.isVisible() or not w.text():
            continue
        need = w.fontMetrics().horizontalAdvance(w.text().replace("&", ""))
        room = w.contentsRect().width() - (22 if isinstance(w, QCheckBox) else 8)
        if need > room + 1:
            out.append(f"cut text: {w.text()!r} needs {need} px, has {room}")
    for t in page.findChildren(QTableView):
        if t.isVisible() and t.horizontalScrollBar().maximum() > 0:
            out.append(f"cut columns: a table ({t.objectName() or type(t).__name__}) scrolls sideways "
                       f"by {t.horizontalScrollBar().maximum()} px")
    for a in page.findChildren(QAbstractScrollArea):
        if isinstance(a, (QScrollArea, QTableView)) or not a.isVisible():
            continue
        if a.horizontalScrollBar().isVisible() and a.horizontalScrollBar().maximum() > 0 \
                and type(a).__name__ not in ("QPlainTextEdit", "QTextBrowser", "QTextEdit"):
            out.append(f"{type(a).__name__} scrolls sideways by {a.horizontalScrollBar().maximum()} px")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1200x800,1400x900")
    parser.add_argument("--zoom", type=float, default=1.5, help="the presenter zoom to check (default 1.5)")
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
    total = 0
    for size in args.sizes.split(","):
        width, height = (int(x) for x in size.split("x"))
        for mode in ("plain", "labs dock", f"presenter {args.zoom:.0%}"):
            window.presenter.set_zoom(args.zoom if mode.startswith("presenter") else 1.0)
            window.resize(width, height)
            if mode == "labs dock":
                window.toggle_labs(True)
            app.processEvents()
            print(f"\n== {width}x{height}, {mode} (window now {window.width()}x{window.height()})")
            for i, panel in enumerate(window.panels):
                window.tabs.setCurrentIndex(i)
                for _ in range(3):
                    app.processEvents()
                found = _problems(window, panel)
                total += len(found)
                print(f"  {panel.title:<10} " + ("ok" if not found else found[0]))
                for line in found[1:]:
                    print(f"  {'':<10} {line}")
            if mode == "labs dock":
                window.toggle_labs(False)
    window.presenter.set_zoom(1.0)
    print(f"\n{total} problems")
    context.runner.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
