"""The Lifecycle tab's Speculative decoding section, driven as a person would, on the tiny Llama."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from playground.qt.lifecycle.panel import LifecyclePanel
from tests.qt.shown import shown
from tests.screens import keep_screenshot


@pytest.fixture
def page(qtbot, context_with_tiny_llama):
    panel = shown(qtbot, LifecyclePanel(context_with_tiny_llama))
    panel.resize(1200, 800)
    page = next(p for p in panel.pages if getattr(p, "notebook_kind", "") == "speculative")
    panel.sections.setCurrentWidget(page)
    panel.on_model_changed(context_with_tiny_llama.session.current)
    page.prompt_box.setPlainText("The cat sat on the mat and")
    page.chat_check.setChecked(False)
    page.layers_spin.setValue(1)
    page.tokens_spin.setValue(10)
    page.gamma_spin.setValue(3)
    yield page  # the panel (which owns the page) lives until the test ends
    del panel


def _plain_greedy(loaded, n):
    from playground.core.decoding.generation import GenerationSettings, generate_text

    return generate_text(loaded, "The cat sat on the mat and", GenerationSettings.make(max_new_tokens=n))


def test_rounds_are_drawn_then_run_to_end_measures_the_speed_up(qtbot, page, tiny_llama):
    assert page.chart.empty.empty and page.header.plain_text().startswith("No run yet")
    assert page.layers_spin.maximum() == 2  # the loaded model's layers
    keep_screenshot(page, "lifecycle-speculative-start.png")
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.rounds) == 1 and not page.slot.busy, timeout=60000)
    r = page.rounds[0]
    assert not page.chart.empty.empty and page.chart.ax.get_visible()
    assert len(page.chart.ax.get_xticklabels()) == len(r.proposals) == 3
    assert page.caption.text().startswith("<b>Round 1</b>: the draft proposed 3, the target accepted")
    assert "speed-up: measured when the text is finished" in page.totals_label.text()
    header = page.header.plain_text()
    assert "first 1 layers" in header and "γ=3" in header and "greedy" in header and "tiny" in header.lower()
    keep_screenshot(page, "lifecycle-speculative-round.png")
    with qtbot.waitSignal(page.sig_ran, timeout=120000) as ran:
        qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=30000)
    record = ran.args[0]
    assert record["gamma"] == 3 and record["draft"] == "layers:1" and record["tokens"] == 10
    assert record["same_text"] is True and record["speed_up"] > 0
    totals = page.totals_label.text()
    assert "speed-up ×" in totals and "measured" in totals and "identical to plain decoding: yes" in totals
    text = page.run.target.tokenizer.decode(page.run.tokens, skip_special_tokens=True)
    assert text == _plain_greedy(tiny_llama, 10)
    # an earlier round can be shown again
    page.round_spin.setValue(1)
    assert page.caption.text().startswith("<b>Round 1</b>")
    keep_screenshot(page, "lifecycle-speculative-finished.png")
    state = page.notebook_state()
    assert state["kind"] == "speculative" and state["tokens"] == page.run.tokens
    from playground.core.labs.notebook import build_notebook, model_ref

    nb = build_notebook(model_ref(tiny_llama), [state])
    assert any("assistant_early_exit" in c.source for c in nb.cells)


def test_sampled_rounds_show_a_residual_at_a_rejection(qtbot, page):
    page.sampling_form.mode.setCurrentIndex(1)  # Sample
    page.sampling_form.top_k.setValue(3)  # the random model's flat distributions become three tokens each
    page.tokens_spin.setValue(16)
    qtbot.mouseClick(page.bar.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.speed is not None and not page.slot.busy, timeout=120000)
    rejected = [i for i, r in enumerate(page.rounds) if r.rejected_at is not None]
    assert rejected
    page.round_spin.setValue(rejected[0] + 1)
    assert "drawn from the residual" in page.caption.text()
    assert page.chart.res_ax.get_title(loc="left").startswith("residual norm(max(0, p − q))")
    assert page.speed.same_text is None  # sampled: compared in distribution, not token for token
    keep_screenshot(page, "lifecycle-speculative-sampled.png")


@pytest.mark.bad_input("Speculative decoding: a draft folder that does not exist")
def test_a_missing_draft_folder_is_said_plainly(qtbot, page, bad_input):
    page.kind_combo.setCurrentIndex(1)  # a model folder
    assert page.folder_edit.isVisible() and not page.layers_spin.isVisible()
    page.folder_edit.setText("/no/such/model")
    qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=30000)
    message = page.bar.message.text()
    assert "There is no model folder at /no/such/model" in message
    assert page.next_button.isEnabled() and not page.rounds
    bad_input(message)


def test_student_choice_lists_distilled_students(qtbot, page, monkeypatch, tmp_path):
    from playground.core.distill import store

    folder = tmp_path / "run-3" / "soft" / "model"
    monkeypatch.setattr(store, "list_students", lambda root=None: [folder])
    page.kind_combo.setCurrentIndex(2)
    assert page.student_combo.isVisible() and page.student_combo.itemData(0) == str(folder)
    assert page.student_combo.itemText(0) == "run-3 (soft student)"
    assert page.draft_spec() == str(folder)
