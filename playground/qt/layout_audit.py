"""What a person would find cut or hidden in the window: one geometry check for the test and the bench.

``window_findings`` looks at the window as a whole (its frame inside the screen's room, the model bar one
line, nothing outside the window); ``page_findings`` at one tab's page (scrolling, widgets cut by their
parent or squeezed below the size their text needs, button and check-box text cut, table columns cut).
tests/qt/test_layout_fits.py fails on any finding; bench/layout_check.py prints them per tab.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QRadioButton,
    QScrollArea,
    QStyle,
    QTabBar,
    QTableView,
    QTextEdit,
    QWidget,
)

SLACK = 1  # pixels of rounding forgiven everywhere
#: Editors that scroll sideways by design (long lines of a prompt or a log), never a layout problem.
TEXT_AREAS = (QPlainTextEdit, QTextEdit)


@dataclass(frozen=True)
class Finding:
    kind: str    # "window", "clipped", "squeezed", "cut text", "sideways", "scrolls down", "cut columns"
    where: str   # the widget, as a person could find it (its text, object name or class)
    detail: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.where} {self.detail}"


def describe(w: QWidget) -> str:
    text = w.text() if hasattr(w, "text") and callable(w.text) else ""
    if isinstance(text, str) and text.strip():
        plain = text.replace("&", "").strip()
        return f"{type(w).__name__} {plain[:40]!r}"
    return f"{type(w).__name__}" + (f" #{w.objectName()}" if w.objectName() else "")


def _in_scroll_viewport(w: QWidget) -> bool:
    """A widget laid on a scroll area's viewport: it may extend past it (the area scrolls)."""
    parent = w.parentWidget()
    area = parent.parentWidget() if parent is not None else None
    return isinstance(area, QAbstractScrollArea) and area.viewport() is parent


def _visible_widgets(root: QWidget) -> list[QWidget]:
    return [w for w in root.findChildren(QWidget) if w.isVisible() and not w.isWindow()]


def _text_need(w: QAbstractButton) -> tuple[int, int]:
    """(pixels the button's text and icon need, pixels it has for them)."""
    fm = w.fontMetrics()
    need = fm.horizontalAdvance(w.text().replace("&&", "\0").replace("&", "").replace("\0", "&"))
    if not w.icon().isNull():
        need += w.iconSize().width() + 4
    style = w.style()
    if isinstance(w, (QCheckBox, QRadioButton)):
        metric = QStyle.PixelMetric.PM_IndicatorWidth if isinstance(w, QCheckBox) else \
            QStyle.PixelMetric.PM_ExclusiveIndicatorWidth
        pad = style.pixelMetric(metric, None, w) + style.pixelMetric(QStyle.PixelMetric.PM_CheckBoxLabelSpacing,
                                                                    None, w)
    else:
        pad = 8
    return need, w.contentsRect().width() - pad


def _minimum(w: QWidget) -> tuple[int, int]:
    """The size ``w`` needs to show itself whole: its minimum size, else its minimum size hint, within its
    maximum size (a width capped on purpose is the author's choice, not a cut)."""
    hint, explicit, cap = w.minimumSizeHint(), w.minimumSize(), w.maximumSize()
    width = explicit.width() if explicit.width() > 0 else hint.width()
    height = explicit.height() if explicit.height() > 0 else hint.height()
    return min(width, cap.width()), min(height, cap.height())


def widget_findings(root: QWidget) -> list[Finding]:
    """Visible widgets under ``root`` cut by their parent, squeezed below what their text needs, or with a
    button's text cut."""
    out: list[Finding] = []
    for w in _visible_widgets(root):
        parent = w.parentWidget()
        if isinstance(parent, (QAbstractSpinBox, QComboBox, QTabBar)):
            continue  # their own editor or scroll arrows, laid out by them
        if parent is not None and not _in_scroll_viewport(w):
            room = parent.rect().adjusted(-SLACK, -SLACK, SLACK, SLACK)
            if not room.contains(w.geometry()):
                g = w.geometry()
                out.append(Finding("clipped", describe(w), f"at {g.x()},{g.y()} {g.width()}x{g.height()} lies "
                                   f"outside its {describe(parent)} ({parent.width()}x{parent.height()})"))
        if isinstance(w, (QAbstractButton, QComboBox, QLineEdit, QAbstractSpinBox)) or \
                (isinstance(w, QLabel) and not w.wordWrap() and w.text() and type(w) is QLabel):
            need_w, need_h = _minimum(w)
            if w.width() < need_w - SLACK or w.height() < need_h - SLACK:
                out.append(Finding("squeezed", describe(w), f"is {w.width()}x{w.height()} px, needs "
                                   f"{need_w}x{need_h}"))
                continue
        if isinstance(w, QAbstractButton) and w.text():
            need, room_px = _text_need(w)
            if need > room_px + SLACK:
                out.append(Finding("cut text", describe(w), f"needs {need} px, has {room_px}"))
    return out


def scroll_findings(root: QWidget, allow_scroll_down: bool = False) -> list[Finding]:
    """Scroll areas under ``root`` (and ``root``'s own, when it sits in one) that hide part of what they
    hold: sideways always counts; down only when ``allow_scroll_down`` is False."""
    out: list[Finding] = []
    areas = [a for a in root.findChildren(QAbstractScrollArea) if a.isVisible()]
    holder = root.parentWidget().parentWidget() if root.parentWidget() is not None else None
    if isinstance(holder, QScrollArea):
        areas.insert(0, holder)
    for a in areas:
        if isinstance(a, TEXT_AREAS):
            continue
        h, v = a.horizontalScrollBar(), a.verticalScrollBar()
        name = "the tab" if a is holder else describe(a)
        if isinstance(a, QTableView):
            if h.maximum() > 0:
                out.append(Finding("cut columns", name, f"scrolls sideways by {h.maximum()} px"))
            continue
        if not isinstance(a, QScrollArea):
            continue  # lists and views scroll their items by design
        if h.maximum() > 0:
            out.append(Finding("sideways", name, f"scrolls sideways by {h.maximum()} px"))
        if v.maximum() > 0 and not allow_scroll_down:
            out.append(Finding("scrolls down", name, f"scrolls down {v.maximum()} px"))
    return out


def page_findings(page: QWidget, allow_scroll_down: bool = False) -> list[Finding]:
    """Everything cut or hidden on one tab's page (``page`` is the panel; its scroll area is the tab's)."""
    return scroll_findings(page, allow_scroll_down) + widget_findings(page)


def window_findings(window, room: QRect | None = None) -> list[Finding]:
    """The window as a whole: its frame inside ``room`` (the screen's available geometry by default), the
    model bar one line high, the tabs right under it, and the window's own widgets (bar, dock, status bar)
    not cut."""
    out: list[Finding] = []
    room = room if room is not None else window.screen().availableGeometry()
    # The window's own size: the frame around it is the desktop's (a maximized window's frame fits the
    # screen), and the offscreen platform of the tests draws none but reports a few pixels of one.
    size = window.size()
    if size.width() > room.width() + SLACK or size.height() > room.height() + SLACK:
        out.append(Finding("window", "the window", f"is {size.width()}x{size.height()}, the screen has "
                           f"{room.width()}x{room.height()}"))
    bar = window.model_bar
    line = bar.fontMetrics().height()
    if bar.height() > 3 * line:
        out.append(Finding("window", "the model bar", f"is {bar.height()} px high (one line is {line} px)"))
    for w in (bar, *([window.labs_dock] if getattr(window, "_labs_dock", None) is not None else []),
              window.statusBar(), window.tabs.tabBar()):
        if w.isVisible():
            out.extend(widget_findings(w))
            if not window.rect().adjusted(-SLACK, -SLACK, SLACK, SLACK).contains(
                    QRect(w.mapTo(window, w.rect().topLeft()), w.size())):
                out.append(Finding("clipped", describe(w), "lies partly outside the window"))
    return out


#: The bundled model's facts as the model bar shows them: a check run with no model loaded gives the bar
#: the line a learner sees (its longest usual line), without loading torch.
BUNDLED_FACTS = dict(name="SmolLM2-135M-Instruct (bundled)", kind="decoder-only", architecture="LlamaForCausalLM",
                     parameters=134_515_008, memory_bytes=538_060_032, context_window=8192, vocab_size=49152,
                     has_chat_template=True, device="cpu", dtype="float32", num_layers=30, num_heads=9, folder="")


def show_bundled_facts(model_bar) -> None:
    """Fill ``model_bar`` with the bundled model's facts (no model is loaded)."""
    from types import SimpleNamespace

    model_bar._on_changed(SimpleNamespace(info=SimpleNamespace(**BUNDLED_FACTS), extras={}))
