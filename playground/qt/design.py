"""The app's small design system: colours, the lesson's style and the chart style, in one place.

Tabs take their colours and matplotlib style from here instead of writing their own. Colours come in
a light and a dark set; the text colours meet WCAG AA contrast (4.5:1) on their window colour
(``contrast`` and the test in tests/qt/test_design.py check it).
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


LIGHT = Colours(window="#f2f2f2", text="#1b1b1b", lesson="#3d3d3d", accent="#2f6fd1", error="#b00020",
                warning="#8a5a00", ok="#1e6b2e")
DARK = Colours(window="#2b2b2b", text="#e6e6e6", lesson="#cfcfcf", accent="#7fb0ff", error="#ff8a9a",
               warning="#f0c070", ok="#8fd19e")

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


def chart_style() -> dict:
    """``CHART_STYLE`` ready for ``matplotlib.rcParams.update`` (imports matplotlib's cycler)."""
    from cycler import cycler

    return {**CHART_STYLE, "axes.prop_cycle": cycler(color=CHART_COLOURS)}


_chart_style_applied = False


def apply_chart_style() -> None:
    """Put the app's chart style into matplotlib once, before the first figure is made."""
    global _chart_style_applied
    if not _chart_style_applied:
        import matplotlib

        matplotlib.rcParams.update(chart_style())
        _chart_style_applied = True


def colours(dark: bool = False) -> Colours:
    return DARK if dark else LIGHT


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
            f" border-left: 3px solid {LIGHT.accent}; }}")


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
