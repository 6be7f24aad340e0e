"""The Lifecycle tab's KV cache section driven as a person would, on the tiny Llama (2 layers, 4 query
heads, 2 KV heads): Prefill, Next step, Run to end, the timing run with its chart, bad input, lab events."""

from __future__ import annotations

from PySide6.QtCore import Qt

from playground.qt.lifecycle.kv_cache_page import KVCachePage
from playground.qt.lifecycle.panel import LifecyclePanel
from tests.qt.shown import shown


def _page(qtbot, context) -> KVCachePage:
    panel = shown(qtbot, LifecyclePanel(context))
    page = next(p for p in panel.pages if isinstance(p, KVCachePage))
    panel.sections.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.layer_combo.count() == 2)  # the model reached the page
    return page, panel


def _click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_stepping_grows_the_cache_and_shows_the_attention_row(qtbot, context_with_tiny_llama):
    page, panel = _page(qtbot, context_with_tiny_llama)
    assert "2 (K and V) × 2 layers × 2 KV heads × 8 values × 4 bytes (float32) = 256 bytes" in page.arith.text()
    assert "4 query heads share 2 KV heads" in page.arith.text()
    assert page.cache_chart.empty.empty and not page.next_button.isEnabled()
    events = []
    page.sig_stepped.connect(events.append)
    page.new_tokens.setValue(4)
    _click(qtbot, page.prefill_button)
    qtbot.waitUntil(lambda: len(events) == 1 and not page.slot.busy)
    n = len(page.stepper.prompt_ids)
    assert events[0]["kind"] == "prefill" and events[0]["positions"] == n
    assert events[0]["measured_bytes"] == n * 256
    assert not page.cache_chart.empty.empty
    assert page.cache_chart.image.get_array().shape == (2, n)  # a strip per layer, a cell per cached position
    assert "Prefill" in page.step_out.text() and page.header.provenance is not None
    _click(qtbot, page.next_button)
    qtbot.waitUntil(lambda: len(events) == 2 and not page.slot.busy)
    assert events[1] == {**events[1], "kind": "decode", "step": 1, "positions": n + 1, "measured_bytes": (n + 1) * 256}
    assert page.cache_chart.image.get_array().shape == (2, n + 1)
    assert len(page.cache_chart.row_line.get_xdata()) == n + 1  # the new token's row over every cached position
    page.head_combo.setCurrentIndex(2)  # one head instead of the mean
    assert "head 2 of 4" in page.cache_chart.row_ax.get_title()
    _click(qtbot, page.run_button)
    qtbot.waitUntil(lambda: not page.slot.busy and page.stepper.finished, timeout=60000)
    assert [e["kind"] for e in events] == ["prefill"] + ["decode"] * (len(events) - 1)
    assert len(page.stepper.generated_ids) == len(events) <= 4
    assert not page.next_button.isEnabled()
    exp = page.notebook_state()
    assert exp["kind"] == "kv_cache" and exp["tokens"] == page.stepper.generated_ids and exp["bytes_per_token"] == 256
    assert set(panel.lab_events()) >= {"kv.stepped", "kv.timed"}
    assert panel.reveal("kv_prefill") is page.prefill_button


def test_measure_with_and_without_cache_plots_both(qtbot, context_with_tiny_llama):
    page, _ = _page(qtbot, context_with_tiny_llama)
    timed = []
    page.sig_timed.connect(timed.append)
    page.lengths_edit.setText("8, 16")
    _click(qtbot, page.bar.run_button)
    assert page.charts.currentWidget() is page.timing_chart.canvas
    qtbot.waitUntil(lambda: bool(timed), timeout=60000)
    assert timed[0]["lengths"] == [8, 16] and not timed[0]["stopped"]
    assert list(page.timing_chart.with_line.get_xdata()) == [8, 16]
    assert len(page.timing_chart.without_line.get_ydata()) == 2 and not page.timing_chart.empty.empty
    assert "Slower without the cache" in page.bar.message.text()


import pytest  # noqa: E402


@pytest.mark.bad_input("KV cache page: a context longer than the window, an empty prompt")
def test_bad_input_is_said_plainly(qtbot, context_with_tiny_llama, bad_input):
    page, _ = _page(qtbot, context_with_tiny_llama)
    page.lengths_edit.setText("64, 5000")
    _click(qtbot, page.bar.run_button)
    assert "longer than" in page.bar.message.text() and "context window of 256" in page.bar.message.text()
    assert not page.slot.busy
    page.prompt_box.setPlainText("word " * 400)
    _click(qtbot, page.prefill_button)
    assert "context window is 256" in page.bar.message.text() and page.stepper is None
    page.prompt_box.setPlainText("   ")
    _click(qtbot, page.prefill_button)
    assert "empty" in page.bar.message.text()


@pytest.mark.bundled
def test_bundled_model_steps_and_times(qtbot, app_context, bundled_model):
    """The real SmolLM2-135M: 9 query heads share 3 KV heads, 46,080 bytes per token in FP32, and the cache
    tensors measure exactly that; screenshots of each state when PLAYGROUND_SCREENS is set."""
    from tests.screens import keep_screenshot

    app_context.session.set(bundled_model)
    panel = shown(qtbot, LifecyclePanel(app_context), 1200, 720)
    page = next(p for p in panel.pages if isinstance(p, KVCachePage))
    panel.sections.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.layer_combo.count() == 30)
    assert "9 query heads share 3 KV heads" in page.arith.text() and "46,080 bytes" in page.arith.text()
    keep_screenshot(panel, "lifecycle-kv-start.png")
    page.charts.setCurrentWidget(page.memory_chart.canvas)
    keep_screenshot(panel, "lifecycle-kv-memory.png")
    page.charts.setCurrentWidget(page.cache_chart.canvas)
    events = []
    page.sig_stepped.connect(events.append)
    _click(qtbot, page.prefill_button)
    qtbot.waitUntil(lambda: bool(events) and not page.slot.busy, timeout=120000)
    assert events[0]["measured_bytes"] == events[0]["positions"] * 46_080
    keep_screenshot(panel, "lifecycle-kv-prefill.png")
    for i in range(3):
        _click(qtbot, page.next_button)
        qtbot.waitUntil(lambda: len(events) == i + 2 and not page.slot.busy, timeout=60000)
    assert events[-1]["measured_bytes"] == events[-1]["positions"] * 46_080
    keep_screenshot(panel, "lifecycle-kv-steps.png")
    page.lengths_edit.setText("32, 256")
    timed = []
    page.sig_timed.connect(timed.append)
    _click(qtbot, page.bar.run_button)
    qtbot.waitUntil(lambda: bool(page.points), timeout=120000)
    keep_screenshot(panel, "lifecycle-kv-measuring.png")
    qtbot.waitUntil(lambda: bool(timed), timeout=300000)
    assert timed[0]["without_ms"][-1] > timed[0]["with_ms"][-1]  # 257 positions recomputed vs one fed
    keep_screenshot(panel, "lifecycle-kv-timed.png")


def test_page_fits_the_room_a_1200x800_window_leaves(qtbot, context_with_tiny_llama):
    """Nothing cut or scrolling, before and after a step (the geometry check of tests/qt/test_layout_fits.py)."""
    from playground.qt.layout_audit import page_findings
    from tests.qt.shown import in_tab_room

    panel = LifecyclePanel(context_with_tiny_llama)
    scroll = in_tab_room(qtbot, panel)  # keep it: it owns the panel
    page = next(p for p in panel.pages if isinstance(p, KVCachePage))
    panel.sections.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.layer_combo.count() == 2)
    assert page_findings(panel) == []
    _click(qtbot, page.prefill_button)
    qtbot.waitUntil(lambda: page.stepper is not None and page.stepper.started and not page.slot.busy)
    assert page_findings(panel) == []
    scroll.close()
