import time

from PySide6.QtWidgets import QMessageBox

from playground.core.base.settings_schema import WindowSection
from playground.core.models.sources import ModelSource
from playground.qt.main_window import MainWindow
from tests.qt.shown import main_window as make_window


def test_window_shows_model_after_load(qtbot, app_context, tiny_llama_dir):
    w = make_window(qtbot, app_context)
    assert w.tabs.count() >= 1 and w.tabs.tabText(0)
    with qtbot.waitSignal(app_context.sig_model_changed, timeout=20000):
        app_context.load_model(ModelSource("local", str(tiny_llama_dir)))
    assert "tiny-llama" in w.model_bar.name_label.text()
    assert "2M parameters" in w.model_bar.details_label.text() or "M parameters" in w.model_bar.details_label.text()
    assert "context 256 tokens" in w.model_bar.details_label.text()
    assert w.device_label.text().startswith("device: cpu")


def test_load_error_is_shown_and_app_keeps_running(qtbot, context_with_tiny_llama, tmp_path):
    w = make_window(qtbot, context_with_tiny_llama)
    bad = tmp_path / "broken"
    bad.mkdir()
    with qtbot.waitSignal(context_with_tiny_llama.sig_model_load_failed, timeout=10000):
        context_with_tiny_llama.load_model(ModelSource("local", str(bad)))
    assert w.last_error[0] == "The model could not be loaded"
    assert "config.json" in w.last_error[1]
    boxes = [b for b in w.findChildren(QMessageBox) if b.isVisible()]
    assert boxes and "config.json" in boxes[0].text()
    assert context_with_tiny_llama.session.current is not None


def test_geometry_and_tab_persist(qtbot, app_context):
    w = make_window(qtbot, app_context)
    w.resize(640, 480)
    w.close()
    saved = app_context.settings.section(WindowSection).geometry
    assert saved
    from playground.core.base.settings import Settings

    again = Settings(app_context.settings.path)
    assert again.section(WindowSection).geometry == saved
    w2 = MainWindow(app_context)
    qtbot.addWidget(w2)
    assert (w2.width(), w2.height()) == (640, 480)


def test_about_lists_versions(qtbot, context_with_tiny_llama):
    w = make_window(qtbot, context_with_tiny_llama)
    w.show_about()
    box = [b for b in w.findChildren(QMessageBox) if b.isVisible()][-1]
    assert "torch" in box.text() and "transformers" in box.text() and "Device in use: cpu" in box.text()
    assert "SmolLM2-135M-Instruct by Hugging Face" in box.text() and "Q4_1 GGUF" in box.text()


def test_about_before_any_model_says_none_loaded_and_the_torch_build(qtbot, app_context):
    w = make_window(qtbot, app_context)
    w.show_about()
    box = [b for b in w.findChildren(QMessageBox) if b.isVisible()][-1]
    assert "Device in use: none yet" in box.text()
    assert "(CPU build)" in box.text() and "Devices found: cpu" in box.text()
    assert "run from source" in box.text()


def test_app_carries_its_icon_and_desktop_entry_name(qapp):
    from playground.qt.app import create_app

    app = create_app()
    assert app.desktopFileName() == "llm-playground"  # packaging/linux/llm-playground.desktop
    assert not app.windowIcon().isNull()


def test_smoke_test_times_first_paint_from_the_process_start():
    import psutil

    from playground.qt.smoke import seconds_since_process_start

    age = seconds_since_process_start()
    coarse = time.time() - psutil.Process().create_time()  # psutil's boot time is whole seconds
    assert age is not None and 0 < age and abs(age - coarse) < 1.5


def test_smoke_test_reports_first_paint_before_the_tabs_are_built(qtbot, qapp, monkeypatch):
    # The first-paint figure the installers print must not include building the tabs.
    from PySide6.QtWidgets import QApplication

    import playground.qt.smoke as smoke
    from playground.qt import app as app_module
    from playground.qt.context import AppContext

    order, windows = [], []

    class FakeSmoke:
        exit_code = 0

        def __init__(self, window, started):
            windows.append(window)

        def on_first_paint(self):
            order.append("paint")

    def fake_exec(*_):
        # Not the real exec()/quit(): quitting fires aboutToQuit, which stops the shared qasync
        # loop that every later test's runner uses.
        qtbot.waitUntil(lambda: len(order) == 2, timeout=10000)
        return 0

    monkeypatch.setattr(smoke, "SmokeTest", FakeSmoke)
    monkeypatch.setattr(MainWindow, "build_tabs", lambda self: order.append("tabs"))
    monkeypatch.setattr(AppContext, "load_model", lambda self, source: None)
    monkeypatch.setattr(QApplication, "exec", fake_exec)
    try:
        assert app_module.main(smoke_test=True) == 0
    finally:
        for w in windows:
            w.close()
            w.deleteLater()
    assert order == ["paint", "tabs"]


def test_the_first_window_says_loading_not_no_model(qtbot, app_context):
    w = MainWindow(app_context)
    qtbot.addWidget(w)
    w.show()
    text = w.model_bar.name_label.text()
    assert "Loading" in text and "No model" not in text


def test_the_welcome_tour_ends_on_the_tab_it_names(qtbot, app_context):
    from PySide6.QtCore import Qt

    w = make_window(qtbot, app_context)
    first = w.panels[0].title  # the tab a first start opens on (tests/qt/test_welcome_tour.py)
    w.tabs.setCurrentIndex(2)
    tour = w.show_tour()
    while tour.next.text() == "Next":
        qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
    assert tour.next.text() == f"Start in {first}" and f"<b>{first}</b>" in tour.pages.currentWidget().text()
    qtbot.mouseClick(tour.next, Qt.MouseButton.LeftButton)
    assert not tour.isVisible() and w.current_panel().title == first
    assert app_context.settings.section(WindowSection).welcome_seen is True

    w.tabs.setCurrentIndex(2)  # Skip leaves the learner where they are
    again = w.show_tour()
    qtbot.mouseClick(again.skip, Qt.MouseButton.LeftButton)
    assert w.tabs.currentIndex() == 2


def test_each_f1_guide_holds_the_tabs_lessons_and_a_picture_of_it(qtbot, app_context):
    from PySide6.QtGui import QImage

    from playground.qt.help import GuideDialog, guide_picture_path, tab_lessons

    from PySide6.QtGui import QAction

    w = make_window(qtbot, app_context)
    f1, = [a for a in w.findChildren(QAction) if a.shortcut().toString() == "F1"]
    for i, panel in enumerate(w.panels):
        w.tabs.setCurrentIndex(i)
        lessons = tab_lessons(panel)
        assert lessons, f"{panel.title} shows no lesson"
        picture = guide_picture_path(panel.title)
        image = QImage(str(picture))
        assert not image.isNull() and image.width() <= 600 and picture.stat().st_size < 80_000
        f1.trigger()  # Help > Guide for this tab (F1)
        dialog = next(d for d in w.findChildren(GuideDialog) if d.isVisible())
        page = dialog.browser.toHtml()
        assert picture.name in page
        plain = dialog.browser.toPlainText()
        for lesson in lessons:  # at least as rich as the tab: every lesson it shows is in the guide
            from PySide6.QtGui import QTextDocument

            doc = QTextDocument()
            doc.setHtml(lesson)
            assert doc.toPlainText()[:200] in plain
        dialog.close()


def test_attaching_an_adapter_keeps_the_model_bar_one_height(qtbot, context_with_tiny_llama, tiny_adapter):
    from playground.qt.model_bar import ModelBar

    ctx = context_with_tiny_llama
    ctx.set_adapter(None)
    bar = ModelBar(ctx)
    qtbot.addWidget(bar)
    bar.resize(1200, bar.sizeHint().height())
    bar.show()
    qtbot.waitExposed(bar)
    before = (bar.sizeHint().height(), bar.details_label.height(), bar.adapter_box.width())
    assert bar.adapter_check.text() == "No adapter" and not bar.adapter_check.isEnabled()
    ctx.set_adapter(tiny_adapter, on=False)  # a long run name
    qtbot.waitUntil(lambda: bar.adapter_check.isEnabled(), timeout=2000)
    assert bar.adapter_check.text() == "Adapter: run-7"
    assert (bar.sizeHint().height(), bar.details_label.height(), bar.adapter_box.width()) == before
