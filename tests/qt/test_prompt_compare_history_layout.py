"""Issue 29, newcomer findings in the Prompt tab: Compare's columns did not name the examples used, and
History's columns were badly sized. Each column's header now names its examples; History's columns fit
their content and the output column takes the rest of the width."""

from __future__ import annotations


from PySide6.QtCore import Qt

from playground.core.prompting.history import History, Run
from playground.qt.prompt.panel import PromptPanel
from playground.qt.prompt.runs import describe_shots
from tests.qt.shown import shown
from tests.qt.test_prompt_panel import short_data  # noqa: F401  (fixture: dialogues that fit 256 tokens)
from tests.screens import keep_screenshot


def _said(label) -> str:
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def test_compare_columns_name_their_examples(qtbot, context_with_tiny_llama, tmp_path, short_data):  # noqa: F811
    panel = shown(qtbot, PromptPanel(context_with_tiny_llama, history=History(tmp_path / "h.sqlite3")))
    panel.max_tokens.setValue(4)
    panel.chat_check.setChecked(False)
    panel.shots_spin.setValue(2)
    panel.views.setCurrentIndex(1)
    with qtbot.waitSignal(panel.sig_compare_finished, timeout=120000):
        qtbot.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    variants = panel.last_run()["variants"]
    columns = panel.compare_view.columns
    assert [c.label for c in columns] == ["0-shot", "1-shot", "2-shot"]
    for column, variant in zip(columns, variants):
        header = _said(column.title)
        assert header.startswith(column.label) and describe_shots(variant.shots) in header
    assert "zero-shot" in _said(columns[0].title)
    assert variants[2].shots[1].id in _said(columns[2].title)
    keep_screenshot(panel, "prompt-compare-examples.png")


def test_history_columns_fit_their_content(qtbot, tmp_path):
    from playground.qt.prompt.history_view import COLUMNS, HistoryView

    history = History(tmp_path / "h.sqlite3")
    for i in range(3):
        history.add(Run(model="SmolLM2-135M-Instruct + lora-run-3", template="tldr (edited)", shots=i,
                        prompt="Summarize the following conversation.", settings={}, scores={"rouge1": 0.25},
                        output="#Person1# and #Person2# plan a lunch at noon on Friday near the office. " * 3,
                        prompt_tokens=412, label=f"compare: {i}-shot"))
    view = shown(qtbot, HistoryView(history), 1200, 500)
    qtbot.waitExposed(view)
    table, header = view.table, view.table.horizontalHeader()
    last = COLUMNS.index("Output")
    for c in range(len(COLUMNS)):
        if c != last:  # each column as wide as its content (or its title) needs, not a fixed 100 px
            need = max(table.sizeHintForColumn(c), header.sectionSizeHint(c))
            assert need <= header.sectionSize(c) <= need + 4, (COLUMNS[c], header.sectionSize(c), need)
    others = sum(header.sectionSize(c) for c in range(len(COLUMNS)) if c != last)
    assert header.sectionSize(last) >= table.viewport().width() - others - 2  # the output takes the rest
    keep_screenshot(view, "prompt-history-columns.png")
