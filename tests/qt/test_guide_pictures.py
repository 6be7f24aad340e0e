"""The F1 guide's picture says what it shows: taken after one action, or as the tab opens with what to do first
(issue 29: the Lifecycle guide's picture 'after one action' showed an empty tab)."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from PySide6.QtGui import QAction

from playground.qt.help import GuideDialog, guide_picture_path, picture_caption
from tests.qt.shown import main_window as make_window

ROOT = Path(__file__).resolve().parents[2]


def picture_script():
    """packaging/guide_pictures.py, the script that renders the pictures and writes their captions."""
    spec = importlib.util.spec_from_file_location("guide_pictures", ROOT / "packaging" / "guide_pictures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_each_guide_picture_carries_the_caption_of_what_it_shows(qtbot, app_context):
    script = picture_script()
    w = make_window(qtbot, app_context)
    f1, = [a for a in w.findChildren(QAction) if a.shortcut().toString() == "F1"]
    for i, panel in enumerate(w.panels):
        caption = picture_caption(guide_picture_path(panel.title))
        assert caption == script.CAPTIONS[panel.title], panel.title  # the PNG holds the script's caption
        assert "after one action" in caption or "as it opens" in caption, panel.title
        if "as it opens" in caption:
            assert "First " in caption, panel.title  # a tab pictured before any action says what to do first
        w.tabs.setCurrentIndex(i)
        f1.trigger()  # Help > Guide for this tab (F1)
        dialog = next(d for d in w.findChildren(GuideDialog) if d.isVisible())
        assert caption in dialog.browser.toPlainText(), panel.title
        if panel.title == "Lifecycle" and os.environ.get("PLAYGROUND_SCREENS"):
            dialog.resize(640, 900)
            dialog.browser.verticalScrollBar().setValue(dialog.browser.verticalScrollBar().maximum() // 3)
            dialog.grab().save(str(Path(os.environ["PLAYGROUND_SCREENS"]) / "guide-after-one-action.png"))
        dialog.close()
    lifecycle = picture_caption(guide_picture_path("Lifecycle"))
    assert lifecycle.startswith("The Lifecycle tab after one action") and "Calculate" in lifecycle


def test_the_lifecycle_picture_is_taken_after_calculate_on_the_scaling_section(qtbot, app_context, tmp_path):
    from PySide6.QtGui import QImage

    script = picture_script()
    w = make_window(qtbot, app_context)
    lifecycle = w.panel("LifecyclePanel")
    w.tabs.setCurrentIndex(w.panels.index(lifecycle))
    before = lifecycle.scaling.calc_out.text()
    script.calculate_chinchilla(w)
    assert lifecycle.sections.currentWidget() is lifecycle.scaling
    assert lifecycle.scaling.draft.value.flops == float(script.CHINCHILLA_FLOPS)
    assert lifecycle.scaling.calc_out.text() and lifecycle.scaling.calc_out.text() != before

    picture = tmp_path / "lifecycle.png"  # the picture as the script saves it: its caption inside
    script.save_picture(w.tabs.currentWidget().grab(), picture, script.CAPTIONS["Lifecycle"])
    assert picture_caption(picture) == script.CAPTIONS["Lifecycle"] and not QImage(str(picture)).isNull()
