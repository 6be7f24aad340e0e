"""The Lifecycle tab's Distillation section on the tiny Llama: train both students with live losses,
the side-by-side view, the results table, Stop then Resume, bad settings refused, use a student."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.qt.shown import shown
from tests.core.distill_helpers import write_dialogues
from tests.screens import keep_screenshot

TIMEOUT = 240_000


@pytest.fixture
def page(qtbot, context_with_tiny_llama, tmp_path, monkeypatch):
    from playground.core.distill import store
    from playground.qt.lifecycle.distill_page import DistillPage

    monkeypatch.setattr(store, "distill_runs_root", lambda: tmp_path / "runs")
    p = shown(qtbot, DistillPage(context_with_tiny_llama), 1200, 760)
    d = p.draft
    data = write_dialogues(tmp_path / "data")  # a few rows: the bundled splits would be tokenized each run
    for path, value in (("data.source", str(data / "train.jsonl")), ("data.validation", str(data / "validation.jsonl")),
                        ("data.test", str(data / "test.jsonl")), ("training.max_steps", 3),
                        ("data.max_train_examples", 8), ("data.max_length", 96),
                        ("data.max_validation_examples", 2), ("evaluation.test_examples", 1),
                        ("evaluation.max_new_tokens", 3), ("training.learning_rate", 3e-3),
                        ("training.gradient_accumulation_steps", 1), ("training.micro_batch_size", 2)):
        d.set(path, value)
    yield p
    p.slot.stop()
    qtbot.waitUntil(lambda: not p.slot.busy and not p.view_slot.busy, timeout=TIMEOUT)


def test_train_both_students_shows_losses_view_and_table(qtbot, page):
    assert page.header.plain_text().startswith("No students yet") and page.losses.empty.empty
    keep_screenshot(page, "lifecycle-distill-empty.png")
    page.fields["distill.temperature"].setValue(3.0)  # the bound form edits the one settings dataclass
    assert page.draft.value.distill.temperature == 3.0
    with qtbot.waitSignal(page.sig_trained, timeout=TIMEOUT) as trained:
        qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
        assert page.slot.busy and page.pause_button.isEnabled() and not page.train_button.isEnabled()
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=TIMEOUT)
    assert trained.args[0]["temperature"] == 3.0 and set(trained.args[0]["perplexity"]) == {"teacher", "soft", "hard"}
    assert [page.table.item(r, 0).text() for r in range(3)] == ["Teacher", "Student, soft targets",
                                                                 "Student, hard labels only"]
    assert page.table.item(1, 3).text() == "1" and page.table.item(0, 3).text() == "2"  # layers
    assert "T = 3" in page.table.item(1, 0).toolTip() and "α = 1 (hard labels only)" in page.table.item(2, 0).toolTip()
    assert not page.losses.empty.empty and len(page.losses.data[("hard", "ce")][0]) == 3
    assert not page.next_token.empty.empty and page.next_token.view.kl_per_token
    assert "T = 3" in page.header.plain_text()
    assert [page.use_combo.itemText(i) for i in range(2)] == ["soft targets", "hard labels only"]
    assert page.use_button.isEnabled()
    keep_screenshot(page, "lifecycle-distill-trained-loss.png")
    page.charts.setCurrentIndex(1)
    keep_screenshot(page, "lifecycle-distill-next-token.png")
    page.charts.setCurrentIndex(2)
    keep_screenshot(page, "lifecycle-distill-soft-targets.png")
    state = page.notebook_state()
    assert state["kind"] == "distillation" and set(state["app"]) == {"teacher", "soft", "hard"}
    assert state["distill"]["temperature"] == 3.0 and len(state["train_texts"]) == 16
    # Use this student: the app's model becomes the saved soft student, loaded from its folder
    ctx = page.context
    with qtbot.waitSignal(ctx.sig_model_changed, timeout=TIMEOUT) as changed:
        qtbot.mouseClick(page.use_button, Qt.MouseButton.LeftButton)
    assert changed.args[0].model.config.num_hidden_layers == 1
    assert changed.args[0].source.ref == page.students["soft"]


def test_stop_then_resume_and_compare(qtbot, page):
    page.draft.set("distill.compare_hard", False)
    page.draft.set("evaluation.before", False)
    page.draft.set("training.max_steps", 6)
    qtbot.mouseClick(page.compare_button, Qt.MouseButton.LeftButton)  # before training: the untrained cut
    qtbot.waitUntil(lambda: not page.next_token.empty.empty, timeout=TIMEOUT)
    assert page.charts.currentWidget() is page.next_token.canvas  # what Compare drew is in front
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(page.losses.data[("soft", "loss")][0]) >= 1, timeout=TIMEOUT)
    page.strip.stop_button.click()  # graceful: the step ends, a checkpoint is written
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=TIMEOUT)
    assert page.resume_button.isEnabled() and "Resume continues" in page.message.text()
    keep_screenshot(page, "lifecycle-distill-stopped.png")
    done = len(page.losses.data[("soft", "loss")][0])
    assert done < 6
    with qtbot.waitSignal(page.sig_trained, timeout=TIMEOUT):
        qtbot.mouseClick(page.resume_button, Qt.MouseButton.LeftButton)
    steps = page.losses.data[("soft", "loss")][0]
    assert steps == list(range(1, 7))  # the resumed run went on from the checkpoint, not from step 1


@pytest.mark.bad_input("Distillation section: alpha outside 0-1")
def test_alpha_outside_refused_plainly(qtbot, page, bad_input):
    page.draft.set("distill.alpha", 1.5)
    qtbot.mouseClick(page.train_button, Qt.MouseButton.LeftButton)
    assert not page.slot.busy
    bad_input(page.message.text())
    assert "between 0 and 1" in page.message.text()
