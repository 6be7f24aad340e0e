"""The Build tab's Structured output and ReAct sections, driven as a person would on the tiny Llama: the free and
constrained answers (the constrained one parses, read from the screen, and equals the core function's), the bars
at a chosen step, a bad schema refused in plain words; a ReAct trace stepped, a format problem shown plainly, an
Action edited and continued, the constraint switched on."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.qt.shown import shown

RUN_TIMEOUT = 120_000


def click(qtbot, widget):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def test_structured_free_and_constrained(qtbot, context_with_tiny_llama, tiny_llama):
    from playground.core.reasoning.constrained import decode_structured, structured_prompt
    from playground.qt.build.structured_page import StructuredPage

    page = StructuredPage(context_with_tiny_llama)
    shown(qtbot, page, 1200, 700)
    assert page.chart.empty.empty
    page.question.setEditText("What is 13 times 7?")
    with qtbot.waitSignal(page.sig_compared, timeout=RUN_TIMEOUT) as got:
        click(qtbot, page.run_button)
    assert got.args[0]["constrained_parsed"] and not got.args[0]["free_parsed"]
    assert "parses and matches the schema" in page.constrained_text.toPlainText()
    assert "does not parse" in page.free_text.toPlainText()
    oracle = decode_structured(tiny_llama, structured_prompt(tiny_llama, "What is 13 times 7?"), constrained=True)
    assert oracle.text in page.constrained_text.toPlainText()
    assert "tiny" in page.header.plain_text().lower() or tiny_llama.info.name in page.header.plain_text()
    # the chosen step: the bars before and after the mask, the removed share in the caption above them
    page.step.setValue(1)
    labels, before, after = page.chart.shown
    step = oracle.steps[0]
    assert labels == step.top_tokens and before == pytest.approx(step.before) and after == pytest.approx(step.after)
    assert f"removed <b>{step.removed_share:.1%}</b>" in page.chart.caption.text()
    assert page.notebook_state()["kind"] == "structured"


def test_structured_bad_schema_is_refused_plainly(qtbot, context_with_tiny_llama):
    from playground.qt.build.structured_page import StructuredPage

    page = StructuredPage(context_with_tiny_llama)
    shown(qtbot, page, 1200, 700)
    page.schema.setPlainText('{"type": "nonsense"}')
    click(qtbot, page.run_button)
    assert "not a valid JSON Schema" in page.message.text()
    assert not page.slot.busy and not page.results


@pytest.fixture
def short_react(monkeypatch):
    """The tiny model's window is 256 tokens: short tool help, no example; a fake knowledge base."""
    from playground.core.reasoning import react, tools

    monkeypatch.setattr(tools, "TOOL_HELP", {k: k for k in tools.TOOL_HELP})
    monkeypatch.setattr(react, "EXAMPLE", "")
    monkeypatch.setattr(tools.KnowledgeSearch, "__call__", lambda self, q: "The ferry costs 23 crowns.")


def test_react_steps_edits_and_constrains(qtbot, context_with_tiny_llama, short_react):
    from playground.qt.build.react_page import ReactPage

    page = ReactPage(context_with_tiny_llama)
    shown(qtbot, page, 1200, 700)
    page.question.setEditText("What is 2 + 2?")
    # free: a random model writes no Action line -> shown plainly with its text
    with qtbot.waitSignal(page.sig_stepped, timeout=RUN_TIMEOUT) as got:
        click(qtbot, page.next_button)
    assert got.args[0]["problem"] == "the model wrote no Action line"
    assert "The model wrote no Action line. The model wrote:" in page.trace.item(0).text()
    assert "Action line free" in page.header.plain_text()
    # edit the Action and continue: the calculator really runs
    page.trace.setCurrentRow(0)
    page.action_edit.setText("calculator[2 + 2]")
    with qtbot.waitSignal(page.sig_edited, timeout=RUN_TIMEOUT) as edited:
        click(qtbot, page.edit_action_button)
    assert edited.args[0] == {"step": 1, "what": "action"}
    assert "Action: calculator[2 + 2]\nObservation: 4" in page.trace.item(0).text()
    assert "earlier branch" in page.trace.item(page.trace.count() - 1).text()
    names, before, after = page.chart.shown
    assert names == ["calculator", "search", "finish"] and sum(after) == pytest.approx(1.0)
    # constrained: every Action line is a valid tool call
    page.constrain.setChecked(True)
    page.max_steps.setValue(1)
    with qtbot.waitSignal(page.sig_stepped, timeout=RUN_TIMEOUT) as got:
        click(qtbot, page.next_button)
    assert got.args[0]["constrained"] and got.args[0]["problem"] is None and got.args[0]["tool"] in names
    assert "constrained (xgrammar)" in page.header.plain_text()
    state = page.notebook_state()
    assert state["kind"] == "react" and state["constrain"] and len(state["steps"]) == 1


def test_react_finish_is_checked_against_the_gold_answer(qtbot, context_with_tiny_llama, short_react):
    from playground.qt.build.react_page import ReactPage

    page = ReactPage(context_with_tiny_llama)
    shown(qtbot, page, 1200, 700)
    page.question.setCurrentIndex(0)
    gold = page.question.itemData(0)
    with qtbot.waitSignal(page.sig_stepped, timeout=RUN_TIMEOUT):
        click(qtbot, page.next_button)
    for answer, verdict in ((f"{gold:g}", "Right"), (f"{gold + 1:g}", "Wrong")):
        page.trace.setCurrentRow(0)
        page.action_edit.setText(f"finish[{answer}]")
        with qtbot.waitSignal(page.sig_edited, timeout=RUN_TIMEOUT):
            click(qtbot, page.edit_action_button)
        assert page.message.text() == f"Finished: the answer is {answer}. {verdict}: the gold answer is {gold:g}."
    page.question.setEditText("What is 2 + 2?")
    with qtbot.waitSignal(page.sig_stepped, timeout=RUN_TIMEOUT):
        click(qtbot, page.next_button)
    page.trace.setCurrentRow(0)
    page.action_edit.setText("finish[4]")
    with qtbot.waitSignal(page.sig_edited, timeout=RUN_TIMEOUT):
        click(qtbot, page.edit_action_button)
    assert "your own question: there is no gold answer" in page.message.text()
