"""The app's small design system: colours, the lesson's style, the chart style and icons, in one place.

Tabs take their colours, matplotlib style and icons from here instead of writing their own. Colours come
in a light and a dark set (the window's palette is made from them, ``qt/presenter.py`` ``make_palette``);
the text colours meet WCAG AA contrast (4.5:1) on their window colour (``contrast`` and the test in
tests/qt/test_design.py check it). ``is_dark()`` says which set is on show: charts (``apply_chart_style``,
``restyle_figure``) and icons (``icon``) follow it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Colours:
    window: str
    text: str
    lesson: str       # the teaching paragraph beside the controls: quieter than text, still readable
    accent: str       # links, the lesson's rule, a selected item
    error: str
    warning: str
    ok: str
    base: str = "#ffffff"         # the background of fields, lists and tables
    button: str = "#e9e9e9"
    highlight: str = "#2f6fd1"    # a selected row or item
    highlighted_text: str = "#ffffff"
    placeholder: str = "#6b6b6b"  # placeholder and disabled text (readable, 4.5:1 on base)
    figure: str = "#ffffff"       # a chart's background
    grid: str = "#e6e6e6"         # a chart's grid lines
    edge: str = "#666666"         # a chart's axes and ticks


LIGHT = Colours(window="#f2f2f2", text="#1b1b1b", lesson="#3d3d3d", accent="#2f6fd1", error="#b00020",
                warning="#8a5a00", ok="#1e6b2e")
DARK = Colours(window="#2b2b2b", text="#e6e6e6", lesson="#cfcfcf", accent="#7fb0ff", error="#ff8a9a",
               warning="#f0c070", ok="#8fd19e", base="#1e1e1e", button="#363636", highlight="#3d7bd9",
               highlighted_text="#ffffff", placeholder="#a0a0a0", figure="#1e1e1e", grid="#3a3a3a",
               edge="#b0b0b0")

#: The model's probability of a token as a chip colour (lowest probability, background), shared by
#: Generate, Sampling and every tab that colours tokens; dark text (#111) reads on each.
PROBABILITY_COLOURS = [(0.5, "#9fdc98"), (0.2, "#d3efa6"), (0.05, "#fbe7a1"), (0.01, "#f8c18c"), (0.0, "#f29b9b")]

#: matplotlib settings every chart of the app uses (fonts, grid, spines, colour cycle).
CHART_STYLE = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "axes.grid": True,
    "grid.color": "#e6e6e6",
    "grid.linewidth": 0.8,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#666666",
    "axes.prop_cycle": None,  # filled in by chart_style(): the palette below as a cycler
}
CHART_COLOURS = ["#2f6fd1", "#e8772e", "#2e9e5b", "#c23b5a", "#7a5cc4", "#8a6d3b", "#3aa6b9", "#666666"]
#: The same eight hues, lighter, for charts on the dark theme's background.
DARK_CHART_COLOURS = ["#7fb0ff", "#f5a25d", "#5fcf8a", "#f07a94", "#b39cf0", "#c9a66b", "#6fd0e0", "#bbbbbb"]


def chart_style(dark: bool = False) -> dict:
    """``CHART_STYLE`` for the light or dark theme, ready for ``matplotlib.rcParams.update``."""
    from cycler import cycler

    c = colours(dark)
    return {**CHART_STYLE, "axes.prop_cycle": cycler(color=DARK_CHART_COLOURS if dark else CHART_COLOURS),
            "grid.color": c.grid, "axes.edgecolor": c.edge, "figure.facecolor": c.figure,
            "axes.facecolor": c.figure, "savefig.facecolor": c.figure, "text.color": c.text,
            "axes.labelcolor": c.text, "axes.titlecolor": c.text, "xtick.color": c.edge, "ytick.color": c.edge,
            "xtick.labelcolor": c.text, "ytick.labelcolor": c.text, "legend.labelcolor": c.text}


_chart_style_applied: bool | None = None  # the theme (dark or not) matplotlib's style was last set for


def apply_chart_style(dark: bool | None = None) -> None:
    """Put the app's chart style into matplotlib before a figure is made: the dark chart colours when the
    window shows the dark theme (``dark=None``: ask ``is_dark()``). Cheap when nothing changed."""
    global _chart_style_applied
    dark = is_dark() if dark is None else bool(dark)
    if _chart_style_applied is not dark:
        import matplotlib

        matplotlib.rcParams.update(chart_style(dark))
        _chart_style_applied = dark


def restyle_figure(figure, dark: bool | None = None) -> None:
    """Give a figure made earlier the colours of the theme on show (the theme changed after it was made):
    backgrounds, axes, ticks, labels, grid and loose text such as an ``EmptyState`` sentence."""
    dark = is_dark() if dark is None else bool(dark)
    c = colours(dark)
    figure.set_facecolor(c.figure)
    for text in figure.texts:
        text.set_color(c.lesson)
    for ax in figure.axes:
        ax.set_facecolor(c.figure)
        for spine in ax.spines.values():
            spine.set_edgecolor(c.edge)
        ax.tick_params(colors=c.edge, labelcolor=c.text, which="both")
        for text in (ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts):
            text.set_color(c.text)
        for line in ax.get_xgridlines() + ax.get_ygridlines():
            line.set_color(c.grid)
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_color(c.text)


def colours(dark: bool = False) -> Colours:
    return DARK if dark else LIGHT


def is_dark() -> bool:
    """Whether the application shows the dark theme now (its window colour is dark); False before the
    application exists."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        return False
    return app.palette().color(QPalette.ColorRole.Window).lightness() < 128


def current_colours() -> Colours:
    """The colour set of the theme on show."""
    return colours(is_dark())


def _luminance(hex_colour: str) -> float:
    r, g, b = (int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5))

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two '#rrggbb' colours (1 to 21; 4.5 is AA for body text)."""
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def lesson_style_sheet() -> str:
    """The style of a lesson label: the palette's text colour (readable on a projector, in either
    theme), a thin accent rule on its left and the caption size set by the label's font."""
    return ("QLabel#lesson { color: palette(window-text); padding: 2px 4px 2px 8px;"
            " border-left: 3px solid palette(highlight); }")


#: The type scale, as multiples of the body font: a tab's title, body text, and captions (result
#: headers, progress counts, axis notes). One place, so a presenter's zoom scales all three alike.
TYPE_SCALE = {"title": 1.3, "body": 1.0, "caption": 0.9}

#: Spacing steps in pixels (between a label and its field, between groups, around a tab's content).
SPACING = {"tight": 4, "normal": 8, "group": 16}


def set_type(widget, role: str) -> None:
    """Give ``widget`` the font size of ``role`` in the type scale (bold for a title)."""
    from PySide6.QtWidgets import QApplication

    font = widget.font()
    base = QApplication.font().pointSizeF()
    if base > 0:
        font.setPointSizeF(base * TYPE_SCALE[role])
    font.setBold(role == "title")
    widget.setFont(font)


#: The icons drawn for the app (resources/icons/<name>.svg): 24×24 line drawings, 1.75 px strokes in
#: ``currentColor``, which ``icon`` paints in the theme's text colour.
ICONS = ("prompt", "generate", "sampling", "inside", "finetune", "align", "evaluate", "lifecycle", "build",
         "run", "stop", "export", "notebook", "labs", "presenter", "model", "help", "theme")

_icon_cache: dict = {}


def icon_path(name: str):
    from playground.core.base.paths import resources_dir

    return resources_dir() / "icons" / f"{name}.svg"


def icon(name: str, dark: bool | None = None, colour: str | None = None):
    """The app's icon ``name`` (one of ``ICONS``) as a QIcon drawn in the theme's text colour (or
    ``colour``), with a quieter disabled state; an empty QIcon for a name with no file."""
    from PySide6.QtCore import QByteArray, QRectF, Qt
    from PySide6.QtGui import QIcon, QPainter, QPixmap

    try:
        from PySide6.QtSvg import QSvgRenderer
    except ImportError:  # a Qt build without its SVG module: no icons rather than no window
        return QIcon()
    dark = is_dark() if dark is None else bool(dark)
    c = colours(dark)
    key = (name, colour or c.text)
    if key in _icon_cache:
        return _icon_cache[key]
    path = icon_path(name)
    result = QIcon()
    if path.is_file():
        svg = path.read_text(encoding="utf-8")
        for mode, paint in ((QIcon.Mode.Normal, colour or c.text), (QIcon.Mode.Disabled, c.placeholder)):
            renderer = QSvgRenderer(QByteArray(svg.replace("currentColor", paint).encode("utf-8")))
            for size in (16, 24, 32, 48):
                pixmap = QPixmap(size, size)
                pixmap.fill(Qt.GlobalColor.transparent)
                painter = QPainter(pixmap)
                renderer.render(painter, QRectF(0, 0, size, size))
                painter.end()
                result.addPixmap(pixmap, mode)
    _icon_cache[key] = result
    return result


def tab_icon_name(panel) -> str:
    """The icon of a tab, from its panel's class name ('FinetunePanel' -> 'finetune') or its title."""
    cls = type(panel).__name__
    name = cls[:-len("Panel")].lower() if cls.endswith("Panel") else cls.lower()
    if name in ICONS:
        return name
    return getattr(panel, "title", "").lower().replace("-", "").replace(" ", "")


def set_icon(widget, name: str) -> None:
    """Give a button (or an action) the icon ``name`` and remember it, so a theme change repaints it in the
    new text colour (the main window calls ``refresh_icons`` on every widget under it)."""
    widget.setProperty("pg_icon", name)
    widget.setIcon(icon(name))


def refresh_icons(root) -> None:
    """Repaint every icon set with ``set_icon`` under ``root`` in the theme's colour."""
    from PySide6.QtWidgets import QWidget

    for w in [root, *root.findChildren(QWidget)]:
        name = w.property("pg_icon")
        if name:
            w.setIcon(icon(name))
