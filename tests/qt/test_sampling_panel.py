"""The Sampling tab, driven like a person: sliders, Sample next, clicking a bar, Run, Run 5 times."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from PySide6.QtCore import QPoint, Qt, QUrl

from playground.qt.sampling.panel import SamplingPanel
from tests.qt.shown import in_tab_room


@pytest.fixture
def forward_calls(tiny_llama):
    """Counts every forward pass of the shared tiny model during a test."""
    calls = []
    handle = tiny_llama.model.register_forward_pre_hook(lambda module, args: calls.append(1))
    yield calls
    handle.remove()


def ready_panel(qtbot, context, prompt="The quick brown fox"):
    panel = SamplingPanel(context)
    qtbot.addWidget(panel)
    panel.resize(1300, 820)
    panel.prompt_edit.setPlainText(prompt)
    panel.chat_check.setChecked(False)
    panel.show()
    # The panel reads the prompt by itself once it hears about the model; read again for ours.
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=20000):
        qtbot.mouseClick(panel.read_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.redraws > 0 and not panel.busy, timeout=5000)
    return panel


def bar_heights(panel):
    verts = panel.chart.final_bars.get_paths()
    return np.array([p.vertices[:, 1].max() for p in verts])


def kept(panel):
    return panel._last_stages.kept


def press(qtbot, panel, widget, key, times=1):
    before = panel.redraws
    for _ in range(times):
        qtbot.keyClick(widget, key)
    qtbot.waitUntil(lambda: panel.redraws > before, timeout=3000)


def test_sliders_reshape_the_bars_without_running_the_model(qtbot, context_with_tiny_llama, forward_calls):
    panel = ready_panel(qtbot, context_with_tiny_llama)
    c = panel.controls
    c.top_k.setValue(0)
    c.top_p.setValue(100)
    c.temperature.setValue(100)
    qtbot.waitUntil(lambda: panel._redraw_timer.isActive() is False)
    forward_calls.clear()
    vocab = panel.steps[-1].logits.shape[-1]
    heights, entropy = bar_heights(panel), panel._last_stages.entropy_bits
    assert kept(panel) == vocab

    # Temperature to its maximum: the same tokens, a flatter distribution.
    c.temperature.setFocus()
    press(qtbot, panel, c.temperature, Qt.Key.Key_End)
    assert c.temperature.value() == 200 and "2.00" in c.temperature_value.text()
    flatter = bar_heights(panel)
    assert not np.allclose(flatter, heights) and flatter[0] < heights[0]
    assert panel._last_stages.entropy_bits > entropy

    # Top-p down: tokens drop out of play, the kept ones are renormalized, labels say how many.
    press(qtbot, panel, c.top_p, Qt.Key.Key_PageDown, times=5)
    assert c.top_p.value() == 50
    half = kept(panel)
    assert 1 < half < vocab
    assert f"{half:,}</b> of {vocab:,} tokens in play" in panel.stats_label.text()
    press(qtbot, panel, c.top_p, Qt.Key.Key_Home)
    assert c.top_p.value() == 0 and kept(panel) == 1
    assert bar_heights(panel)[0] == pytest.approx(1.0)
    assert panel.chart.cumulative_line.get_visible() and panel.chart.top_p_line.get_visible()

    # Top-k on, top-p off: exactly k tokens stay.
    press(qtbot, panel, c.top_p, Qt.Key.Key_End)
    c.top_k.setValue(17)
    qtbot.waitUntil(lambda: kept(panel) == 17, timeout=3000)
    assert (panel.chart.label_veils.get_facecolor()[17:30, 3] > 0).all()  # cut labels greyed
    assert (panel.chart.label_veils.get_facecolor()[:17, 3] == 0).all()
    assert forward_calls == [], "moving a slider must never run the model"


def test_minimum_temperature_is_greedy_and_says_so(qtbot, context_with_tiny_llama, forward_calls):
    panel = ready_panel(qtbot, context_with_tiny_llama)
    press(qtbot, panel, panel.controls.temperature, Qt.Key.Key_Home)
    assert panel.controls.temperature.value() == 5
    assert kept(panel) == 1 and panel._last_stages.greedy
    assert "greedy" in panel.notes_label.text()
    panel.controls.greedy_radio.click()
    qtbot.waitUntil(lambda: not panel.controls.temperature.isEnabled())
    assert kept(panel) == 1


def test_sample_next_then_force_a_token_by_clicking_its_bar(qtbot, context_with_tiny_llama, forward_calls):
    panel = ready_panel(qtbot, context_with_tiny_llama)
    forward_calls.clear()
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=10000) as got:
        qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)
    assert got.args == [1] and len(forward_calls) == 1  # one token, one pass (KV cache)
    first = panel.steps[0]
    assert first.chosen and "sample" in first.how
    assert "next" in panel.strip.toPlainText()

    # Click the 6th bar of the next-token chart: that token is forced.
    target = panel.chart.token_ids[5]
    x, y = panel.chart.ax.transData.transform((5.2, 0.5))
    pos = QPoint(int(x), int(panel.chart.height() - y))
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=10000):
        qtbot.mouseClick(panel.chart, Qt.MouseButton.LeftButton, pos=pos)
    assert panel.steps[1].token_id == target and panel.steps[1].how == "forced"
    assert len(panel.stepper.tokens) == 2

    # Show step 1 (from the strip) and force a different token there: a branch.
    panel.strip.anchorClicked.emit(QUrl("step:0"))
    assert panel.view_index == 0 and panel.sample_button.text() == "Resample step 1"
    assert "Step 1 of 3" in panel.where_label.text()
    other = panel.chart.token_ids[3]
    if other == first.token_id:
        other = panel.chart.token_ids[4]
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=10000) as got:
        panel.chart.sig_token_clicked.emit(other)
    assert got.args == [1]
    assert panel.stepper.tokens == [other] and panel.view_index is None
    fresh = context_with_tiny_llama.session.current.model(
        input_ids=torch.tensor([panel.stepper.prompt_ids + [other]])).logits[0, -1]
    assert torch.allclose(panel.steps[-1].logits, fresh.float(), atol=1e-4)


def test_run_steps_and_run_five_times(qtbot, context_with_tiny_llama, forward_calls):
    panel = ready_panel(qtbot, context_with_tiny_llama)
    panel.steps_spin.setValue(6)
    panel.controls.sample_radio.setChecked(True)
    forward_calls.clear()
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy and len(panel.stepper.tokens) == 6, timeout=20000)
    assert len(forward_calls) == 6
    assert len(panel.steps) == 7 and all(s.chosen for s in panel.steps[:-1])
    with qtbot.waitSignal(panel.sig_rollouts_finished, timeout=30000):
        qtbot.mouseClick(panel.five_button, Qt.MouseButton.LeftButton)
    lines = panel.rollouts_view.toPlainText().splitlines()
    assert lines[1].startswith("greedy:")
    assert [line.split(":")[0] for line in lines[2:]] == ["seed 0", "seed 1", "seed 2", "seed 3", "seed 4"]
    assert len(panel.steps) == 7  # the rollouts came back to where they started


def test_stop_ends_a_long_run(qtbot, context_with_tiny_llama):
    panel = ready_panel(qtbot, context_with_tiny_llama)
    panel.steps_spin.setValue(200)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(panel.steps) >= 3, timeout=20000)
    qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    assert panel.task.outcome == "cancelled" and len(panel.steps) < 150
    assert panel.sample_button.isEnabled()


def test_empty_prompt_gives_a_message(qtbot, context_with_tiny_llama):
    panel = ready_panel(qtbot, context_with_tiny_llama)
    panel.prompt_edit.setPlainText("   ")
    qtbot.mouseClick(panel.read_button, Qt.MouseButton.LeftButton)
    assert "empty" in panel.message_label.text()
    assert not panel.busy


class _WrappedModel(torch.nn.Module):
    """The tiny model with its output changed: broken numbers, or a smaller vocabulary."""

    def __init__(self, inner, bad=None, vocab=None):
        super().__init__()
        self.inner, self.bad, self.vocab = inner, bad, vocab
        self.config = inner.config

    def forward(self, **kwargs):
        out = self.inner(**kwargs)
        if self.vocab is not None:
            out.logits = out.logits[..., : self.vocab]
        if self.bad is not None:
            out.logits = out.logits.clone()
            out.logits[..., 7] = self.bad
        return out


def test_top_k_larger_than_the_vocabulary_keeps_every_token_and_says_so(qtbot, app_context, tiny_llama):
    app_context.session.set(replace(tiny_llama, model=_WrappedModel(tiny_llama.model, vocab=150)))
    panel = SamplingPanel(app_context)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.redraws > 0 and not panel.busy, timeout=20000)
    assert kept(panel) == 150
    press(qtbot, panel, panel.controls.top_k, Qt.Key.Key_End)
    assert panel.controls.top_k.value() == 200
    assert kept(panel) == 150
    assert "not smaller than the vocabulary (150 tokens)" in panel.notes_label.text()
    press(qtbot, panel, panel.controls.top_k, Qt.Key.Key_PageDown)  # 200 → 190: still every token
    assert kept(panel) == 150 and "vocabulary" in panel.notes_label.text()
    press(qtbot, panel, panel.controls.top_k, Qt.Key.Key_PageDown, times=6)  # 190 → 130
    assert kept(panel) == 130 and panel.notes_label.text() == ""
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=10000):
        qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)
    assert panel.stepper.tokens[0] < 130


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_broken_model_gives_a_message_not_a_crash(qtbot, app_context, tiny_llama, bad):
    app_context.session.set(replace(tiny_llama, model=_WrappedModel(tiny_llama.model, bad=bad)))
    panel = SamplingPanel(app_context)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: "invalid numbers" in panel.message_label.text(), timeout=20000)
    assert not panel.sample_button.isEnabled()
    panel.controls.temperature.setValue(150)  # moving a slider with nothing to show does nothing bad
    qtbot.waitUntil(lambda: not panel._redraw_timer.isActive())
    assert "invalid numbers" in panel.message_label.text() and panel.redraws == 0


def test_encoder_decoder_model_works_in_the_tab(qtbot, app_context, tiny_t5):
    app_context.session.set(tiny_t5)
    panel = SamplingPanel(app_context)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.redraws > 0, timeout=20000)
    assert not panel.chat_check.isEnabled()
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=10000):
        qtbot.mouseClick(panel.sample_button, Qt.MouseButton.LeftButton)
    assert len(panel.stepper.tokens) == 1


def test_zoom_grows_the_fixed_height_parts(qtbot, context_with_tiny_llama):
    from PySide6.QtWidgets import QApplication

    from playground.qt.presenter import Presenter

    panel = ready_panel(qtbot, context_with_tiny_llama)
    heights = [w.height() for w in (panel.strip, panel.rollouts_view, panel.stats_label)]
    presenter = Presenter(QApplication.instance())
    try:
        presenter.set_zoom(2.0, root=panel)
        qtbot.waitUntil(lambda: all(w.height() > h * 1.5 for w, h in
                                    zip((panel.strip, panel.rollouts_view, panel.stats_label), heights)),
                        timeout=3000)
        lesson = panel.lesson_label
        assert lesson.height() >= lesson.heightForWidth(lesson.width())  # the lesson is not clipped
    finally:
        presenter.set_zoom(1.0, root=panel)
    qtbot.waitUntil(lambda: panel.strip.height() == heights[0], timeout=3000)


def test_session_handout_has_the_chosen_tokens_and_the_bars(qtbot, context_with_tiny_llama):
    import io

    from matplotlib.image import imread

    from playground.qt.session_export import canvas_pngs

    panel = ready_panel(qtbot, context_with_tiny_llama)
    assert panel.session_snapshot() == []
    panel.steps_spin.setValue(3)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy and len(panel.steps) == 4, timeout=20000)
    (heading, text), = panel.session_snapshot()
    assert "3 tokens" in heading and text.startswith("The quick brown fox")
    assert text.count(" model ") == 3
    png, = canvas_pngs(panel)
    rgb = imread(io.BytesIO(png))[..., :3]
    orange = np.abs(rgb - np.array([0xE8, 0x77, 0x2E]) / 255).sum(-1) < 0.05
    assert orange.sum() > 20, "the saved chart must show the bars drawn by blitting"
    before = panel.redraws
    panel.controls.temperature.setValue(150)  # still redraws after the save
    qtbot.waitUntil(lambda: panel.redraws > before and panel.chart.painted_version == panel.chart.values_version,
                    timeout=3000)


def test_restart_with_changed_settings_restores_them_without_a_traceback(qtbot, context_with_tiny_llama):
    first = SamplingPanel(context_with_tiny_llama)
    qtbot.addWidget(first)
    first.controls.temperature.setValue(35)
    first.controls.top_k.setValue(7)
    qtbot.waitUntil(lambda: (context_with_tiny_llama.settings.get("sampling", {}) or {}).get("top_k") == 7,
                    timeout=5000)
    # The next start reads those settings back: nothing may raise while it does.
    with qtbot.captureExceptions() as exceptions:
        second = SamplingPanel(context_with_tiny_llama)
        qtbot.addWidget(second)
    assert exceptions == []
    assert second.controls.settings().temperature == pytest.approx(0.35)
    assert second.controls.settings().top_k == 7


def test_adapter_switch_keeps_the_chosen_tokens_marked_with_their_model(qtbot, context_with_tiny_llama, tiny_adapter,
                                                                        tiny_llama):
    from playground.qt.model_bar import ModelBar

    ctx = context_with_tiny_llama
    bar = ModelBar(ctx)
    qtbot.addWidget(bar)
    bar.show()
    panel = ready_panel(qtbot, ctx)
    panel.steps_spin.setValue(3)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy and len(panel.steps) == 4, timeout=20000)
    chosen = [st.token_id for st in panel.steps if st.chosen]
    assert "computed with base model" in panel.strip_title.text()

    qtbot.mouseClick(bar.adapter_check, Qt.MouseButton.LeftButton)  # the switch: on
    assert ctx.session.current is tiny_adapter
    assert [st.token_id for st in panel.steps if st.chosen] == chosen  # nothing wiped
    strip_text = panel.strip.toPlainText()
    assert all(st.text.strip() in strip_text for st in panel.steps if st.chosen)
    title = panel.strip_title.text()
    assert f"base model {tiny_llama.info.name}" in title and "now selects adapter run-7" in title
    (heading, _), = panel.session_snapshot()
    assert f"computed with base model {tiny_llama.info.name}" in heading

    # Read prompt starts again with the adapter, and says so.
    with qtbot.waitSignal(panel.sig_steps_changed, timeout=20000):
        qtbot.mouseClick(panel.read_button, Qt.MouseButton.LeftButton)
    assert panel.stepper.loaded is tiny_adapter
    assert "computed with adapter run-7" in panel.strip_title.text()
    with torch.no_grad():
        base_logits = tiny_llama.model(torch.tensor([list(panel.stepper.prompt_ids)])).logits[0, -1].float()
    assert not torch.allclose(panel.steps[0].logits, base_logits)


def test_the_distribution_names_its_model_and_settings_and_a_new_model_clears_it(qtbot, app_context, tiny_llama,
                                                                                 tiny_t5):
    """Issue 28: a header over the bars names the model (base, no adapter) and the settings shaping them; a
    new model leaves a sentence in the chart's place, not the old bars or empty axes."""
    app_context.session.set(tiny_llama)
    panel = ready_panel(qtbot, app_context)
    header = panel.result_header.plain_text()
    assert f"{tiny_llama.info.name} (base, no adapter)" in header and "raw text" in header
    assert "settings now: " + panel.controls.settings().describe() in header
    panel.controls.greedy_radio.click()
    qtbot.waitUntil(lambda: "settings now: greedy" in panel.result_header.plain_text(), timeout=3000)
    assert panel.chart.isVisible() and not panel.chart_placeholder.isVisible()

    panel.prompt_edit.clear()  # nothing to read again by itself: the cleared view stays
    with qtbot.waitSignal(app_context.sig_model_changed):
        app_context.session.set(tiny_t5)
        app_context.sig_model_changed.emit(tiny_t5)
    assert tiny_llama.info.name not in panel.result_header.plain_text()
    assert not panel.chart.isVisible() and panel.chart_placeholder.isVisible()
    assert "press “Read prompt”" in panel.chart_placeholder.text()


def test_the_explanation_is_at_the_top_and_the_columns_fit_1200_by_800(qtbot, context_with_tiny_llama):
    from PySide6.QtCore import QPoint

    panel = SamplingPanel(context_with_tiny_llama)
    qtbot.addWidget(panel)
    panel.resize(1180, 690)
    panel.show()
    qtbot.waitUntil(lambda: not panel.busy, timeout=20000)
    top_of = lambda w: w.mapTo(panel, QPoint(0, 0)).y()  # noqa: E731
    assert top_of(panel.lesson_label) < top_of(panel.left_column)
    assert not panel.left_column.isAncestorOf(panel.lesson_label)
    check = panel.chat_check
    assert check.contentsRect().width() - 22 >= check.fontMetrics().horizontalAdvance(check.text())


def test_with_tokens_chosen_the_tab_fits_1200_by_800(qtbot, context_with_tiny_llama):
    """Issue 28: with the chart, the chosen tokens and five runs on show, nothing scrolls or is cut in the
    room the 1200x800 window gives a tab (a scroll area as the window's, 1200x693)."""

    from playground.qt.layout_audit import page_findings

    panel = ready_panel(qtbot, context_with_tiny_llama)
    panel.steps_spin.setValue(3)
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.busy and len(panel.steps) == 4, timeout=20000)
    with qtbot.waitSignal(panel.sig_rollouts_finished, timeout=20000):
        panel.run_five()
    scroll = in_tab_room(qtbot, panel)  # as the window holds a tab, in the room 1200x800 leaves it
    qtbot.waitUntil(lambda: panel.chart.isVisible())
    found = page_findings(panel)
    scroll.takeWidget()  # the panel stays qtbot's to close
    assert found == []
