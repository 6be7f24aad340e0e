"""The main window: model bar, tabs, menus, status bar; presenter mode and the theme.

Presenter mode (View > Presenter mode, Ctrl+Shift+P or F11; Esc or the same item leaves it) zooms every
text and chart by ``PRESENTER_ZOOM`` and keeps the window inside the screen's available geometry: the
model bar stays one line, the tabs scroll rather than widen the window, and layouts reflow.
"""

from __future__ import annotations

import base64

from PySide6.QtCore import QEvent, QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QIcon, QKeySequence, QShortcut
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


class MainWindow(LabsWindowMixin, QMainWindow):
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

    # presenter mode, themes, help, handout ------------------------------------------------------
    @property
    def presenter(self):
        if getattr(self, "_presenter", None) is None:
            from PySide6.QtWidgets import QApplication

            from playground.qt.presenter import Presenter

            self._presenter = Presenter(QApplication.instance())
        return self._presenter

    def available_geometry(self) -> QRect:
        """The room the window may take: its screen's available geometry (less the desktop's panels)."""
        screen = self.screen() or QApplication.primaryScreen()
        return screen.availableGeometry()

    def set_presenting(self, on: bool) -> None:
        """Presenter mode on or off: every text and chart zoomed by ``PRESENTER_ZOOM``, the window kept
        inside the screen (it was 2,109 px wide on a 1,400 px screen); off restores zoom and geometry."""
        from playground.qt.presenter import PRESENTER_ZOOM

        on = bool(on)
        if on != self.presenting:
            self.presenting = on
            if on:
                self._before_presenting = (self.saveGeometry(), self.presenter.zoom, self.geometry())
                room = self.available_geometry()
                self.setMaximumSize(room.size())  # before the fonts grow, so nothing pushes it wider
                self.presenter.set_zoom(PRESENTER_ZOOM)
                self._keep_inside(room)
            else:
                _saved, zoom, rect = self._before_presenting or (None, 1.0, None)
                self._before_presenting = None
                self.setMaximumSize(QSize(16777215, 16777215))
                self.presenter.set_zoom(zoom)
                if rect is not None:  # the same place and size (restoreGeometry would refit it to the screen)
                    self.setGeometry(rect)
            self.statusBar().showMessage("Presenter mode: Esc or F11 leaves it." if on else "Presenter mode off.",
                                         4000)
        if self.presenter_action.isChecked() != on:
            self.presenter_action.setChecked(on)
        if self._labs_dock is not None:
            self._labs_dock.show_presenting(on)

    def _keep_inside(self, room: QRect) -> None:
        """Shrink and move the window so its frame lies inside ``room``."""
        QApplication.sendPostedEvents(None, 0)
        frame = self.frameGeometry()
        extra_w, extra_h = frame.width() - self.width(), frame.height() - self.height()
        width = min(self.width(), room.width() - extra_w)
        height = min(self.height(), room.height() - extra_h)
        if (width, height) != (self.width(), self.height()):
            self.resize(width, height)
        x = min(max(frame.x(), room.x()), room.right() + 1 - width - extra_w)
        y = min(max(frame.y(), room.y()), room.bottom() + 1 - height - extra_h)
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    def escape(self) -> None:
        """Esc: stops the tab's running work; with nothing running, leaves presenter mode."""
        panel = self.current_panel()
        busy = panel is not None and bool(getattr(panel, "busy", False))
        if self.presenting and not busy:
            self.set_presenting(False)
        else:
            self.stop_current()

    def zoom(self, direction: int) -> float:
        factor = self.presenter.step(direction)
        self.context.settings.update(WindowSection, zoom=factor)
        self.statusBar().showMessage(f"Zoom {factor:.0%}", 2000)
        return factor

    @property
    def theme(self) -> str:
        return self.context.settings.section(WindowSection).theme

    def set_theme(self, name: str, high_contrast: bool | None = None) -> None:
        """'system' (the desktop's light or dark scheme, followed as it changes), 'light' or 'dark'."""
        from playground.qt.presenter import apply_theme

        if high_contrast is None:
            high_contrast = self.context.settings.section(WindowSection).high_contrast
        self.context.settings.update(WindowSection, theme=name, high_contrast=high_contrast)
        apply_theme(QApplication.instance(), name, high_contrast)
        self._restyle()
        if name in self.theme_actions:
            self.theme_actions[name].setChecked(True)
        if self.contrast_action.isChecked() != high_contrast:
            self.contrast_action.setChecked(high_contrast)

    def _on_system_scheme(self, *_) -> None:
        if self.theme == "system":
            self.set_theme("system")

    def _restyle(self) -> None:
        """After a theme change: icons in the new text colour, charts made earlier in the new colours."""
        self._refresh_icons()
        for w in self.findChildren(QWidget):
            if w.styleSheet():  # a style sheet keeps the palette(...) colours it resolved: resolve them again
                w.setStyleSheet(w.styleSheet())
            figure = getattr(w, "figure", None)
            if figure is not None and hasattr(figure, "set_facecolor") and hasattr(w, "draw_idle"):
                design.restyle_figure(figure)
                w.draw_idle()

    def _refresh_icons(self) -> None:
        for action, name in ((self.export_session_action, "export"), (self.export_notebook_action, "notebook"),
                             (self.change_model_action, "model"), (self.labs_action, "labs"),
                             (self.presenter_action, "presenter"), (self.guide_action, "help")):
            action.setIcon(design.icon(name))
        self.theme_menu.setIcon(design.icon("theme"))
        design.set_icon(self.model_bar.change_button, "model")
        design.refresh_icons(self)  # the tabs' buttons given an icon with design.set_icon
        self._fit_tab_bar(force=True)

    tab_icons_shown = True
    """whether the tabs show their icons (dropped when the tab bar would otherwise need its arrows)"""

    def _fit_tab_bar(self, force: bool = False) -> None:
        """Icons on the tabs while every tab fits; without them (text only) when the room is short
        (the Labs dock open, presenter mode), so no tab hides behind the tab bar's arrows."""
        bar = self.tabs.tabBar()
        if not self.panels:
            return
        icon_room = len(self.panels) * (bar.iconSize().width() + 6)
        hint = bar.sizeHint().width()
        with_icons = hint if self.tab_icons_shown else hint + icon_room
        show = with_icons <= self.tabs.width()
        if show != self.tab_icons_shown or force:
            self.tab_icons_shown = show
            for i, panel in enumerate(self.panels):
                self.tabs.setTabIcon(i, design.icon(design.tab_icon_name(panel)) if show else QIcon())

    def eventFilter(self, obj, event) -> bool:
        if obj is self.tabs and event.type() in (QEvent.Type.Resize, QEvent.Type.FontChange):
            QTimer.singleShot(0, self._fit_tab_bar)  # after the tab bar has its new size hint
        return super().eventFilter(obj, event)

    def restore_view(self) -> None:
        """Theme and zoom as last used."""
        self.set_theme(self.theme)
        zoom = self.context.settings.section(WindowSection).zoom
        if isinstance(zoom, (int, float)) and zoom != 1.0:
            self.presenter.set_zoom(float(zoom))

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
        loaded = self.context.session.current
        weights = f" · weights {loaded.info.memory_bytes / 2**20:,.0f} MiB" if loaded else ""
        self.memory_label.setText(f"memory: {rss / 2**20:,.0f} MiB{weights}")

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
