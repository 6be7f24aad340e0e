"""The main window: model bar, tabs, menus, status bar (presenter mode and the theme: ``window_view``)."""

from __future__ import annotations

import base64

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from playground import APP_NAME
from playground.core.base.settings_schema import WindowSection
from playground.qt import design
from playground.qt.context import AppContext
from playground.qt.labs.window import LabsWindowMixin
from playground.qt.model_bar import ModelBar
from playground.qt.shortcuts import PRESENTER_KEYS
from playground.qt.window_view import ViewWindowMixin


class MainWindow(LabsWindowMixin, ViewWindowMixin, QMainWindow):
    sig_first_paint = Signal()
    """emitted once, after the window has painted for the first time"""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.panels: list = []
        self.last_error: tuple[str, str, str] | None = None
        self._painted = False
        self.setWindowTitle(APP_NAME)
        self.resize(1200, 800)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        self.model_bar = ModelBar(context)
        self.model_bar.change_button.clicked.connect(self.change_model)
        self.tabs = QTabWidget()
        # Arrows rather than a tab bar wider than the window (presenter zoom, the Labs dock open).
        self.tabs.setUsesScrollButtons(True)
        self.tabs.setDocumentMode(True)
        self.presenting = False
        self._before_presenting: tuple | None = None
        layout.addWidget(self.model_bar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.theme_actions.get(self.theme, self.theme_actions["system"]).setChecked(True)
        self.contrast_action.blockSignals(True)
        self.contrast_action.setChecked(context.settings.section(WindowSection).high_contrast)
        self.contrast_action.blockSignals(False)
        self.device_label = QLabel("device: –")
        self.memory_label = QLabel("memory: –")
        for label in (self.device_label, self.memory_label):
            design.set_type(label, "caption")
        self.memory_label.setToolTip("Memory used by the app (resident set), and the model's weights.")
        # Room for the widest figure it will show, so the status bar does not re-lay out (and squeeze
        # it for a moment) each time the figure gets a digit longer.
        widest = "memory: 999.99 MiB · weights 999.99 MiB"
        self.memory_label.setMinimumWidth(self.memory_label.fontMetrics().horizontalAdvance(widest))
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().addPermanentWidget(self.memory_label)
        self._memory_timer = QTimer(self)
        self._memory_timer.setInterval(2000)
        self._memory_timer.timeout.connect(self._update_memory)
        self._memory_timer.start()
        esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        esc.activated.connect(self.escape)
        hints = QApplication.styleHints()
        if hasattr(hints, "colorSchemeChanged"):  # Qt 6.5+: follow the desktop's light or dark scheme
            hints.colorSchemeChanged.connect(self._on_system_scheme)
        self._refresh_icons()
        context.sig_error.connect(self.show_error)
        context.sig_notice.connect(lambda message: self.statusBar().showMessage(message, 15000))
        context.sig_model_changed.connect(self._on_model_changed)
        context.sig_busy.connect(lambda m, p: self.statusBar().showMessage(m) if m else self.statusBar().clearMessage())
        geometry = context.settings.section(WindowSection).geometry
        if geometry:
            try:
                self.restoreGeometry(base64.b64decode(geometry))
            except (ValueError, TypeError):
                pass

    def _action(self, text: str, on_trigger, keys=None, tip: str | None = None) -> QAction:
        """A menu action with its shortcut (a key string or a QKeySequence) and tooltip."""
        action = QAction(text, self)
        if keys is not None:
            action.setShortcut(QKeySequence(keys))
        if tip is not None:
            action.setToolTip(tip)
        action.triggered.connect(on_trigger)
        return action

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        file_menu.addAction(quit_action)
        model_menu = self.menuBar().addMenu("&Model")
        model_menu.addAction(self._action("&Change model…", self.change_model, "Ctrl+M"))
        model_menu.addAction(self._action("Load the &bundled model", self.load_default_model))
        self.export_session_action = self._action(
            "&Export session as HTML…", self.export_session_dialog, "Ctrl+Shift+E",
            "Save the prompts, settings, outputs and charts of this session as one handout.")
        self.export_notebook_action = self._action(
            "Export as &notebook…", lambda: self.export_notebook_dialog(None), "Ctrl+Shift+N",
            "Save a Jupyter notebook that reproduces what you did, with plain transformers / peft.")
        file_menu.insertAction(quit_action, self.export_session_action)
        file_menu.insertAction(quit_action, self.export_notebook_action)
        self.change_model_action = model_menu.actions()[0]

        view = self.menuBar().addMenu("&View")
        for text, keys, step in (("Zoom &in", ["Ctrl+=", "Ctrl++"], 1), ("Zoom &out", ["Ctrl+-"], -1),
                                 ("&Reset zoom", ["Ctrl+0"], 0)):
            act = QAction(text, self)
            act.setShortcuts([QKeySequence(k) for k in keys])
            act.triggered.connect(lambda _=False, d=step: self.zoom(d))
            view.addAction(act)
        view.addSeparator()
        self.presenter_action = QAction("&Presenter mode", self)
        self.presenter_action.setCheckable(True)
        self.presenter_action.setShortcuts([QKeySequence(k) for k in PRESENTER_KEYS])
        self.presenter_action.setToolTip("Large text and charts for a room, inside the screen. Esc, F11 or "
                                         "this item again leaves it.")
        self.presenter_action.toggled.connect(self.set_presenting)
        view.addAction(self.presenter_action)
        self.theme_menu = theme_menu = view.addMenu("&Theme")
        self.theme_actions = {}
        group = QActionGroup(self)
        for name in ("system", "light", "dark"):
            act = QAction(name.capitalize() + (" (follows the desktop)" if name == "system" else ""), self)
            act.setCheckable(True)
            act.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group.addAction(act)
            theme_menu.addAction(act)
            self.theme_actions[name] = act
        self.contrast_action = QAction("&High contrast", self)
        self.contrast_action.setCheckable(True)
        self.contrast_action.toggled.connect(lambda on: self.set_theme(self.theme, on))
        view.addAction(self.contrast_action)
        view.addSeparator()
        self.labs_action = self._action("&Labs", lambda: self.toggle_labs(), "Ctrl+L",
                                        "The course's labs, step by step beside the tabs, checked as you go.")
        view.addAction(self.labs_action)

        help_menu = self.menuBar().addMenu("&Help")
        self.guide_action = self._action("&Guide for this tab", self.show_guide, "F1")
        help_menu.addAction(self.guide_action)
        help_menu.addAction(self._action("&Welcome tour", self.show_tour))
        help_menu.addAction(self._action("&About", self.show_about))

    def build_tabs(self) -> None:
        """Create the tabs (their modules import here, after the first paint)."""
        if self.panels:
            return
        from playground.qt.tabs import load_tab_classes

        for cls in load_tab_classes():
            panel = cls(self.context)
            self.panels.append(panel)
            # A scroll area keeps every tab usable on a small window or at a large presenter zoom.
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(panel)
            index = self.tabs.addTab(scroll, design.icon(design.tab_icon_name(panel)), panel.title)
            self.tabs.setTabToolTip(index, panel.guide)
        self.tabs.installEventFilter(self)
        self._fit_tab_bar(force=True)
        self.watch_labs()
        self._connect_tabs()
        saved = self.context.settings.section(WindowSection).current_tab
        if isinstance(saved, int) and 0 <= saved < self.tabs.count():
            self.tabs.setCurrentIndex(saved)

    def _connect_tabs(self) -> None:
        """Tabs stay independent of each other; the window carries their few requests across."""
        try:
            finetune, lifecycle = self.panel("FinetunePanel"), self.panel("LifecyclePanel")
        except KeyError:
            return

        def check(run_dir: str) -> None:
            self.tabs.setCurrentIndex(self.panels.index(lifecycle))
            lifecycle.check_forgetting(run_dir)
        finetune.sig_check_forgetting.connect(check)

    def current_panel(self):
        """The panel of the tab on show (None before the tabs exist)."""
        index = self.tabs.currentIndex()
        return self.panels[index] if 0 <= index < len(self.panels) else None

    def panel(self, cls_name: str):
        for p in self.panels:
            if type(p).__name__ == cls_name:
                return p
        raise KeyError(cls_name)

    def load_default_model(self) -> None:
        from playground.core.models.sources import ModelSource

        self.context.load_model(ModelSource("bundled"))

    def change_model(self) -> None:
        from playground.qt.model_dialog import ModelDialog

        recent = self.context.settings.section(WindowSection).recent_folders
        dialog = ModelDialog(self, recent)
        if dialog.exec():
            source, device, dtype = dialog.choice()
            if source.kind == "local":
                self.context.settings.update(WindowSection, recent_folders=[source.ref] + [r for r in recent if r != source.ref][:9])
            self.context.load_model(source, device=device, dtype=dtype)

    # help, handout ------------------------------------------------------------------------------
    def show_guide(self) -> None:
        from playground.qt.help import GuideDialog

        panel = self.current_panel()
        if panel is not None:  # none before the tabs exist
            GuideDialog(panel, self).open()

    def show_tour(self):
        from playground.qt.help import WelcomeTour

        tour = WelcomeTour(self)
        tour.finished.connect(lambda _: self.context.settings.update(WindowSection, welcome_seen=True))
        tour.accepted.connect(self._start_where_the_tour_says)
        tour.open()
        return tour

    def _start_where_the_tour_says(self) -> None:
        from playground.qt.help import START_TAB

        titles = [p.title for p in self.panels]
        if START_TAB in titles:
            self.tabs.setCurrentIndex(titles.index(START_TAB))

    def export_session(self, path: str) -> None:
        from playground.core.base.paths import atomic_write_text
        from playground.qt.session_export import session_html

        atomic_write_text(path, session_html(self.panels))

    def export_session_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getSaveFileName(self, "Export session", "playground-session.html", "HTML (*.html)")
        if path:
            try:
                self.export_session(path)
                self.statusBar().showMessage(f"Session saved to {path}", 5000)
            except OSError as exc:
                self.show_error("The session could not be saved", str(exc), "Choose another folder.")

    def stop_current(self) -> None:
        widget = self.current_panel()
        if widget is not None and hasattr(widget, "stop"):
            widget.stop()

    def show_error(self, title: str, message: str, hint: str = "") -> None:
        self.last_error = (title, message, hint)
        self.statusBar().showMessage(message, 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        if hint:
            box.setInformativeText(hint)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not modal to the event loop: background work keeps running

    def show_about(self) -> None:
        from playground.core.base.about import about_lines, credits_lines

        loaded = self.context.session.current
        versions = about_lines(loaded.info.device, loaded.info.dtype) if loaded else about_lines()
        box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_NAME}",
                          "See and feel how large language models work, on your own machine.\n\n"
                          + "\n".join(versions) + "\n\n" + "\n\n".join(credits_lines()),
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _on_model_changed(self, loaded) -> None:
        self.device_label.setText(f"device: {loaded.info.device} · {loaded.info.dtype}")
        self._update_memory()

    def _update_memory(self) -> None:
        try:
            import psutil

            rss = psutil.Process().memory_info().rss
        except Exception:
            return
        from playground.core.base.units import format_bytes

        loaded = self.context.session.current
        weights = f" · weights {format_bytes(loaded.info.memory_bytes)}" if loaded else ""
        self.memory_label.setText(f"memory: {format_bytes(rss)}{weights}")
        from playground.qt.model_bar import memory_tip

        # what is held, as the model bar lists it (issue 35): the same reading, the same words
        self.memory_label.setToolTip(memory_tip(self.model_bar.held) or
                                     "Memory used by the app (resident set), and the model's weights.")

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            QTimer.singleShot(0, self.sig_first_paint.emit)

    def save_state(self) -> None:
        s = self.context.settings
        # presenter mode is for the room: the geometry kept is the one from before it
        geometry = self._before_presenting[0] if self._before_presenting else self.saveGeometry()
        s.update(WindowSection, geometry=base64.b64encode(bytes(geometry)).decode("ascii"),
                 current_tab=self.tabs.currentIndex())
        try:
            s.save()
        except OSError:
            pass

    def closeEvent(self, event) -> None:
        self.save_state()
        self.context.runner.cancel_all()
        super().closeEvent(event)
