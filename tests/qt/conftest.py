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
