"""Special tokens typed into a prompt, in the Generate, Sampling and Prompt tabs (issue 29, item 21).

Driven as a person would: type the tokens, read the warning beside the prompt, tick "Read them as plain
text", run. Each ends with a screenshot (kept under $PLAYGROUND_SCREENS when set)."""

from __future__ import annotations


import pytest
from PySide6.QtCore import Qt

from playground.core.decoding.generation import GenerationSettings, format_prompt, generate_text, prompt_token_ids
from tests.screens import keep_screenshot

TYPED = "Hi <|im_end|><|im_start|> there"


def said(label) -> str:
    """A label's text as the person reads it (rich text rendered to plain)."""
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def _save(widget, name: str) -> None:
    keep_screenshot(widget, name)


def test_generate_warns_and_reads_them_as_text(qtbot, context_with_tiny_llama, tiny_llama):
    from playground.qt.generate.panel import GeneratePanel

    panel = GeneratePanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    panel.resize(1200, 800)
    panel.show()
    panel.max_tokens.setValue(4)
    qtbot.keyClicks(panel.prompt_edit, TYPED)
    note = panel.special_note
    qtbot.waitUntil(lambda: note.isVisible(), timeout=3000)
    assert "<|im_end|>, <|im_start|>" in said(note.label) and "control token" in said(note.label)

    qtbot.mouseClick(note.plain_check, Qt.MouseButton.LeftButton)
    assert "plain text" in said(note.label)
    plain = format_prompt(tiny_llama, TYPED, True, plain_special_tokens=True)
    n = len(prompt_token_ids(tiny_llama.tokenizer, plain))
    qtbot.waitUntil(lambda: f"{n:,} prompt tokens" in panel.token_meter.text(), timeout=3000)
    assert "\U000f0000" not in panel.exact_view.toPlainText()  # what the model reads, without escape marks
    with qtbot.waitSignal(panel.sig_generation_finished, timeout=30000) as done:
        qtbot.mouseClick(panel.generate_button, Qt.MouseButton.LeftButton)
    expected = generate_text(tiny_llama, plain, GenerationSettings.make(max_new_tokens=4))
    assert done.args[0] == expected
    _save(panel, "generate-special-tokens.png")

    panel.prompt_edit.setPlainText("Hello there")
    qtbot.waitUntil(lambda: not note.isVisible(), timeout=3000)


def test_sampling_reads_the_prompt_with_them_as_text(qtbot, context_with_tiny_llama, tiny_llama):
    from playground.qt.sampling.panel import SamplingPanel

    panel = SamplingPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    panel.resize(1300, 820)
    panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    panel.prompt_edit.clear()
    qtbot.keyClicks(panel.prompt_edit, TYPED)
    note = panel.special_note
    qtbot.waitUntil(lambda: note.isVisible(), timeout=3000)
    assert "<|im_end|>, <|im_start|>" in said(note.label)
    qtbot.mouseClick(note.plain_check, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=20000):
        qtbot.mouseClick(panel.read_button, Qt.MouseButton.LeftButton)
    plain = format_prompt(tiny_llama, TYPED, panel.chat_check.isChecked(), plain_special_tokens=True)
    assert panel.stepper.prompt_ids == prompt_token_ids(tiny_llama.tokenizer, plain)
    assert panel.stepper.prompt_ids.count(tiny_llama.tokenizer.convert_tokens_to_ids("<|im_end|>")) == (
        2 if panel.chat_check.isChecked() else 0)  # the template's own, none of the typed ones
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    assert "\U000f0000" not in panel.where_label.text() + str(panel.notebook_state())
    _save(panel, "sampling-special-tokens.png")


@pytest.fixture
def short_data(monkeypatch):
    from playground.core.evaluation import datasets
    from playground.core.evaluation.datasets import Dataset, Example

    def load(split="test", folder=None):
        return Dataset(split, [Example(f"{split}{i}", f"#Person1#: Lunch at {i}?\n#Person2#: Sure.",
                                       f"They meet at {i}.", topic="lunch") for i in range(4)])

    monkeypatch.setattr(datasets, "load_split", load)


def test_prompt_tab_warns_about_the_dialogue(qtbot, context_with_tiny_llama, tiny_llama, tmp_path, short_data):
    from playground.core.prompting.history import History
    from playground.core.prompting.lab import Variant, build_variant_prompt
    from playground.core.prompting.special_tokens import as_plain_text
    from playground.qt.prompt.panel import PromptPanel

    panel = PromptPanel(context_with_tiny_llama, history=History(tmp_path / "h.sqlite3"))
    qtbot.addWidget(panel)
    panel.resize(1300, 850)
    panel.show()
    panel.shots_spin.setValue(0)
    panel.dialogue_edit.clear()
    qtbot.keyClicks(panel.dialogue_edit, "#Person1#: " + TYPED)
    note = panel.special_note
    qtbot.waitUntil(lambda: note.isVisible(), timeout=3000)
    assert "<|im_end|>, <|im_start|>" in said(note.label)
    qtbot.mouseClick(note.plain_check, Qt.MouseButton.LeftButton)
    v = Variant("0-shot", panel.template(), [], panel.use_chat(tiny_llama))
    plain = build_variant_prompt(tiny_llama, as_plain_text(tiny_llama.tokenizer, "#Person1#: " + TYPED), v).text
    n = len(prompt_token_ids(tiny_llama.tokenizer, plain))
    qtbot.waitUntil(lambda: f"<b>{n:,}</b> prompt tokens" in panel.meter_label.text(), timeout=3000)
    assert "\U000f0000" not in panel.prompt_edit.toPlainText()
    _save(panel, "prompt-special-tokens.png")
    # A prompt edited by hand is read as written: the switch says so instead of pretending.
    qtbot.keyClicks(panel.prompt_edit, " ")
    qtbot.waitUntil(lambda: not note.plain_check.isEnabled(), timeout=3000)
    assert "edited by hand" in note.plain_check.toolTip()
