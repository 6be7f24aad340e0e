import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from playground.core.base.settings_schema import WindowSection
from tests.qt.shown import main_window


@pytest.fixture
def window(qtbot, context_with_tiny_llama):
    w = main_window(qtbot, context_with_tiny_llama)
    yield w
    w.presenter.set_zoom(1.0)


def font_sizes(w):
    sizes = {}
    for i in range(w.tabs.count()):
        panel = w.panels[i]
        widgets = panel.findChildren(QLabel) + panel.findChildren(QAbstractButton)
        sizes[panel.title] = [x.font().pointSizeF() for x in widgets][:30]
    return sizes


def test_zoom_changes_font_sizes_of_every_tab(qtbot, window):
    before = font_sizes(window)
    assert window.zoom(1) > 1.0
    window.zoom(1)
    after = font_sizes(window)
    for title in before:
        assert before[title] and all(a > b for a, b in zip(after[title], before[title])), title
    assert window.zoom(0) == 1.0
    assert font_sizes(window) == before
    assert window.context.settings.section(WindowSection).zoom == 1.0


def test_zoom_scales_fixed_fonts_too(qtbot, window):
    gen = window.panel("GeneratePanel")
    base = gen.output_edit.font().pointSizeF()
    window.zoom(1)
    assert gen.output_edit.font().pointSizeF() > base
    window.zoom(0)
    assert gen.output_edit.font().pointSizeF() == pytest.approx(base)


def test_themes_and_high_contrast(qtbot, window):
    from PySide6.QtGui import QPalette

    app = QApplication.instance()
    window.set_theme("dark")
    assert app.palette().color(QPalette.ColorRole.Window).lightness() < 80
    window.contrast_action.setChecked(True)
    assert app.palette().color(QPalette.ColorRole.Window).name() == "#000000"
    window.set_theme("light", False)
    assert app.palette().color(QPalette.ColorRole.Window).lightness() > 200
    assert window.context.settings.section(WindowSection).theme == "light"
    window.set_theme("system", False)


def test_guide_and_tour(qtbot, window):
    window.tabs.setCurrentIndex(0)
    window.show_guide()
    from playground.qt.help import GuideDialog

    dialog = window.findChildren(GuideDialog)[-1]
    assert window.current_panel().title in dialog.windowTitle()
    assert "No guide" not in dialog.browser.toPlainText()
    tour = window.show_tour()
    pages = tour.pages.count()
    for _ in range(pages - 1):
        tour.next.click()
    assert tour.next.text() == f"Start in {window.panels[0].title}"  # and it opens it (test_main_window)
    tour.next.click()
    assert window.context.settings.section(WindowSection).welcome_seen is True


def test_every_tab_has_a_guide(window):
    from playground.qt.panel import Panel

    for i in range(window.tabs.count()):
        panel = window.panels[i]
        assert panel.help and panel.help != Panel.help, panel.title  # its own F1 page
        assert f"<h2>{panel.title}:" in panel.help
        assert window.tabs.tabToolTip(i) == panel.guide and panel.guide  # the one-sentence lesson on its tab


def test_session_export_contains_the_runs_and_no_network(qtbot, window, tmp_path):
    gen = window.panel("GeneratePanel")
    gen.chat_check.setChecked(False)
    gen.prompt_edit.setPlainText("A handout prompt")
    gen.max_tokens.setValue(3)
    with qtbot.waitSignal(gen.sig_generation_finished, timeout=20000):
        gen.generate()
    out = tmp_path / "session.html"
    window.export_session(str(out))
    page = out.read_text()
    assert "A handout prompt" in page and gen.output_text.strip()[:5] in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_unwritable_user_folder_falls_back_when_a_file_blocks_it(tmp_path, monkeypatch):
    from playground.core.base.paths import writable_user_dirs

    blocker = tmp_path / "home"
    blocker.write_text("a file where a folder should be")
    monkeypatch.setenv("PLAYGROUND_HOME", str(blocker))
    dirs, problem = writable_user_dirs()
    assert "cannot write" in problem
    assert dirs.data.exists() and not str(dirs.data).startswith(str(blocker))


def test_second_instance_is_detected(qtbot, qapp):
    from playground.qt.single_instance import InstanceServer, another_instance_running

    name = "llm-playground-test-instance"
    assert not another_instance_running(name)
    server = InstanceServer(name, parent=qapp)
    assert server.listening
    with qtbot.waitSignal(server.sig_raise_requested, timeout=3000):
        assert another_instance_running(name)
    server.server.close()
    server.setParent(None)
    server.deleteLater()
    qtbot.waitUntil(lambda: not another_instance_running(name), timeout=3000)


def test_zoomed_model_details_wrap_instead_of_widening_the_window(qtbot, window):
    # A projector is often 1280 px wide: the model bar's long details line must not push the
    # window wider than it was when zoomed in.
    qtbot.waitUntil(lambda: "context 256 tokens" in window.model_bar.details_label.text(), timeout=10000)
    window.resize(1100, 700)
    for _ in range(3):
        window.zoom(1)
    QApplication.processEvents()
    assert window.model_bar.minimumSizeHint().width() < 1100
    assert window.width() == 1100
