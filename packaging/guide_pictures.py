"""Render the F1 guides' pictures from the app itself: one small PNG per tab under resources/guides/.

Run it after a visible change to a tab (it loads the bundled model, so it takes a minute)::

    PLAYGROUND_HOME=/tmp/guide-home QT_QPA_PLATFORM=offscreen python packaging/guide_pictures.py

Each picture is the tab as a learner first sees it after one action (Generate writes, Inside
analyses its sentence, Sampling reads its prompt), scaled to 560 px wide.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

WIDTH = 560


def main() -> int:
    from playground.core.base.settings import Settings
    from playground.qt.context import AppContext
    from playground.qt.help import guide_picture_path
    from playground.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    context = AppContext(settings=Settings(Path("/tmp") / "guide-pictures-settings.json"))
    window = MainWindow(context)
    window.resize(1280, 820)
    window.build_tabs()
    window.show()
    gen, inside, sampling = (window.panel(n) for n in ("GeneratePanel", "InsidePanel", "SamplingPanel"))

    def start_work():
        gen.prompt_edit.setPlainText("What is a language model?")
        gen.max_tokens.setValue(24)
        gen.generate()
        inside.view_tabs.setCurrentIndex(list(inside.views).index("attention"))

    def grab(i):
        window.tabs.setCurrentIndex(i)
        QTimer.singleShot(800, lambda: save(i))

    def save(i):
        panel = window.panels[i]
        picture = window.tabs.currentWidget().grab().scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
        path = guide_picture_path(panel.title)
        path.parent.mkdir(parents=True, exist_ok=True)
        # 256 colours: a screen of flat widgets loses nothing visible and the file shrinks by half.
        picture.toImage().convertToFormat(QImage.Format.Format_Indexed8).save(str(path), "PNG")
        print(f"{path}: {path.stat().st_size / 1024:.0f} KB", flush=True)
        if i + 1 < len(window.panels):
            grab(i + 1)
        else:
            app.quit()

    # (condition, action) run one after another as each condition comes true
    steps = [(lambda: context.session.current is not None, start_work),
             (lambda: not gen.busy and gen.tokens > 0, inside.analyse),
             (lambda: not inside.busy and inside.result is not None and not sampling.busy and bool(sampling.steps),
              lambda: grab(0))]
    poll = QTimer()

    def tick():
        if steps and steps[0][0]():
            steps.pop(0)[1]()
        if not steps:
            poll.stop()

    poll.timeout.connect(tick)
    poll.start(200)
    QTimer.singleShot(400_000, app.quit)  # never hang a build
    window.load_default_model()
    app.exec()
    context.runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
