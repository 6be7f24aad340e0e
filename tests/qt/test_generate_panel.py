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
    from playground.core.decoding.generation import count_tokens

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
    # (the rate, e.g. "56.1 tokens/s", may hold "1 tokens": check the count's own segment)
    assert text.split(" · ")[0].startswith("1 token in ")
    assert "limit of 1 new token:" in text and "Max new tokens" in text


def test_hover_a_completion_token_for_its_probability_and_see_the_exact_prompt(qtbot, context_with_tiny_llama):
    from PySide6.QtGui import QColor
    from PySide6.QtWidgets import QToolTip
    from test_inside_views import anchor_pos

    from playground.qt.widgets.token_chips import colour_for, shade

    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.resize(1100, 700)
    panel.max_tokens.setValue(5)
    assert panel.chat_check.isChecked()
    qtbot.keyClicks(panel.prompt_edit, "Hello there")
    tok = context_with_tiny_llama.session.current.tokenizer
    wrapped = tok.apply_chat_template([{"role": "user", "content": "Hello there"}], tokenize=False,
                                      add_generation_prompt=True)
    qtbot.waitUntil(lambda: panel.exact_view.toPlainText() == wrapped, timeout=3000)  # what the model reads
    qtbot.mouseClick(panel.chat_check, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.exact_view.toPlainText() == "Hello there", timeout=3000)

    with qtbot.waitSignal(panel.sig_generation_finished, timeout=30000):
        qtbot.keyClick(panel.prompt_edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert len(panel.steps) == 5 and panel.output_edit.toPlainText() == panel.output_text
    step = next(s for s in panel.steps[1:] if s.text.strip())
    i = panel.steps.index(step)
    qtbot.mouseMove(panel.output_edit.viewport(), anchor_pos(panel.output_edit, f"tok:{i}"))
    qtbot.waitUntil(QToolTip.isVisible, timeout=3000)
    tip = QToolTip.text()
    assert tip.startswith(f"token {i + 1} ") and f"model {step.prob:.1%}" in tip
    assert f"{step.top_probs[0]:.1%}" in tip.split("most likely there:")[1]
    # The chip's colour is the probability bucket's, as in the Sampling tab.
    found = [f.charFormat().background().color() for f in _fragments(panel.output_edit.document())
             if f.charFormat().anchorHref() == f"tok:{i}"]
    assert found and found[0] == QColor(shade(colour_for(step.prob), i % 2 == 1))


def _fragments(doc):
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            yield it.fragment()
            it += 1
        block = block.next()


def test_the_completion_names_its_model_and_goes_when_the_model_changes(qtbot, app_context, tiny_llama_dir,
                                                                       tiny_bert_dir):
    """Issue 28: the completion's header names the model (base, no adapter) and the settings; switching to
    an encoder and back leaves neither the encoder's red error nor the old completion."""
    from playground.core.models.sources import ModelSource

    def load(folder):
        with qtbot.waitSignal(app_context.sig_model_changed, timeout=60000):
            app_context.load_model(ModelSource("local", str(folder)), device="cpu")

    panel = make_panel(qtbot, app_context)
    assert "will name the model" in panel.result_header.plain_text()
    load(tiny_llama_dir)
    panel.chat_check.setChecked(False)
    panel.max_tokens.setValue(5)
    qtbot.keyClicks(panel.prompt_edit, "Hello there")
    with qtbot.waitSignal(panel.sig_generation_finished, timeout=30000):
        panel.generate()
    header = panel.result_header.plain_text()
    name = app_context.session.current.info.name
    assert f"{name} (base, no adapter)" in header
    assert "greedy, 5 new tokens at most" in header and "raw text" in header
    assert panel.output_edit.toPlainText()

    load(tiny_bert_dir)
    assert panel.output_edit.toPlainText() == "" and panel.stats_label.text() == ""
    assert name not in panel.result_header.plain_text()
    panel.generate()
    assert "encoder-only" in panel.message_label.text()

    load(tiny_llama_dir)
    assert panel.message_label.text() == ""
    assert panel.output_edit.toPlainText() == "" and panel.candidates_label.text() == ""
    assert "will name the model" in panel.result_header.plain_text()


def test_the_adapter_switch_marks_the_completion_out_of_date(qtbot, context_with_tiny_llama, tiny_adapter):
    panel = make_panel(qtbot, context_with_tiny_llama)
    panel.chat_check.setChecked(False)
    panel.max_tokens.setValue(3)
    qtbot.keyClicks(panel.prompt_edit, "Hello")
    with qtbot.waitSignal(panel.sig_generation_finished, timeout=30000):
        panel.generate()
    text = panel.output_edit.toPlainText()
    context_with_tiny_llama.set_adapter(tiny_adapter, on=True)
    assert panel.output_edit.toPlainText() == text
    assert "(base, no adapter)" in panel.result_header.plain_text()
    assert "out of date" in panel.result_header.plain_text()
