"""Screenshots of the whole window: every tab, the Labs dock open, presenter mode (and the dark theme).

    xvfb-run -a -s "-screen 0 1400x900x24" python bench/window_screens.py --prefix docs/screens/after-window

No model is loaded (the tabs show what they show before a first result); the model bar is given the
bundled model's facts, so its line is as long as a learner sees it. Each picture is the window as
drawn by Qt (``QWidget.grab``), and for presenter mode also the screen, to show what is off it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def slug(title: str) -> str:
    import re

    return re.sub(r"[^a-z0-9]+", "-", title.lower().replace("&", "and")).strip("-")


def settle(app, n: int = 4) -> None:
    for _ in range(n):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", default="docs/screens/after-window", help="path and start of each file name")
    parser.add_argument("--sizes", default="1200x800", help="window sizes, e.g. 1200x800,1400x900")
    parser.add_argument("--modes", default="plain,dock,presenter", help="plain, dock, presenter, presenter-dock, dark")
    parser.add_argument("--tabs", default="all", help="'all' for every tab in each mode, 'first' for one")
    parser.add_argument("--every-tab-plain", action="store_true", help="every tab in plain mode, first otherwise")
    parser.add_argument("--sections", action="store_true",
                        help="also every section of the tabs made of sections (Evaluate, Lifecycle, Build)")
    args = parser.parse_args()
    os.environ.setdefault("PLAYGROUND_HOME", tempfile.mkdtemp(prefix="window-screens-"))

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    context = AppContext()
    window = MainWindow(context)
    if hasattr(window, "restore_view"):
        window.restore_view()
    window.show()
    window.build_tabs()
    from playground.qt.layout_audit import show_bundled_facts

    show_bundled_facts(window.model_bar)
    prefix = Path(args.prefix)
    prefix.parent.mkdir(parents=True, exist_ok=True)
    for size in args.sizes.split(","):
        width, height = (int(x) for x in size.split("x"))
        for mode in args.modes.split(","):
            window.resize(width, height)
            if mode == "dark":
                window.set_theme("dark")
            if mode in ("dock", "presenter-dock"):
                window.toggle_labs(True)
            if mode.startswith("presenter"):
                if hasattr(window, "set_presenting"):
                    window.set_presenting(True)
                else:  # before issue 28: presenter mode lived on the Labs dock only
                    window.toggle_labs(True).set_presenting(True)
            settle(app)
            every = args.tabs == "all" or (args.every_tab_plain and mode == "plain")
            for i, panel in enumerate(window.panels if every else window.panels[:1]):
                window.tabs.setCurrentIndex(i)
                window.statusBar().clearMessage()
                settle(app)
                name = f"{prefix.name}-{width}x{height}-{mode}" + (f"-{slug(panel.title)}" if every else "")
                window.grab().save(str(prefix.parent / f"{name}.png"))
                print(f"{name}: window {window.width()}x{window.height()}, "
                      f"model bar {window.model_bar.height()} px high, tabs at y={window.tabs.y()}")
                sections = getattr(panel, "sections", None) if args.sections else None
                for j in range(1, sections.count() if sections is not None else 0):
                    sections.setCurrentIndex(j)
                    settle(app)
                    part = f"{name}-{slug(sections.tabText(j))}"
                    window.grab().save(str(prefix.parent / f"{part}.png"))
                    print(f"{part}: section {sections.tabText(j)!r}")
                if sections is not None:
                    sections.setCurrentIndex(0)
            if mode.startswith("presenter"):
                shot = window.screen().grabWindow(0)
                shot.save(str(prefix.parent / f"{prefix.name}-{width}x{height}-{mode}-screen.png"))
                if hasattr(window, "set_presenting"):
                    window.set_presenting(False)
                else:
                    window.labs_dock.set_presenting(False)
            if mode in ("dock", "presenter", "presenter-dock"):
                window.toggle_labs(False)
            if mode == "dark":
                window.set_theme("light")
    context.runner.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
