"""Starting the desktop app (and its smoke test)."""

from __future__ import annotations

import sys
import time

_T0 = time.perf_counter()
#: After the window closes, how long unfinished work may take before the process ends anyway.
CLOSE_GRACE_SECONDS = 2.0


def create_app(argv: list[str] | None = None):
    from PySide6.QtWidgets import QApplication

    from playground import APP_NAME

    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName("llm-playground")
    # The desktop entry's name (packaging/linux): lets the desktop match the window to its
    # launcher and icon. The window icon shows where there is no entry (tarball, a checkout).
    app.setDesktopFileName("llm-playground")
    from PySide6.QtGui import QIcon

    from playground.core.base.paths import resources_dir

    icon = resources_dir() / "icons" / "llm-playground.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app


def main(argv: list[str] | None = None, smoke_test: bool = False) -> int:
    """Open the window at once; load torch, the tabs and the model after the first paint."""
    app = create_app(argv)
    from playground.core.base.paths import writable_user_dirs
    from playground.core.base.settings_schema import ModelSection, WindowSection
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow
    from playground.qt.single_instance import InstanceServer, another_instance_running

    _dirs, dir_problem = writable_user_dirs()
    if not smoke_test and another_instance_running():
        print("LLM Playground is already running: its window was brought to the front.")
        return 0
    instance = None if smoke_test else InstanceServer(parent=app)
    context = AppContext()
    window = MainWindow(context)
    window.restore_view()
    if instance is not None:
        instance.sig_raise_requested.connect(lambda: (window.showNormal(), window.raise_(), window.activateWindow()))

    def after_first_paint() -> None:
        window.build_tabs()
        src = context.settings.section(ModelSection).source or None
        from playground.core.models.sources import ModelSource

        source = ModelSource.from_dict(src) if isinstance(src, dict) else ModelSource("bundled")
        if source.kind == "hub":  # never reach the network without the user asking
            source = ModelSource("bundled")
        task = context.load_model(source)
        if task is not None:  # then the run the last session had attached
            task.sig_done.connect(lambda *_: context.restore_adapter())
        if source.kind != "bundled":
            # If the last model is gone, fall back to the bundled one.
            task.sig_failed.connect(lambda *_: context.load_model(ModelSource("bundled")))

    def first_run_notes() -> None:
        if dir_problem:
            window.show_error("Your user folder cannot be written", dir_problem)
        if context.settings.load_problem:
            window.statusBar().showMessage(context.settings.load_problem, 10000)
        if not smoke_test and not context.settings.section(WindowSection).welcome_seen:
            window.show_tour()

    smoke = None
    if smoke_test:
        from playground.qt.smoke import SmokeTest

        smoke = SmokeTest(window, started=_T0)
        # Connected first, so it reports the paint before building the tabs (slots run in order).
        window.sig_first_paint.connect(smoke.on_first_paint)
    window.sig_first_paint.connect(after_first_paint)
    window.sig_first_paint.connect(first_run_notes)
    from playground.qt.sigterm import SigtermStop

    # SIGTERM (a logout, a service stop, `kill`) as Ctrl+C in the CLI: training stops with a checkpoint.
    sigterm = SigtermStop(window, context.runner, parent=app)
    window.show()
    code = app.exec()
    sigterm.uninstall()
    window.save_state()
    if smoke is not None:
        code = smoke.exit_code
    if not context.runner.shutdown_within(CLOSE_GRACE_SECONDS):
        # A load or a forward pass that cannot look at Stop is still running; Python would wait for
        # its thread at exit (minutes, with no window). The settings are saved and a training run's
        # checkpoints are on disk: end the process now.
        import os

        if instance is not None:
            instance.server.close()  # a new start must not find this one "already running"
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code
