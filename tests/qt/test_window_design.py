"""The window as one product (issue 28): a one-line model bar, presenter mode inside the screen, a theme
that follows the system, icons on the tabs and actions, the type scale on the window's own text."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QAction, QPalette
from PySide6.QtWidgets import QApplication, QWidget

from playground.core.base.settings_schema import WindowSection
from playground.qt import design


@pytest.fixture
def window(every_tab_window):
    w = every_tab_window
    w.toggle_labs(False)
    w.resize(1200, 800)
    QApplication.processEvents()
    yield w
    w.set_presenting(False)
    w.__dict__.pop("available_geometry", None)
    w.set_theme("light", False)


def settle():
    for _ in range(3):
        QApplication.processEvents()


def test_the_model_bar_is_one_line_with_its_details_in_the_tooltip(window):
    bar = window.model_bar
    plain = (bar.height(), window.tabs.y())
    assert bar.height() <= 3 * bar.fontMetrics().height()
    window.toggle_labs(True)
    settle()
    assert (bar.height(), window.tabs.y()) == plain  # the dock no longer wraps it into a column
    assert bar.details_label.is_elided() or bar.details_label.width() >= bar.details_label.sizeHint().width() - 2
    tip = bar.toolTip()
    for fact in ("SmolLM2-135M-Instruct", "134,515,008", "513 MiB", "cpu", "float32", "8,192 tokens",
                 "Adapter", "none (the base model)"):
        assert fact in tip, fact
    assert bar.details_label.toolTip() == tip and bar.name_label.toolTip() == tip


def test_the_tooltip_names_the_adapter_and_whether_it_is_on(qtbot, app_context):
    from types import SimpleNamespace

    from playground.qt.layout_audit import BUNDLED_FACTS
    from playground.qt.model_bar import ModelBar

    facts = SimpleNamespace(**BUNDLED_FACTS)
    adapted = SimpleNamespace(info=facts, extras={"adapter_name": "run-7"})
    app_context.session.set(SimpleNamespace(info=facts, extras={}))
    app_context.session.set_adapter(adapted, on=False)
    bar = ModelBar(app_context)
    qtbot.addWidget(bar)
    assert "run-7 (off: the base model answers)" in bar.toolTip()
    app_context.session.use_adapter(True)
    bar._on_adapter(adapted)  # what sig_adapter_changed calls
    assert "run-7 (on)" in bar.toolTip() and bar.adapter_check.isChecked()


def test_presenter_mode_zooms_inside_the_screen_and_esc_leaves_it(qtbot, window):
    window.available_geometry = lambda: QRect(0, 0, 1400, 900)  # a 1,400 px projector
    window.resize(1300, 850)
    window.toggle_labs(True)
    settle()
    before_font = QApplication.font().pointSizeF()
    action = window.presenter_action
    assert action.isCheckable() and action in window.menuBar().actions()[2].menu().actions()  # View menu
    assert {k.toString() for k in action.shortcuts()} == {"Ctrl+Shift+P", "F11"}
    action.trigger()
    settle()
    assert window.presenting and QApplication.font().pointSizeF() > 1.4 * before_font
    assert window.width() <= 1400 and window.height() <= 900  # it was 2,109 px wide
    dock = window.labs_dock
    assert dock.present_button.isChecked() and dock.presenting
    assert window.rect().contains(QRect(dock.mapTo(window, dock.rect().topLeft()), dock.size()))
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # nothing running: Esc leaves presenter mode
    settle()
    assert not window.presenting and not action.isChecked() and not dock.present_button.isChecked()
    assert QApplication.font().pointSizeF() == pytest.approx(before_font)
    assert (window.width(), window.height()) == (1300, 850)


def test_the_presenter_keys_toggle_it(qtbot, window):
    window.raise_()
    window.activateWindow()  # a window's shortcuts fire while it is the active window
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert window.presenting
    qtbot.keyClick(window, Qt.Key.Key_F11)
    assert not window.presenting


def test_esc_stops_a_running_job_before_it_leaves_presenter_mode(window, monkeypatch):
    window.set_presenting(True)
    panel = window.current_panel()
    stopped = []
    monkeypatch.setattr(type(panel), "busy", property(lambda self: True))
    monkeypatch.setattr(panel, "stop", lambda: stopped.append(True))
    window.escape()
    assert stopped == [True] and window.presenting
    monkeypatch.setattr(type(panel), "busy", property(lambda self: False))
    window.escape()
    assert not window.presenting


def test_the_window_kept_is_the_one_from_before_presenter_mode(window):
    window.resize(1111, 777)
    window.available_geometry = lambda: QRect(0, 0, 1000, 700)
    window.set_presenting(True)
    settle()
    assert window.width() <= 1000
    window.save_state()
    from base64 import b64decode

    geometry = b64decode(window.context.settings.section(WindowSection).geometry)
    assert geometry == bytes(window._before_presenting[0])


def test_dark_theme_palette_and_charts_come_from_the_design_module(window):
    from playground.qt.widgets.plot import make_canvas

    early, early_canvas = make_canvas()
    early.add_subplot(111)
    window.panels[0].layout().addWidget(early_canvas)  # a chart made before the theme changed
    window.set_theme("dark")
    palette = QApplication.palette()
    assert palette.color(QPalette.ColorRole.Window).name() == design.DARK.window
    assert palette.color(QPalette.ColorRole.Base).name() == design.DARK.base
    assert design.is_dark() and window.context.settings.section(WindowSection).theme == "dark"
    import matplotlib.colors as mcolors

    figure, _canvas = make_canvas()
    ax = figure.add_subplot(111)
    assert mcolors.to_hex(figure.get_facecolor()) == design.DARK.figure
    (line,) = ax.plot([0, 1], [0, 1])
    assert mcolors.to_hex(line.get_color()) == design.DARK_CHART_COLOURS[0]
    assert mcolors.to_hex(early.get_facecolor()) == design.DARK.figure  # restyled in place
    window.set_theme("light")
    assert QApplication.palette().color(QPalette.ColorRole.Window).name() == design.LIGHT.window
    assert mcolors.to_hex(early.get_facecolor()) == design.LIGHT.figure
    figure, _canvas = make_canvas()
    assert mcolors.to_hex(figure.get_facecolor()) == design.LIGHT.figure


def test_the_system_theme_follows_the_desktops_scheme(window, monkeypatch):
    from playground.qt import presenter

    window.set_theme("system")
    monkeypatch.setattr(presenter, "_system_is_dark", lambda: True)
    window._on_system_scheme()  # what QStyleHints.colorSchemeChanged calls
    assert QApplication.palette().color(QPalette.ColorRole.Window).name() == design.DARK.window
    monkeypatch.setattr(presenter, "_system_is_dark", lambda: False)
    window._on_system_scheme()
    assert QApplication.palette().color(QPalette.ColorRole.Window).name() == design.LIGHT.window
    window.set_theme("light")
    monkeypatch.setattr(presenter, "_system_is_dark", lambda: True)
    window._on_system_scheme()  # a chosen theme stays
    assert QApplication.palette().color(QPalette.ColorRole.Window).name() == design.LIGHT.window


def test_the_view_menu_offers_system_light_and_dark(window):
    texts = [a.text() for a in window.theme_menu.actions()]
    assert [t.split(" ")[0] for t in texts] == ["System", "Light", "Dark"]
    window.theme_actions["dark"].trigger()
    assert window.theme == "dark" and window.theme_actions["dark"].isChecked()


def test_every_tab_and_main_action_has_an_icon_drawn_in_the_themes_colour(window):
    for i, panel in enumerate(window.panels):
        assert not window.tabs.tabIcon(i).isNull(), panel.title
        assert design.icon_path(design.tab_icon_name(panel)).is_file(), panel.title
    for action in (window.export_session_action, window.export_notebook_action, window.presenter_action,
                   window.labs_action, window.guide_action, window.change_model_action):
        assert not action.icon().isNull(), action.text()
    for name in design.ICONS:
        assert not design.icon(name).isNull(), name
    light = design.icon("run", dark=False).pixmap(24, 24).toImage()
    dark = design.icon("run", dark=True).pixmap(24, 24).toImage()
    ink = [light.pixelColor(x, y) for x in range(24) for y in range(24) if light.pixelColor(x, y).alpha() > 200]
    ink_dark = [dark.pixelColor(x, y) for x in range(24) for y in range(24) if dark.pixelColor(x, y).alpha() > 200]
    assert ink and ink_dark
    assert max(c.lightness() for c in ink) < 100 and min(c.lightness() for c in ink_dark) > 150
    assert design.icon("no-such-icon").isNull()


def test_icons_set_with_set_icon_follow_the_theme(window):
    from PySide6.QtWidgets import QPushButton

    button = QPushButton("Stop")
    design.set_icon(button, "stop")
    window.panels[0].layout().addWidget(button)
    window.set_theme("dark")
    assert button.icon().cacheKey() == design.icon("stop", dark=True).cacheKey()
    assert window.model_bar.change_button.icon().cacheKey() == design.icon("model", dark=True).cacheKey()
    window.set_theme("light")
    assert button.icon().cacheKey() == design.icon("stop", dark=False).cacheKey()
    button.deleteLater()


def test_tabs_drop_their_icons_rather_than_hide_behind_arrows(qtbot, window):
    window.available_geometry = lambda: QRect(0, 0, 1200, 800)
    bar = window.tabs.tabBar()
    assert window.tab_icons_shown
    window.toggle_labs(True)  # 1200 px with the dock: the tabs fit once text only

    def last_tab_in_view():
        return bar.tabRect(bar.count() - 1).right() <= bar.width()

    qtbot.waitUntil(last_tab_in_view, timeout=2000)
    if not window.tab_icons_shown:
        assert all(window.tabs.tabIcon(i).isNull() for i in range(window.tabs.count()))
    window.set_presenting(True)  # and in presenter mode they go text only too
    qtbot.waitUntil(lambda: not window.tab_icons_shown, timeout=2000)
    window.set_presenting(False)
    window.toggle_labs(False)
    qtbot.waitUntil(lambda: window.tab_icons_shown, timeout=2000)
    assert not window.tabs.tabIcon(0).isNull()


def test_the_status_line_uses_the_caption_size_and_the_apps_byte_unit(window):
    import re

    body = QApplication.font().pointSizeF()
    assert window.memory_label.font().pointSizeF() == pytest.approx(body * design.TYPE_SCALE["caption"])
    window._update_memory()
    text = window.memory_label.text()
    assert re.fullmatch(r"memory: \d+(\.\d+)? (MiB|GiB)", text), text  # units.format_bytes, as every tab


def test_presenter_shortcut_is_not_taken_by_another_action(window):
    keys = {}
    for action in window.findChildren(QAction):
        for k in action.shortcuts():
            keys.setdefault(k.toString(), []).append(action.text())
    for key in ("Ctrl+Shift+P", "F11"):
        assert keys[key] == ["&Presenter mode"], keys[key]


TAB_CLASSES = [cls for _, cls in __import__("playground.qt.tabs", fromlist=["TABS"]).TABS]


@pytest.mark.parametrize("cls", TAB_CLASSES)
def test_every_tab_uses_the_design_modules_lesson_and_chart_canvas(window, cls):
    """One place for the explanation (a lesson at the top, full width) and every chart made by the
    shared canvas (``widgets/plot.py``: the design's chart style, drawn only when seen)."""
    from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg

    from playground.qt.widgets.lesson import LessonLabel
    from playground.qt.widgets.plot import _lazy_canvas_class

    panel = window.panel(cls)
    window.tabs.setCurrentIndex(window.panels.index(panel))
    settle()
    lessons = [x for x in panel.findChildren(LessonLabel) if x.isVisible()]
    assert lessons, f"{panel.title} shows no lesson made by Panel.lesson"
    lessons.sort(key=lambda x: x.mapTo(panel, x.rect().topLeft()).y())
    first = lessons[0]
    box = QRect(first.mapTo(panel, first.rect().topLeft()), first.size())
    assert box.top() < 80 and box.left() < 40, f"{panel.title}: its first lesson is at {box.x()},{box.y()}, not at the top"
    related = set(first.findChildren(QWidget))
    w = first
    while w is not None:
        related.add(w)
        w = w.parentWidget()
    beside = [x for x in panel.findChildren(QWidget) if x.isVisible() and x not in related
              and QRect(x.mapTo(panel, x.rect().topLeft()), x.size()).intersects(box.adjusted(box.width(), 0, 4000, 0))]
    assert not beside, f"{panel.title}: its lesson shares its row with {[type(x).__name__ for x in beside][:5]}"
    own = [c for c in panel.findChildren(FigureCanvasQTAgg) if not isinstance(c, _lazy_canvas_class())]
    assert not own, f"{panel.title}: charts not made by widgets/plot.make_canvas: {[type(c).__name__ for c in own]}"


def test_the_window_paints_before_matplotlib_loads(tmp_path):
    """The theme (and its chart style) is applied before the first paint without importing matplotlib:
    the first chart made applies the style (DESIGN: heavy imports belong to first use)."""
    import os
    import subprocess
    import sys

    script = ("import sys\nfrom PySide6.QtWidgets import QApplication\napp = QApplication([])\n"
              "from playground.qt.context import AppContext\nfrom playground.qt.main_window import MainWindow\n"
              "context = AppContext()\nwindow = MainWindow(context)\nwindow.set_theme('dark')\n"
              "window.restore_view()\nwindow.set_presenting(True)\nwindow.set_presenting(False)\n"
              "print('LOADED', 'matplotlib' in sys.modules)\ncontext.runner.shutdown(wait=True)\n")
    env = {**os.environ, "PLAYGROUND_HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "LOADED False" in proc.stdout, proc.stdout
