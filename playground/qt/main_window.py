"""The main window: model bar, tabs, menus, status bar."""

from __future__ import annotations

import base64

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QVBoxLayout, QWidget

from playground import APP_NAME, __version__
from playground.qt.context import AppContext
from playground.qt.model_bar import ModelBar


class MainWindow(QMainWindow):
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
        layout.addWidget(self.model_bar)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self._build_menus()
        self.device_label = QLabel("device: –")
        self.memory_label = QLabel("memory: –")
        self.memory_label.setToolTip("Memory used by the app (resident set), and the model's weights.")
        self.statusBar().addPermanentWidget(self.device_label)
        self.statusBar().addPermanentWidget(self.memory_label)
        self._memory_timer = QTimer(self)
        self._memory_timer.setInterval(2000)
        self._memory_timer.timeout.connect(self._update_memory)
        self._memory_timer.start()
        esc = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        esc.activated.connect(self.stop_current)
        context.sig_error.connect(self.show_error)
        context.sig_model_changed.connect(self._on_model_changed)
        context.sig_busy.connect(lambda m, p: self.statusBar().showMessage(m) if m else self.statusBar().clearMessage())
        geometry = context.settings.get("window_geometry")
        if geometry:
            try:
                self.restoreGeometry(base64.b64decode(geometry))
            except (ValueError, TypeError):
                pass

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)
        model_menu = self.menuBar().addMenu("&Model")
        change = QAction("&Change model…", self)
        change.setShortcut(QKeySequence("Ctrl+M"))
        change.triggered.connect(self.change_model)
        model_menu.addAction(change)
        bundled = QAction("Load the &bundled model", self)
        bundled.triggered.connect(self.load_default_model)
        model_menu.addAction(bundled)
        help_menu = self.menuBar().addMenu("&Help")
        about = QAction("&About", self)
        about.triggered.connect(self.show_about)
        help_menu.addAction(about)

    def build_tabs(self) -> None:
        """Create the tabs (their modules import here, after the first paint)."""
        if self.panels:
            return
        from playground.qt.tabs import load_tab_classes

        for cls in load_tab_classes():
            panel = cls(self.context)
            self.panels.append(panel)
            self.tabs.addTab(panel, panel.title)
        saved = self.context.settings.get("current_tab", 0)
        if isinstance(saved, int) and 0 <= saved < self.tabs.count():
            self.tabs.setCurrentIndex(saved)

    def panel(self, cls_name: str):
        for p in self.panels:
            if type(p).__name__ == cls_name:
                return p
        raise KeyError(cls_name)

    def load_default_model(self) -> None:
        from playground.core.model_sources import ModelSource

        self.context.load_model(ModelSource("bundled"))

    def change_model(self) -> None:
        from playground.qt.model_dialog import ModelDialog

        recent = self.context.settings.get("recent_folders", []) or []
        dialog = ModelDialog(self, recent)
        if dialog.exec():
            source, device, dtype = dialog.choice()
            if source.kind == "local":
                self.context.settings.set("recent_folders", [source.ref] + [r for r in recent if r != source.ref][:9])
            self.context.load_model(source, device=device, dtype=dtype)

    def stop_current(self) -> None:
        widget = self.tabs.currentWidget()
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
        import platform

        versions = [f"{APP_NAME} {__version__}", f"Python {platform.python_version()}"]
        for mod in ("torch", "transformers", "peft", "PySide6"):
            try:
                m = __import__(mod)
                versions.append(f"{mod} {m.__version__}")
            except Exception:
                versions.append(f"{mod}: not available")
        loaded = self.context.session.current
        if loaded is not None:
            versions.append(f"Device in use: {loaded.info.device} ({loaded.info.dtype})")
        box = QMessageBox(QMessageBox.Icon.Information, f"About {APP_NAME}",
                          "See and feel how large language models work, on your own machine.\n\n"
                          + "\n".join(versions), QMessageBox.StandardButton.Ok, self)
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
        s.set("window_geometry", base64.b64encode(bytes(self.saveGeometry())).decode("ascii"))
        s.set("current_tab", self.tabs.currentIndex())
        try:
            s.save()
        except OSError:
            pass

    def closeEvent(self, event) -> None:
        self.save_state()
        self.context.runner.cancel_all()
        super().closeEvent(event)
