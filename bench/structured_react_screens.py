"""Screenshots of the Structured output and ReAct sections on the bundled model, every state, into docs/screens:

    QT_QPA_PLATFORM=offscreen nice python bench/structured_react_screens.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
OUT = Path(__file__).resolve().parent.parent / "docs" / "screens"


def wait(app, cond, limit_s=900):
    import time

    end = time.time() + limit_s
    while not cond() and time.time() < end:
        app.processEvents()
        time.sleep(0.05)
    assert cond(), "timed out"


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from playground.core.base.settings import Settings
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource
    from playground.qt.build.react_page import ReactPage
    from playground.qt.build.structured_page import StructuredPage
    from playground.qt.context import AppContext

    app = QApplication.instance() or QApplication([])
    ctx = AppContext(settings=Settings(Path("/tmp/screens-settings.json")))
    ctx.session.set(load_model(ModelSource("bundled"), device="cpu"))
    only = set(sys.argv[1:])

    def shot(widget, name):
        app.processEvents()
        widget.grab().save(str(OUT / name))
        print("saved", name, flush=True)

    if not only or "structured" in only:
        page = StructuredPage(ctx)
        page.resize(1200, 693)
        page.show()
        shot(page, "build-structured-empty.png")
        page.schema.setPlainText('{"type": "nonsense"}')
        page.compare()
        shot(page, "build-structured-bad-schema.png")
        from playground.core.reasoning.constrained import ANSWER_SCHEMA
        import json

        page.schema.setPlainText(json.dumps(ANSWER_SCHEMA, indent=1))
        page.question.setCurrentIndex(3)
        page.compare()
        wait(app, lambda: bool(page.results) and not page.slot.busy)
        shot(page, "build-structured-compared.png")
        page.step.setValue(min(6, page.step.maximum()))
        shot(page, "build-structured-step.png")
        page.limit.setValue(2)
        page.rate()
        wait(app, lambda: bool(page.rates) and not page.slot.busy)
        shot(page, "build-structured-rate.png")
    if not only or "react" in only:
        page = ReactPage(ctx)
        page.resize(1200, 693)
        page.show()
        shot(page, "build-react-empty.png")
        page.next_step()
        wait(app, lambda: page.run is not None and page.run.steps and not page.slot.busy)
        shot(page, "build-react-step.png")
        page.trace.setCurrentRow(0)
        page.action_edit.setText("search[ferry fare adult child]")
        page.edit("action")
        wait(app, lambda: not page.slot.busy and page.run.branches)
        page.next_step()
        wait(app, lambda: not page.slot.busy and len(page.run.steps) >= 2)
        shot(page, "build-react-edited.png")
        page.constrain.setChecked(True)
        page.max_steps.setValue(3)
        page.run_to_end()
        wait(app, lambda: not page.slot.busy and page.run.constrain and page.run.status != "running")
        shot(page, "build-react-constrained.png")
    ctx.runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
