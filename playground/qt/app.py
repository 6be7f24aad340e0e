"""Starting the desktop app (and its smoke test)."""

from __future__ import annotations

import sys
import time

_T0 = time.perf_counter()


def create_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from playground import APP_NAME

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("llm-playground")
    return app


def main(argv: list[str] | None = None, smoke_test: bool = False) -> int:
    """Open the window at once; load torch, the tabs and the model after the first paint."""
    app = create_app(argv)
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    context = AppContext()
    window = MainWindow(context)

    def after_first_paint() -> None:
        window.build_tabs()
        saved = context.settings.get("model") or {}
        src = saved.get("source") if isinstance(saved, dict) else None
        from playground.core.model_sources import ModelSource

        source = ModelSource.from_dict(src) if isinstance(src, dict) else ModelSource("bundled")
        if source.kind == "hub":  # never reach the network without the user asking
            source = ModelSource("bundled")
        task = context.load_model(source)
        if source.kind != "bundled":
            # If the last model is gone, fall back to the bundled one.
            task.sig_failed.connect(lambda *_: context.load_model(ModelSource("bundled")))

    window.sig_first_paint.connect(after_first_paint)
    smoke = None
    if smoke_test:
        from playground.qt.smoke import SmokeTest

        smoke = SmokeTest(window, started=_T0)
        window.sig_first_paint.connect(smoke.on_first_paint)
    window.show()
    code = app.exec()
    window.save_state()
    context.runner.shutdown(wait=True)
    if smoke is not None:
        return smoke.exit_code
    return code
