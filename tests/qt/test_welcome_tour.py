"""The welcome tour names the tab the app really opens on (the first of the tabs table, not a title written in
the tour) and every tab, the Labs too (issue 29, a newcomer's findings)."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.qt.shown import main_window as make_window


def read_tour(qtbot, tour) -> list[str]:
    """Every page's text, clicking Next as a person would, ending on the last page."""
    pages = [tour.pages.currentWidget().text()]
    while tour.next.text() == "Next":
        qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
        pages.append(tour.pages.currentWidget().text())
    return pages


def test_the_tour_starts_where_the_app_opens_and_names_every_tab_and_the_labs(qtbot, app_context):
    w = make_window(qtbot, app_context)  # a first start: no tab saved yet
    opened = w.current_panel()
    tour = w.show_tour()
    pages = read_tour(qtbot, tour)
    assert tour.next.text() == f"Start in {opened.title}"
    assert f"<b>{opened.title}</b>" in pages[-1] and opened.guide in pages[-1]
    whole = " ".join(pages)
    missing = [p.title for p in w.panels if f"<b>{p.title}</b>" not in whole]
    assert missing == []
    assert "<b>Labs</b>" in whole and "Ctrl+L" in whole

    w.tabs.setCurrentIndex(len(w.panels) - 1)  # wherever the learner is, Start goes to the tab it names
    qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
    assert not tour.isVisible() and w.current_panel() is opened


def test_the_tab_the_tour_names_follows_the_tabs_table(qtbot, app_context, monkeypatch):
    from playground.qt import tabs

    monkeypatch.setattr(tabs, "TABS", [tabs.TABS[2], *tabs.TABS[:2], *tabs.TABS[3:]])
    w = make_window(qtbot, app_context)
    opened = w.current_panel()
    assert opened is w.panels[0] and opened.title == "Sampling"
    tour = w.show_tour()
    read_tour(qtbot, tour)
    assert tour.next.text() == "Start in Sampling"
