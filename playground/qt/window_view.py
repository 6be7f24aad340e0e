"""The main window's view: presenter mode, zoom, the theme (light, dark, following the desktop) and icons.

Presenter mode (View > Presenter mode, Ctrl+Shift+P or F11; Esc or the same item leaves it) zooms every
text and chart by ``PRESENTER_ZOOM`` and keeps the window inside the screen's available geometry: the
model bar stays one line, the tabs drop their icons before they would scroll, and layouts reflow.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRect, QSize, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QWidget

from playground.core.base.settings_schema import WindowSection
from playground.qt import design


class ViewWindowMixin:
    """Mixed into MainWindow: expects ``context``, ``panels``, ``tabs``, ``model_bar``, the View menu's
    actions (``presenter_action``, ``theme_actions``, ``contrast_action``, ``theme_menu``, …) and
    ``_labs_dock``."""

    presenting = False
    _before_presenting: tuple | None = None

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
