import time

from PySide6.QtCore import Qt

from playground.qt.generate.panel import GeneratePanel


def make_panel(qtbot, context):
    panel = GeneratePanel(context)
    qtbot.addWidget(panel)
    panel.show()
    return panel


def test_ctrl_enter_streams_tokens(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.chat_check.setChecked(False)
    panel.max_tokens.setValue(12)
    qtbot.keyClicks(panel.prompt_edit, "Hello there")
    steps = []
    with qtbot.waitSignal(panel.sig_generation_finished, timeout=30000) as blocker:
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        panel.task.sig_item.connect(steps.append)
    assert panel.tokens == 12
    assert len(steps) >= 1  # tokens arrived one by one while generating
    assert blocker.args[0] == panel.output_text
    assert panel.output_edit.toPlainText() == panel.output_text
    assert "tokens/s" in panel.stats_label.text()
    assert panel.generate_button.isEnabled() and not panel.stop_button.isEnabled()


def test_escape_stops_long_generation_within_two_seconds(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.chat_check.setChecked(False)
    panel.max_tokens.setValue(200)
    panel.prompt_edit.setPlainText("Tell me a long story")
    panel.generate_button.click()
    qtbot.waitUntil(lambda: panel.tokens >= 2, timeout=20000)
    t0 = time.perf_counter()
    with qtbot.waitSignal(panel.sig_generation_finished, timeout=2000):
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Escape)
    assert time.perf_counter() - t0 < 2.0
    assert panel.task.outcome == "cancelled"
    assert panel.tokens < 200
    assert "stopped" in panel.stats_label.text()


def test_empty_prompt_gives_plain_message(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.generate_button.click()
    assert "empty" in panel.message_label.text()
    assert panel.task is None


def test_prompt_longer_than_context_window(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.chat_check.setChecked(False)
    panel.prompt_edit.setPlainText("word " * 400)  # the tiny model's window is 256 tokens
    panel.generate_button.click()
    from playground.core.generation import count_tokens

    n = count_tokens(context_with_tiny_llama.session.current, "word " * 400)
    text = panel.message_label.text()
    assert f"The prompt is {n} tokens" in text and "context window is 256 tokens" in text
    assert panel.task is None


def test_generation_settings_persist(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.mode.setCurrentIndex(1)
    panel.temperature.setValue(1.25)
    panel.top_k.setValue(7)
    panel.prompt_edit.setPlainText("Hi")
    panel.max_tokens.setValue(2)
    with qtbot.waitSignal(panel.sig_generation_finished, timeout=20000):
        panel.generate_button.click()
    again = GeneratePanel(context_with_tiny_llama)
    qtbot.addWidget(again)
    assert again.mode.currentIndex() == 1 and again.temperature.value() == 1.25 and again.top_k.value() == 7


def test_sampling_controls_only_enabled_when_sampling(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.mode.setCurrentIndex(0)
    assert not panel.temperature.isEnabled() and not panel.top_p.isEnabled()
    panel.mode.setCurrentIndex(1)
    assert panel.temperature.isEnabled() and panel.seed.isEnabled()


def test_stopping_at_the_token_limit_is_said_and_one_token_is_singular(qtbot, context_with_tiny_llama):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.chat_check.setChecked(False)
    panel.max_tokens.setValue(1)
    qtbot.keyClicks(panel.prompt_edit, "Hello there")
    with qtbot.waitSignal(panel.sig_generation_finished, timeout=30000):
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    text = panel.stats_label.text()
    assert panel.tokens == 1
    assert text.startswith("1 token in") and "1 tokens" not in text
    assert "limit of 1 new tokens" in text and "Max new tokens" in text
