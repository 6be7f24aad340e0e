"""Labs "Show me": the step's tab switches to the sub-tab or page holding the control (``Panel.reveal``) and the
outline sits on the control itself (issue 29: it highlighted the Run page while History stayed selected, its
outline off the button)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, Qt

from playground.core.labs import load_labs
from tests.qt.test_labs_panel import window  # noqa: F401  (the main window on the tiny Llama)


def outline_of(window, widget) -> QRect:
    """Where the highlight must be: the control's rectangle in the window, 4 px around it."""
    return QRect(widget.mapTo(window, QPoint(0, 0)), widget.size()).adjusted(-4, -4, 4, 4)


def click_show_me(qtbot, window, dock):
    """Click Show me and let the window settle (layouts, scrolling), as the learner then sees it."""
    from PySide6.QtWidgets import QApplication

    qtbot.mouseClick(dock.show_button, Qt.MouseButton.LeftButton)
    for _ in range(3):
        QApplication.processEvents()
    return dock.show_me_widget


def test_show_me_opens_the_sub_tab_holding_the_control_and_outlines_it(qtbot, window):  # noqa: F811
    window.resize(1024, 700)  # a laptop under Xvfb: controls below the fold, tabs first shown by Show me
    prompt = window.panel("PromptPanel")
    window.tabs.setCurrentIndex(window.panels.index(prompt))
    bar = prompt.views.tabBar()
    history = [i for i in range(bar.count()) if bar.tabText(i) == "History"][0]
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(history).center())
    assert prompt.views.currentIndex() == history
    window.tabs.setCurrentIndex(window.panels.index(window.panel("SamplingPanel")))  # the learner is elsewhere

    dock = window.toggle_labs(True)
    dock.select_lab("prompt-engineering")
    dock.step_list.setCurrentRow(0)  # "Ask without examples": the Run sub-tab's Generate button
    shown = click_show_me(qtbot, window, dock)
    assert shown is prompt.run_button
    assert window.current_panel() is prompt
    assert bar.tabText(bar.currentIndex()) == "Run"  # the tab bar says Run, not History
    assert prompt.run_button.isVisible() and not prompt.history_view.isVisible()
    qtbot.waitUntil(lambda: dock.highlight.isVisible(), timeout=2000)
    assert dock.highlight.geometry() == outline_of(window, prompt.run_button)
    if os.environ.get("PLAYGROUND_SCREENS"):
        window.grab().save(str(Path(os.environ["PLAYGROUND_SCREENS"]) / "labs-show-me.png"))

    dock.step_list.setCurrentRow(1)  # "Add examples": Run comparison, on the Compare sub-tab
    shown = click_show_me(qtbot, window, dock)
    assert shown is prompt.compare_button and bar.tabText(bar.currentIndex()) == "Compare"
    assert prompt.compare_button.isVisible()
    assert dock.highlight.geometry() == outline_of(window, prompt.compare_button)


def test_every_control_a_bundled_lab_names_is_revealed_by_its_tab_and_outlined(qtbot, window):  # noqa: F811
    window.resize(1024, 700)  # a laptop under Xvfb: controls below the fold, tabs first shown by Show me
    labs, problems = load_labs()
    assert problems == [] and labs
    dock = window.toggle_labs(True)
    titles = {p.title: p for p in window.panels}
    named = 0
    for lab in labs:
        dock.select_lab(lab.id)
        for i, step in enumerate(lab.steps):
            if not step.control:
                continue
            named += 1
            panel = titles[step.tab]
            dock.step_list.setCurrentRow(i)
            shown = click_show_me(qtbot, window, dock)
            where = f"{lab.id} step {i + 1} ({step.tab}: {step.control})"
            if shown is getattr(panel, "nav_message", None) and "one moment" in shown.text():
                # Show me went to the data step, still reading the data: a person waits and clicks again
                qtbot.waitUntil(lambda: not panel.data_page.problem(), timeout=60000)
                shown = click_show_me(qtbot, window, dock)
            revealed = panel.reveal(step.control)
            assert shown is not None and shown is revealed, f"{where}: {getattr(revealed, 'text', str)()}"
            assert window.current_panel() is panel and shown.isVisible(), where
            assert not shown.visibleRegion().isEmpty(), where  # scrolled into view, not under another page
            assert dock.highlight.isVisible(), where
            # the outline follows the control when the layout settles a moment later (a busy machine may
            # need more than three rounds of events for the last layout pass)
            qtbot.waitUntil(lambda: dock.highlight.geometry() == outline_of(window, shown), timeout=2000)
    assert named >= 15
