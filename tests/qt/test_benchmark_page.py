"""The Evaluate tab's Benchmarks section, driven as a person would on the tiny Llama: tick benchmarks and
systems, score, read the accuracy chart and an item's choices; Stop keeps what finished; bad input."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from playground.qt.evaluate.benchmark_page import BenchmarkPage
from tests.qt.shown import shown
from tests.screens import keep_screenshot


def score(qtbot, page):
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy and bool(page.results), timeout=120000)


def test_scoring_shows_accuracy_items_and_the_acc_norm_explanation(qtbot, context_with_tiny_llama):
    from playground.core.evaluation.benchmark import bundled_benchmark
    from playground.core.evaluation.benchmark_run import BenchSystem, ItemResult, run_benchmarks, summarize

    page = shown(qtbot, BenchmarkPage(context_with_tiny_llama), 1200, 760)
    keep_screenshot(page, "evaluate-benchmark-start.png")
    assert page.accuracy.empty.empty and page.item_chart.empty.empty
    for kind, box in page.kind_checks.items():
        box.setChecked(kind in ("knowledge", "reading"))
    page.limit.setValue(4)
    page.shots.setValue(2)  # ticks the k-shot system too
    assert page.shots_check.isChecked()
    events = []
    page.sig_scored.connect(events.append)
    score(qtbot, page)
    # the table: two systems x two benchmarks x four items
    assert page.table.rowCount() == 16
    assert {page.table.item(r, 1).text() for r in range(16)} == {"base, 0-shot", "base, 2-shot"}
    # the chart's numbers are the core's on the same items
    benches = [bundled_benchmark(k).head(4) for k in ("knowledge", "reading")]
    expected = summarize([r for r in run_benchmarks(context_with_tiny_llama.session.base, benches,
                                                    [BenchSystem("base", 0), BenchSystem("base", 2)])
                          if isinstance(r, ItemResult)])
    assert {k: (a.correct, a.correct_norm) for k, a in page.summary.items()} == \
           {k: (a.correct, a.correct_norm) for k, a in expected.items()}
    assert not page.accuracy.empty.empty
    # provenance: model, prompt (shots) and settings in the header
    header = page.header.plain_text()
    assert "tiny" in header and "0-shot" in header and "log-likelihood" in header and "also: base, 2-shot" in header
    # an item is selected and explained; where acc and acc_norm disagree the long-choice penalty is said
    assert not page.item_chart.empty.empty and "gold: choice" in page.explain.text()
    disagree = [r for r in page.results if r.score.pred != r.score.pred_norm]
    if disagree:
        assert "longer" in page.explain.text()
    page.only_disagree.setChecked(True)
    visible = [r for r in range(page.table.rowCount()) if not page.table.isRowHidden(r)]
    assert len(visible) == len(disagree)
    keep_screenshot(page, "evaluate-benchmark-scored.png")
    # the lab event and the notebook state
    assert events and events[-1]["items"] == 16 and set(events[-1]["systems"]) == {"base, 0-shot", "base, 2-shot"}
    state = page.notebook_state()
    assert state["kind"] == "benchmark" and len(state["contexts"]) == 4 and len(state["logliks"][0]) == 4
    from playground.core.labs.notebook import EXPERIMENTS

    assert any("loglikelihood" in src for _, src in EXPERIMENTS["benchmark"](state))


def test_an_adapter_system_and_stop_keeps_what_finished(qtbot, context_with_tiny_llama, lora_run_and_model):
    run_dir, _ = lora_run_and_model
    page = shown(qtbot, BenchmarkPage(context_with_tiny_llama), 1200, 760)
    page.adapter_path.setText(str(run_dir))
    assert page.adapter_check.isChecked()
    page.limit.setValue(0)  # every item: long enough to stop in the middle
    stopped = []

    def stop_after_some(event):
        if len(page.results) >= 3 and not stopped:
            stopped.append(True)
            page.strip.stop_button.click()

    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    page.table.model().rowsInserted.connect(stop_after_some)
    qtbot.waitUntil(lambda: not page.slot.busy, timeout=120000)
    assert stopped and 3 <= len(page.results) < 2 * 52
    assert "stopped early" in page.header.plain_text() and page.message.text().startswith("Stopped")
    assert page.accuracy.empty.empty is False


@pytest.mark.bad_input("Benchmarks section: a bad file of one's own, or nothing ticked")
def test_bad_input_is_a_plain_message(qtbot, context_with_tiny_llama, tmp_path, bad_input):
    page = shown(qtbot, BenchmarkPage(context_with_tiny_llama), 1200, 760)
    path = tmp_path / "mine.jsonl"
    path.write_text(json.dumps({"context": "Q?", "choices": ["a", "a"], "gold": 0}) + "\n", encoding="utf-8")
    page.own_path.setText(str(path))
    page.run_button.click()
    assert "has the same choice twice" in page.message.text() and not page.slot.busy
    bad_input(page.message.text())
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()  # the column's layout makes room for the wrapped message
    assert page.message.height() >= 2 * page.message.fontMetrics().lineSpacing()
    keep_screenshot(page, "evaluate-benchmark-bad-file.png")
    page.own_path.setText("")
    page.own_check.setChecked(False)
    for box in page.kind_checks.values():
        box.setChecked(False)
    page.run_button.click()
    assert "No benchmark is ticked" in page.message.text()
    page.kind_checks["knowledge"].setChecked(True)
    page.base_check.setChecked(False)
    page.run_button.click()
    assert "No system is chosen" in page.message.text()


def test_the_section_fits_a_1200x800_window_before_and_after_a_run(qtbot, context_with_tiny_llama):
    from playground.qt.layout_audit import page_findings
    from tests.qt.shown import in_tab_room

    page = BenchmarkPage(context_with_tiny_llama)
    room = in_tab_room(qtbot, page)  # the room a tab has in a 1200x800 window (keep it: it owns the page)
    qtbot.waitUntil(lambda: page.isVisible())
    assert page_findings(page) == []
    for kind, box in page.kind_checks.items():
        box.setChecked(kind == "knowledge")
    page.limit.setValue(2)
    page.adapter_path.setText("/a/very/long/folder/name/for/a/fine-tune/run/lora-run-with-a-long-name")
    page.adapter_check.setChecked(False)
    score(qtbot, page)
    assert page_findings(page) == [] and room.isVisible()
