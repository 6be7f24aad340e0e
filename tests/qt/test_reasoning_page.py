"""The Build tab's Reasoning section, driven as a person would: the strategies compared on one problem (scripted
replies, so right and wrong are known), the vote's bars, the PAL program run and an edited one refused with its
reason, the set's accuracy table and chart, bad input said plainly; and on the tiny Llama, the real path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from playground.core.decoding.generation import TokenStep
from tests.qt.shown import shown

RUN_TIMEOUT = 60_000
REPLIES = {
    "direct": " 23.\n",
    "cot": " 6 trays of 12 rolls: 6 * 12 = 72. The answer is 72. More text never generated",
    "fewshot": "6 * 12 = 72 rolls. The answer is 72.\n",
    "pal": "trays = 6\nrolls = 12\nanswer = trays * rolls\n```\nextra",
}
SC = ["The answer is 72.", "The answer is 64.", "The answer is 72.", "No idea.", "The answer is 72."]


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def save(page, name):
    if os.environ.get("PLAYGROUND_SCREENS"):
        from PySide6.QtWidgets import QApplication

        for _ in range(3):  # let the layout take the new texts' heights
            QApplication.processEvents()
        page.grab().save(str(Path(os.environ["PLAYGROUND_SCREENS"]) / f"build-reasoning-{name}.png"))


@pytest.fixture
def scripted(monkeypatch):
    def fake_stream(loaded, prompt, settings, cancelled=None):
        key = ("pal" if prompt.endswith("```python\n") else "cot" if prompt.endswith("step by step.")
               else "direct" if prompt.endswith("The answer is") else "sc" if settings.do_sample else "fewshot")
        text = SC[settings.seed % len(SC)] if key == "sc" else REPLIES[key]
        for i, ch in enumerate(text):
            yield TokenStep(index=i, token_id=0, text=ch, prob=1.0)

    monkeypatch.setattr("playground.core.decoding.generation.stream_generate", fake_stream)


@pytest.fixture
def page(qtbot, context_with_tiny_llama):
    from playground.qt.build.reasoning_page import ReasoningPage

    page = ReasoningPage(context_with_tiny_llama)
    shown(qtbot, page, 1200, 760)
    return page


def test_compare_on_one_problem_then_the_sandbox(qtbot, page, scripted):
    save(page, "empty")
    index = next(i for i in range(page.problem_box.count()) if page.problem_box.itemData(i).id == "w02")
    page.problem_box.setCurrentIndex(index)
    assert page.gold.text() == "72"
    with qtbot.waitSignal(page.sig_compared, timeout=RUN_TIMEOUT) as got:
        click(qtbot, page.compare_button)
    event = got.args[0]
    assert event["problem_id"] == "w02" and event["strategies"] == ["direct", "cot", "fewshot", "sc", "pal"]
    assert event["right"] == {"direct": False, "cot": True, "fewshot": True, "sc": True, "pal": True}
    cols = page.columns
    assert "23" in cols["direct"].verdict.text() and "wrong" in cols["direct"].verdict.text()
    assert "72" in cols["cot"].verdict.text() and "right" in cols["cot"].verdict.text()
    assert cols["cot"].text.toPlainText().endswith("The answer is 72. ")  # stopped once the answer was stated
    assert cols["sc"].vote_chart.shown == [("72", 3), ("64", 1), ("none", 1)]
    assert "path 2 (seed 1) → 64" in cols["sc"].text.toPlainText()
    assert cols["pal"].program.toPlainText() == "trays = 6\nrolls = 12\nanswer = trays * rolls"
    assert cols["pal"].sandbox_label.text().count("Result: 72")
    assert "(base, no adapter)" in page.header.plain_text() and "k=5 at T=0.70" in page.header.plain_text()
    assert page.notebook_state()["kind"] == "reasoning"
    save(page, "compared")
    # the learner edits the program: an import is refused with its reason, never run
    cols["pal"].program.setPlainText("import os\nanswer = os.getpid()")
    with qtbot.waitSignal(page.sig_sandbox_run, timeout=RUN_TIMEOUT) as ran:
        click(qtbot, cols["pal"].run_program_button)
    assert ran.args[0]["refused"].startswith("imports are not allowed")
    assert "Refused, never run: imports are not allowed" in cols["pal"].sandbox_label.text()
    save(page, "refused")


def test_the_whole_set_gives_accuracy_with_intervals(qtbot, page, scripted):
    for key in ("fewshot", "sc", "pal"):
        page.checks[key].setChecked(False)
    page.views.setCurrentIndex(1)  # the Whole set view
    page.limit.setValue(3)
    assert page.accuracy.empty.empty
    with qtbot.waitSignal(page.sig_set_run, timeout=RUN_TIMEOUT) as got:
        click(qtbot, page.run_set_button)
    event = got.args[0]
    assert event["problems"] == 3 and event["strategies"] == ["direct", "cot"] and not event["stopped"]
    table = page.accuracy.table
    assert table.rowCount() == 2 and table.item(0, 0).text() == "Direct"
    # the scripted replies say 23 and 72; the first three problems' golds are 43, 45 and 91
    assert table.item(1, 1).text() == "0 / 3" and table.item(1, 2).text() == "0%"
    lo, hi = page.report.scores["cot"].interval
    assert table.item(1, 3).text() == f"{lo:.0%} – {hi:.0%}"
    assert not page.accuracy.empty.empty and page.views.currentIndex() == 1
    assert "the first 3 bundled problems" in page.set_header.plain_text()
    save(page, "set")


def test_bad_input_is_said_plainly(qtbot, page):
    page.problem_box.setEditText("   ")
    click(qtbot, page.compare_button)
    assert "The question is empty." in page.message.text() and not page.slot.busy
    page.problem_box.setEditText("How many legs do 3 spiders have?")
    page.gold.setText("lots")
    click(qtbot, page.compare_button)
    assert "is not a number" in page.message.text() and not page.slot.busy
    for box in page.checks.values():
        box.setChecked(False)
    click(qtbot, page.compare_button)
    assert "No strategy is ticked." in page.message.text()
    assert (page.k.minimum(), page.k.maximum()) == (1, 40)  # k = 0 or 1000 cannot be typed; the core refuses them too


def test_the_real_generation_on_the_tiny_llama(qtbot, page, tiny_llama):
    """Direct and zero-shot CoT fit the tiny model's 256-token window; the few-shot prompts do not, said plainly."""
    from playground.core.reasoning.problems import own_problem
    from playground.core.reasoning.strategies import run_strategy

    for key in ("fewshot", "sc", "pal"):
        page.checks[key].setChecked(False)
    page.reasoning_tokens.setValue(8)
    page.problem_box.setEditText("What is 2 + 3?")
    page.gold.setText("5")
    with qtbot.waitSignal(page.sig_compared, timeout=RUN_TIMEOUT):
        click(qtbot, page.compare_button)
    oracle = run_strategy(tiny_llama, own_problem("What is 2 + 3?", "5"), "cot", page.settings())
    assert page.columns["cot"].text.toPlainText() == oracle.text
    page.checks["fewshot"].setChecked(True)
    with qtbot.waitSignal(page.slot.sig_busy_changed, timeout=RUN_TIMEOUT, check_params_cb=lambda b: not b):
        click(qtbot, page.compare_button)
    assert "context window is 256 tokens" in page.message.text()


def test_every_control_lab_6_names_is_revealed_visible(qtbot, page):
    from PySide6.QtWidgets import QApplication

    from playground.core.labs import load_labs

    lab = next(lab for lab in load_labs()[0] if lab.id == "reason-act")
    mine = [s for s in lab.steps if s.check.startswith("reason_")]
    assert len(mine) == 5
    for step in mine:
        widget = page.reveal(step.control)
        QApplication.processEvents()
        assert widget is not None and widget.isVisible(), step.control

