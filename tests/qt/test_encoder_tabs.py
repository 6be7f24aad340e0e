"""Switching between a decoder and encoder-only models: each text tab says what an encoder cannot
do there, offers the bundled decoder back, and a masked-LM BERT fills [MASK] in Generate."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from playground.core.models.sources import ModelSource
from playground.qt.generate.panel import GeneratePanel
from playground.qt.prompt.panel import PromptPanel
from playground.qt.sampling.panel import SamplingPanel


def load(qtbot, context, folder):
    with qtbot.waitSignal(context.sig_model_changed, timeout=60000) as blocker:
        context.load_model(ModelSource("local", str(folder)), device="cpu")
    return blocker.args[0]


@pytest.fixture
def panels(qtbot, app_context):
    made = [cls(app_context) for cls in (GeneratePanel, SamplingPanel, PromptPanel)]
    for p in made:
        qtbot.addWidget(p)
        p.show()
    return made


def test_tabs_respond_to_encoder_then_decoder(qtbot, app_context, panels, tiny_bert_dir, tiny_llama_dir):
    gen, samp, prompt = panels
    load(qtbot, app_context, tiny_bert_dir)
    for p in panels:
        assert p.encoder_notice.isVisible()
        assert "encoder-only" in p.encoder_notice.label.text()
        assert "does not generate text" in p.encoder_notice.label.text()
    # Generate refuses plainly and keeps running.
    qtbot.keyClicks(gen.prompt_edit, "Hello there")
    qtbot.mouseClick(gen.generate_button, Qt.MouseButton.LeftButton)
    assert "encoder-only" in gen.message_label.text() and gen.generate_button.isEnabled()
    # Back to a decoder: every notice goes away.
    load(qtbot, app_context, tiny_llama_dir)
    for p in panels:
        assert not p.encoder_notice.isVisible()


def test_switch_back_button_loads_the_bundled_decoder(qtbot, app_context, panels, tiny_bert_dir):
    load(qtbot, app_context, tiny_bert_dir)
    with qtbot.waitSignal(app_context.sig_model_loading, timeout=5000) as blocker:
        qtbot.mouseClick(panels[1].encoder_notice.switch_button, Qt.MouseButton.LeftButton)
    assert "SmolLM2" in blocker.args[0]
    app_context.load_slot.stop()


def test_masked_lm_fills_the_mask_in_generate(qtbot, app_context, panels, tiny_bert_mlm_dir):
    from playground.core.models.encoder import fill_mask

    gen = panels[0]
    loaded = load(qtbot, app_context, tiny_bert_mlm_dir)
    assert gen.generate_button.text() == "Fill in the mask"
    assert "[MASK]" in gen.encoder_notice.label.text()
    text = "The capital of France is [MASK]."
    qtbot.keyClicks(gen.prompt_edit, text)
    with qtbot.waitSignal(gen.sig_generation_finished, timeout=30000) as blocker:
        qtbot.mouseClick(gen.generate_button, Qt.MouseButton.LeftButton)
    expected = fill_mask(loaded, text)
    assert blocker.args[0] == expected.filled == gen.output_edit.toPlainText()
    assert "[MASK]" not in expected.filled and len(expected.guesses) == 1
    assert "mask 1:" in gen.candidates_label.text()
    # no mask in the text: a plain message
    gen.prompt_edit.setPlainText("No gap here.")
    with qtbot.waitSignal(gen.sig_generation_finished, timeout=30000):
        qtbot.mouseClick(gen.generate_button, Qt.MouseButton.LeftButton)
    assert "[MASK]" in gen.message_label.text()


def test_change_model_lists_the_encoder_with_its_kind(qtbot):
    from playground.qt.model_dialog import ModelDialog

    d = ModelDialog(recent_folders=[])
    qtbot.addWidget(d)
    assert "encoder-only" in d.encoder_radio.text() and "decoder-only" in d.bundled_radio.text()
    d.encoder_radio.click()
    source, _, _ = d.choice()
    assert source == ModelSource("encoder")
