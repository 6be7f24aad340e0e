"""Presenter mode: zoom every text and plot (Ctrl+= / Ctrl+- / Ctrl+0), themes and high contrast."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5)
THEMES = ("system", "light", "dark")


class Presenter:
    """Applies a zoom factor to the application font, fixed-font widgets and matplotlib canvases."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.base_point_size = app.font().pointSizeF() or 10.0
        self.zoom = 1.0
        self._applied = 1.0  # the zoom the widgets currently show

    def step(self, direction: int) -> float:
        """Zoom one step in (+1) or out (-1); 0 resets. Returns the new factor."""
        if direction == 0:
            return self.set_zoom(1.0)
        i = min(range(len(ZOOM_STEPS)), key=lambda j: abs(ZOOM_STEPS[j] - self.zoom))
        i = max(0, min(len(ZOOM_STEPS) - 1, i + direction))
        return self.set_zoom(ZOOM_STEPS[i])

    def set_zoom(self, factor: float, root: QWidget | None = None) -> float:
        self.zoom = float(factor)
        roots = [root] if root is not None else self.app.topLevelWidgets()
        for top in roots:  # remember sizes before the application font moves them
            for w in [top, *top.findChildren(QWidget)]:
                if w.testAttribute(Qt.WidgetAttribute.WA_SetFont) and w.property("pg_base_point_size") is None:
                    w.setProperty("pg_base_point_size", w.font().pointSizeF() / self._applied)
        font = QFont(self.app.font())
        font.setPointSizeF(self.base_point_size * self.zoom)
        self.app.setFont(font)
        # Deliver the font change now, so every widget (and a test) sees the new size at once.
        QApplication.sendPostedEvents(None, 0)
        for top in roots:
            self.apply_to(top)
        self._applied = self.zoom
        return self.zoom

    def apply_to(self, top: QWidget) -> None:
        """Scale widgets that carry their own font, and plots, under ``top``."""
        for w in [top, *top.findChildren(QWidget)]:
            if w.styleSheet() and not w.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                # A style sheet freezes the font it resolved: re-apply it to pick up the new size.
                w.setStyleSheet(w.styleSheet())
            if w.testAttribute(Qt.WidgetAttribute.WA_SetFont):
                # Fonts set in code were made at zoom 1 (tabs are built before a zoom is applied).
                # The base size lives on the widget: Python wrappers (and their ids) come and go.
                base = w.property("pg_base_point_size")
                if base is None:
                    base = w.font().pointSizeF()
                    w.setProperty("pg_base_point_size", base)
                f = QFont(w.font())
                f.setPointSizeF(max(4.0, base * self.zoom))
                w.setFont(f)
            figure = getattr(w, "figure", None)
            if figure is not None and hasattr(figure, "set_dpi") and hasattr(w, "draw_idle"):
                if not hasattr(figure, "pg_base_dpi"):
                    figure.pg_base_dpi = figure.get_dpi()
                base = figure.pg_base_dpi
                figure.set_dpi(base * self.zoom)
                w.draw_idle()


def make_palette(theme: str, high_contrast: bool) -> QPalette | None:
    """A palette for 'light' or 'dark' (None keeps the system's), optionally high contrast."""
    if theme == "system" and not high_contrast:
        return None
    dark = theme == "dark" or (theme == "system" and _system_is_dark())
    p = QPalette()
    if dark:
        bg, base, text = QColor("#000000" if high_contrast else "#2b2b2b"), QColor("#000000" if high_contrast else "#1e1e1e"), QColor("#ffffff" if high_contrast else "#e6e6e6")
        highlight = QColor("#ffd400" if high_contrast else "#3d7bd9")
    else:
        bg, base, text = QColor("#ffffff" if high_contrast else "#f2f2f2"), QColor("#ffffff"), QColor("#000000" if high_contrast else "#1b1b1b")
        highlight = QColor("#0000c8" if high_contrast else "#2f6fd1")
    for role, colour in ((QPalette.ColorRole.Window, bg), (QPalette.ColorRole.Base, base),
                         (QPalette.ColorRole.AlternateBase, bg), (QPalette.ColorRole.Button, bg),
                         (QPalette.ColorRole.WindowText, text), (QPalette.ColorRole.Text, text),
                         (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.ToolTipText, text),
                         (QPalette.ColorRole.ToolTipBase, base), (QPalette.ColorRole.Highlight, highlight),
                         (QPalette.ColorRole.HighlightedText, base if high_contrast else QColor("#ffffff"))):
        p.setColor(role, colour)
    p.setColor(QPalette.ColorRole.PlaceholderText, text if high_contrast else QColor("#8a8a8a"))
    return p


def _system_is_dark() -> bool:
    hints = QApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return bool(scheme) and scheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str, high_contrast: bool) -> None:
    app.setStyle("Fusion")
    palette = make_palette(theme, high_contrast)
    app.setPalette(palette if palette is not None else app.style().standardPalette())
