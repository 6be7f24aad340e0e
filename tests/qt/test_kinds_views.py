"""Inside's Meaning and Objectives views, driven as a person would, with a decoder and an encoder."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from playground.qt.inside.panel import InsidePanel


@pytest.fixture
def panel(qtbot, app_context):
    p = InsidePanel(app_context)
    qtbot.addWidget(p)
    p.resize(1300, 850)
    p.show()
    return p


def test_meaning_matrix_matches_core(qtbot, panel):
    from playground.core.encoder import sentence_similarity

    panel.view_tabs.setCurrentIndex(list(panel.views).index("meaning"))
    view = panel.meaning
    view.edit.setPlainText("The meeting was moved to Friday.\nThey rescheduled the meeting for Friday.\nBananas are yellow.")
    qtbot.mouseClick(view.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.has_data, timeout=60000)
    m = view.matrix
    assert m.shape == (3, 3) and m[0, 1] > m[0, 2]
    assert m[0, 1] == pytest.approx(sentence_similarity(view.texts[0], view.texts[1]), abs=1e-4)
    assert "all-MiniLM-L6-v2" in view.note.text()
    view.edit.setPlainText("only one")
    qtbot.mouseClick(view.button, Qt.MouseButton.LeftButton)
    assert "between 2 and 12" in view.note.text()


def test_objectives_with_decoder_then_encoder(qtbot, panel, app_context, tiny_llama, tiny_bert_dir):
    from playground.core.model_sources import ModelSource

    app_context.session.set(tiny_llama)
    app_context.sig_model_changed.emit(tiny_llama)
    panel.view_tabs.setCurrentIndex(list(panel.views).index("objectives"))
    view = panel.objectives
    view.edit.setText("The cat sat on the mat.")
    qtbot.mouseClick(view.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.has_data, timeout=60000)
    page = view.browser.toPlainText()
    assert "causal LM" in page and "masked LM" in page and "span corruption" in page
    assert "Perplexity of the sentence" in page and "[MASK]" in page and "<extra_id_0>" in page
    assert len(view.result["tokenizers"]) == 2 and view.result["tokenizers"][1][2] == 49152
    # an encoder loaded: no per-token surprise, said plainly, the rest still works
    with qtbot.waitSignal(app_context.sig_model_changed, timeout=60000):
        app_context.load_model(ModelSource("local", str(tiny_bert_dir)), device="cpu")
    view.has_data = False
    qtbot.mouseClick(view.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.has_data, timeout=60000)
    page = view.browser.toPlainText()
    assert "masked LM" in page and "causal" in page and "Perplexity" not in page
    assert len(view.result["tokenizers"]) == 1
