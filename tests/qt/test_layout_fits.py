"""Every tab fits a laptop and a projector (issue 28): nothing cut at 1200x800 and 1400x900, plain, with
the Labs dock open and in presenter mode.

One window with every tab (no model loaded) is arranged per size and mode as ``bench/layout_check.py``
arranges it, and each tab is checked with the one geometry check both use (``playground/qt/layout_audit.py``):
the window inside the screen (each size is taken as the screen's room), the model bar one line, no tab or
form scrolling sideways (nor down, except in presenter mode), no widget cut by its parent or squeezed below
its text, no button or check-box text cut, no table columns cut. The audit's own tests at the end show
it finds each kind of cut.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtWidgets import QApplication, QCheckBox, QPushButton, QScrollArea, QVBoxLayout, QWidget

from playground.qt.layout_audit import page_findings, widget_findings, window_findings
from playground.qt.tabs import TABS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from layout_check import MODES, arrange, findings  # noqa: E402  (the bench's own arrangement)

SIZES = ((1200, 800), (1400, 900))
CASES = [(w, h, mode, cls) for (w, h) in SIZES for mode in MODES for _, cls in TABS]

#: Cases known to fail while the tab is being reworked: {(width, height, mode, panel class): the finding}.
KNOWN: dict[tuple[int, int, str, str], str] = {}


@pytest.fixture(scope="module")
def window(every_tab_window):
    every_tab_window.arranged = None  # the size and mode it was last arranged for
    return every_tab_window


def _case_id(case) -> str:
    w, h, mode, cls = case
    return f"{w}x{h}-{mode}-{cls.removesuffix('Panel')}"


@pytest.mark.parametrize("case", [pytest.param(c, id=_case_id(c), marks=pytest.mark.xfail(
    reason=KNOWN[c], strict=True)) if c in KNOWN else pytest.param(c, id=_case_id(c)) for c in CASES])
def test_nothing_is_cut(window, case):
    width, height, mode, cls = case
    if window.arranged != (width, height, mode):
        arrange(window, width, height, mode)
        window.arranged = (width, height, mode)
    panel = window.panel(cls)
    found = findings(window, panel, mode)
    assert not found, f"{panel.title} at {width}x{height}, {mode}:\n  " + "\n  ".join(map(str, found))


def test_presenter_mode_with_the_dock_keeps_the_window_and_the_dock_on_the_screen(window):
    arrange(window, 1200, 800, "presenter")
    window.toggle_labs(True)
    QApplication.processEvents()
    window.arranged = None
    room = QRect(0, 0, 1200, 800)
    assert window.presenting and window_findings(window, room) == []
    dock = window.labs_dock
    assert dock.isVisible() and window.rect().contains(QRect(dock.mapTo(window, dock.rect().topLeft()), dock.size()))
    arrange(window, 1200, 800, "plain")


# The audit finds each kind of cut (a check that cannot fail would prove nothing) --------------------------

def _holder(qtbot, width=300, height=200):
    top = QWidget()
    qtbot.addWidget(top)
    top.resize(width, height)
    return top


def test_the_audit_finds_a_button_whose_text_is_cut(qtbot):
    top = _holder(qtbot)
    layout = QVBoxLayout(top)
    button = QPushButton("Export the whole evaluation as a notebook")
    button.setMaximumWidth(120)
    check = QCheckBox("Wrap the template in the chat template")
    check.setFixedWidth(100)
    layout.addWidget(button)
    layout.addWidget(check)
    top.show()
    kinds = {(f.kind, f.where.split(" ")[0]) for f in widget_findings(top)}
    assert ("cut text", "QPushButton") in kinds and ("cut text", "QCheckBox") in kinds


def test_the_audit_finds_a_widget_cut_by_its_parent_and_one_squeezed(qtbot):
    top = _holder(qtbot)
    outside = QPushButton("Stop", top)
    outside.setGeometry(250, 10, 100, 30)  # 50 px past the right edge
    squeezed = QPushButton("Generate (Ctrl+Enter)", top)
    squeezed.setGeometry(10, 100, 40, 30)
    top.show()
    found = widget_findings(top)
    assert any(f.kind == "clipped" and "Stop" in f.where for f in found)
    assert any(f.kind == "squeezed" and "Generate" in f.where for f in found)


def test_the_audit_finds_a_page_that_scrolls_and_allows_down_only_when_asked(qtbot):
    top = _holder(qtbot, 300, 200)
    area = QScrollArea(top)
    area.setGeometry(0, 0, 300, 200)
    area.setWidgetResizable(True)
    page = QWidget()
    page.setMinimumSize(500, 400)
    area.setWidget(page)
    top.show()
    QApplication.processEvents()
    kinds = [f.kind for f in page_findings(page)]
    assert "sideways" in kinds and "scrolls down" in kinds
    assert [f.kind for f in page_findings(page, allow_scroll_down=True)] == ["sideways"]


def test_the_audit_finds_a_window_past_the_screen_and_a_tall_model_bar(window):
    arrange(window, 1200, 800, "plain")
    window.arranged = None
    assert window_findings(window, QRect(0, 0, 1200, 800)) == []
    kinds = [f.where for f in window_findings(window, QRect(0, 0, 1000, 700))]
    assert kinds == ["the window"]
    window.model_bar.setMinimumHeight(200)
    try:
        QApplication.processEvents()
        assert "the model bar" in [f.where for f in window_findings(window, QRect(0, 0, 1200, 800))]
    finally:
        window.model_bar.setMinimumHeight(0)
