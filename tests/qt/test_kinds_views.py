"""Inside's Meaning and Objectives views, driven as a person would, with a decoder and an encoder."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from playground.qt.inside.panel import InsidePanel
from tests.qt.shown import shown


@pytest.fixture
def panel(qtbot, app_context):
    return shown(qtbot, InsidePanel(app_context))


def test_meaning_matrix_matches_core(qtbot, panel):
    from playground.core.models.encoder import sentence_similarity

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
    from playground.core.models.sources import ModelSource

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


def test_both_kinds_side_by_side_causal_against_bidirectional(qtbot, panel, app_context, tiny_llama, tmp_path):
    import numpy as np
    import torch
    from transformers import AutoModel, AutoTokenizer

    from playground.core.attention.kinds import above_diagonal_share
    from playground.core.models.encoder import find_bundled_encoder

    app_context.session.set(tiny_llama)
    panel.view_tabs.setCurrentIndex(list(panel.views).index("kinds"))
    view = panel.views["kinds"]
    view.edit.setText("The cat sat on the mat.")
    qtbot.mouseClick(view.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.has_data, timeout=120000)
    dec, enc = view.sides
    assert dec.kind == "decoder-only" and enc.kind == "encoder-only" and "MiniLM" in enc.loaded_name
    assert dec.above_diagonal == 0.0 and enc.above_diagonal > 0.1  # the triangle against both ways
    assert enc.pieces[0] == "[CLS]" and enc.pieces[-1] == "[SEP]" and any(p.startswith("Ġ") for p in dec.pieces)
    assert "of the attention goes to later tokens" in view.note.text()
    shown = [np.asarray(im.get_array()) for im in view.images]
    assert np.allclose(np.triu(shown[0], 1), 0) and np.triu(shown[1], 1).sum() > 0
    # oracle: the encoder's last layer, mean of heads, straight from transformers
    folder = find_bundled_encoder()
    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    with torch.no_grad():
        att = model(**tok("The cat sat on the mat.", return_tensors="pt"), output_attentions=True).attentions
    assert np.allclose(shown[1], att[-1][0].mean(0).numpy(), atol=1e-5)
    assert above_diagonal_share(att[-1][0].numpy()) == pytest.approx(
        above_diagonal_share(enc.result.main.weights[-1]), abs=1e-5)
    # a person moves the depth slider to the first layer and picks head 0: both maps follow
    view.depth.setValue(0)
    view.head_combo.setCurrentIndex(view.head_combo.findData(0))
    assert np.allclose(np.asarray(view.images[1].get_array()), att[0][0, 0].numpy(), atol=1e-5)
    assert "layer 0" in view.depth_label.text()
    panel.export_current(str(tmp_path / "kinds.csv"), "csv")
    text = (tmp_path / "kinds.csv").read_text()
    assert "(decoder-only) layer 0 0" in text and "(encoder-only) layer 0 0" in text
