"""Zoom every text and plot (Ctrl+= / Ctrl+- / Ctrl+0; presenter mode uses it), themes and high contrast."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QWidget

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0, 2.5)
#: Presenter mode's zoom: text a room can read, while a 1200 px window still holds a tab beside its
#: controls (the window is then capped at the screen; MainWindow.set_presenting).
PRESENTER_ZOOM = 1.5
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


def make_palette(theme: str, high_contrast: bool) -> QPalette:
    """The window's palette for 'light', 'dark' or 'system' (the system's colour scheme, light where it
    says none), made from the design module's colours; optionally high contrast."""
    from playground.qt import design

    dark = theme == "dark" or (theme == "system" and _system_is_dark())
    c = design.colours(dark)
    if high_contrast:
        black, white = "#000000", "#ffffff"
        roles = dict(window=black if dark else white, base=black if dark else white, text=white if dark else black,
                     button=black if dark else white, highlight="#ffd400" if dark else "#0000c8",
                     highlighted_text=black if dark else white, placeholder=white if dark else black,
                     link="#ffd400" if dark else "#0000c8")
    else:
        roles = dict(window=c.window, base=c.base, text=c.text, button=c.button, highlight=c.highlight,
                     highlighted_text=c.highlighted_text, placeholder=c.placeholder, link=c.accent)
    R = QPalette.ColorRole
    p = QPalette()
    for role, key in ((R.Window, "window"), (R.Base, "base"), (R.AlternateBase, "window"), (R.Button, "button"),
                      (R.WindowText, "text"), (R.Text, "text"), (R.ButtonText, "text"), (R.ToolTipText, "text"),
                      (R.ToolTipBase, "base"), (R.Highlight, "highlight"), (R.HighlightedText, "highlighted_text"),
                      (R.PlaceholderText, "placeholder"), (R.Link, "link"), (R.BrightText, "highlighted_text")):
        p.setColor(role, QColor(roles[key]))
    G = QPalette.ColorGroup.Disabled
    for role in (R.WindowText, R.Text, R.ButtonText):
        p.setColor(G, role, QColor(roles["placeholder"]))
    # Fusion draws frames and shadows from these: derived from the window colour, so both themes get them.
    window = QColor(roles["window"])
    for role, colour in ((R.Light, window.lighter(150)), (R.Midlight, window.lighter(125)),
                         (R.Mid, window.darker(130) if not dark else window.lighter(160)),
                         (R.Dark, window.darker(160) if not dark else window.darker(140)),
                         (R.Shadow, QColor("#000000"))):
        p.setColor(role, colour)
    return p


def _system_is_dark() -> bool:
    """The desktop's colour scheme says dark (Qt 6.5+: QStyleHints.colorScheme); False when it says
    nothing (Unknown) or Qt is older."""
    hints = QApplication.styleHints()
    scheme = getattr(hints, "colorScheme", None)
    return scheme is not None and scheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: str, high_contrast: bool) -> None:
    """The palette of ``theme`` on the whole app (Fusion draws it the same on every platform), and the
    chart style that goes with it for figures made from now on."""
    from playground.qt import design

    app.setStyle("Fusion")
    app.setPalette(make_palette(theme, high_contrast))
    import sys

    if "matplotlib" in sys.modules:  # else the first chart applies it: matplotlib loads after the first paint
        design.apply_chart_style()
