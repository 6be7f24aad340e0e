"""Screenshots of the model bar's memory figure (issue 35): the whole window at 1200x800 with the bundled
model, then a BF16 precision copy in use and the encoder loaded (at 1200 and 1700 px), and the figure's explanation (its tooltip
drawn in a label, since an offscreen tooltip cannot be grabbed).

Run: QT_QPA_PLATFORM=offscreen nice python bench/memory_screens.py   (writes docs/screens/memory-*.png)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
OUT = Path(__file__).resolve().parents[1] / "docs" / "screens"


def main() -> None:
    os.environ["PLAYGROUND_HOME"] = tempfile.mkdtemp(prefix="memory-screens-")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QLabel

    from playground.core.base.settings import Settings
    from playground.core.models.sources import ModelSource
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow
    from playground.qt.model_bar import memory_tip

    app = QApplication.instance() or QApplication([])
    home = Path(os.environ["PLAYGROUND_HOME"])
    ctx = AppContext(settings=Settings(home / "settings.json"))
    w = MainWindow(ctx)
    w.build_tabs()
    w.resize(1200, 800)
    w.show()

    def wait(cond) -> None:
        while not cond():
            loop = QEventLoop()
            QTimer.singleShot(50, loop.quit)
            loop.exec()

    ctx.load_model(ModelSource("bundled"), device="cpu")
    wait(lambda: ctx.session.current is not None and not ctx.load_slot.busy)
    bar = w.model_bar
    bar.refresh_memory()
    OUT.mkdir(parents=True, exist_ok=True)
    w.grab().save(str(OUT / "memory-window.png"))
    bar.grab().save(str(OUT / "memory-model-bar.png"))
    print("bundled:", bar.held_text())

    from playground.core.lifecycle.precision import at_precision
    from playground.core.models.encoder import sentence_embeddings

    sentence_embeddings(["The encoder is loaded for a similarity."])
    bf16 = at_precision(ctx.session.base, "bf16")
    ctx.session.set(bf16)
    ctx.sig_model_changed.emit(bf16)
    bar.refresh_memory()
    bar.grab().save(str(OUT / "memory-model-bar-bf16.png"))  # at 1200 px the line is cut, the tooltip has it all
    w.resize(1700, 800)
    wait(lambda: True)
    bar.grab().save(str(OUT / "memory-model-bar-bf16-wide.png"))
    print("bf16 + encoder:", bar.held_text())
    tip = QLabel()
    tip.setTextFormat(tip.textFormat().RichText)
    tip.setText(memory_tip(bar.held))
    tip.setWordWrap(True)
    tip.setStyleSheet("QLabel { background: palette(tooltip-base); padding: 6px; }")
    tip.setFixedWidth(620)
    tip.adjustSize()
    tip.show()
    wait(lambda: True)
    tip.grab().save(str(OUT / "memory-breakdown.png"))
    ctx.runner.shutdown(wait=True)


if __name__ == "__main__":
    main()
