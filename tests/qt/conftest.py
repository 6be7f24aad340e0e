"""Fixtures the GUI tests share."""

from __future__ import annotations

import pytest

TRAIN_TIMEOUT = 180_000


@pytest.fixture
def wizard(qtbot, context_with_tiny_llama, tmp_path, monkeypatch):
    """The Fine-tune tab on the tiny Llama, shown at 1200x800, its runs under tmp_path, its data read;
    a run still going at the end is stopped and waited for."""
    from playground.core.finetune import runs
    from playground.qt.finetune import FinetunePanel

    monkeypatch.setattr(runs, "runs_root", lambda: tmp_path / "runs")
    panel = FinetunePanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    qtbot.waitUntil(lambda: panel.data_page.preview is not None, timeout=60_000)
    yield panel
    panel.train_page.stop()
    qtbot.waitUntil(lambda: not panel.train_page.busy, timeout=TRAIN_TIMEOUT)


@pytest.fixture(scope="module")
def every_tab_window(qapp, tmp_path_factory):
    """One main window with every tab built and the bundled model's facts in its bar, no model loaded,
    for a whole module (building the tabs is the slow part)."""
    from playground.core.base.settings import Settings
    from playground.qt.context import AppContext
    from playground.qt.layout_audit import show_bundled_facts
    from playground.qt.main_window import MainWindow

    context = AppContext(settings=Settings(tmp_path_factory.mktemp("window") / "settings.json"))
    w = MainWindow(context)
    w.show()
    w.build_tabs()
    show_bundled_facts(w.model_bar)
    yield w
    w.set_presenting(False)
    w.close()
    w.deleteLater()
    context.runner.shutdown(wait=True)
