import pytest
from PySide6.QtCore import Qt

from playground.core.prompting.history import History
from playground.qt.prompt.panel import PromptPanel


def short_dataset(split):
    from playground.core.evaluation.datasets import Dataset, Example

    rows = [Example(f"{split}{i}", f"#Person1#: Lunch at {i} ({split})?\n#Person2#: Sure, see you.",
                    f"#Person1# and #Person2# meet for lunch at {i}.", topic="lunch") for i in range(6)]
    return Dataset(split, rows)


@pytest.fixture
def short_data(monkeypatch):
    """Short dialogues, so 0/1/2-shot prompts fit the tiny model's 256-token window."""
    from playground.core.evaluation import datasets

    monkeypatch.setattr(datasets, "load_split", lambda split="test", folder=None: short_dataset(split))


@pytest.fixture
def panel(qtbot, context_with_tiny_llama, tmp_path, short_data):
    p = PromptPanel(context_with_tiny_llama, history=History(tmp_path / "history.sqlite3"))
    qtbot.addWidget(p)
    p.show()
    p.max_tokens.setValue(8)
    p.chat_check.setChecked(False)  # the plain template, as these tests read the prompt
    p.template_combo.setCurrentIndex(p.template_combo.findData("tldr"))
    # Short examples keep the tiny model (256-token window) within its context.
    short = sorted(p.splits["test"], key=lambda e: len(e.input))
    p.example_combo.setCurrentIndex(p.splits["test"].index(short[0]))
    p.refresh_prompt()
    return p


def short_train_ids(p, n):
    return [e.id for e in sorted(p.train, key=lambda e: len(e.input))[:n]]


def tick(p, ids):
    from PySide6.QtCore import Qt

    for i in range(p.shot_list.count()):
        item = p.shot_list.item(i)
        item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole) in ids else
                           Qt.CheckState.Unchecked)


def test_the_bundled_dialogues_are_offered(qtbot, context_with_tiny_llama, tmp_path):
    p = PromptPanel(context_with_tiny_llama, history=History(tmp_path / "h.sqlite3"))
    qtbot.addWidget(p)
    assert p.example_combo.count() >= 50 and len(p.train) >= 220
    ex = p.current_example()
    assert p.dialogue_edit.toPlainText() == ex.input and ex.reference in p.reference_view.toPlainText()
    ids = {e.id for e in p.train}
    p.shots_spin.setValue(3)
    assert all(s.id in ids and s.id != ex.id for s in p.shots())


def test_rendered_prompt_and_meter_follow_the_controls(qtbot, panel):
    ex = panel.current_example()
    assert panel.prompt_edit.toPlainText() == ex.input + "\n\nTL;DR:"
    assert "examples 0 " in panel.meter_label.text()
    tick(panel, short_train_ids(panel, 1))
    panel.shots_spin.setValue(1)
    qtbot.waitUntil(lambda: "examples 0 " not in panel.meter_label.text(), timeout=3000)
    chosen = next(e for e in panel.train if e.id == short_train_ids(panel, 1)[0])
    assert chosen.reference in panel.prompt_edit.toPlainText()
    assert panel.meter.parts["examples"] > 0


def test_run_streams_scores_and_saves_history(qtbot, panel, tmp_path):
    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000) as blocker:
        panel.run_button.click()
    event = blocker.args[0]
    assert set(event.scores) == {"rouge1", "rouge2", "rougeL"}
    assert "ROUGE-1" in panel.score_label.text()
    assert panel.history.count() == 1
    # History survives a restart.
    panel.history.close()
    again = History(tmp_path / "history.sqlite3")
    runs = again.search()
    assert len(runs) == 1 and runs[0].scores == event.scores and runs[0].template == "tldr"


def test_compare_zero_one_k_shows_three_scored_columns(qtbot, panel):
    tick(panel, short_train_ids(panel, 2))
    panel.shots_spin.setValue(2)
    with qtbot.waitSignal(panel.sig_compare_finished, timeout=60000):
        panel.compare_button.click()
        assert panel.task is not None, panel.message.text()
    cols = panel.compare_view.columns
    titles = [c.title.text() for c in cols]
    assert [t.split("<br>")[0] for t in titles] == ["<b>0-shot</b>", "<b>1-shot</b>", "<b>2-shot</b>"]
    assert "none (zero-shot)" in titles[0] and all("examples:" in t for t in titles)  # each names its examples
    assert panel.compare_view.scored == 3
    assert all("ROUGE-1" in c.scores.text() and "prompt tokens" in c.scores.text() for c in cols)
    tokens = [c.result.prompt_tokens for c in cols]
    assert tokens[0] < tokens[1] < tokens[2]  # examples take room
    assert panel.history.count() == 3


def test_shots_that_do_not_fit_are_refused_with_an_offer(qtbot, panel):
    panel.max_tokens.setValue(200)  # room for the answer pushes 4 examples past 256 tokens
    tick(panel, [])
    panel.shots_spin.setValue(4)
    panel.refresh_prompt()
    assert panel.meter.over
    assert "does not fit" in panel.message.text()
    assert panel.fit_button.isVisibleTo(panel)
    panel.run_button.click()
    assert panel.task is None and "context window" in panel.message.text()
    panel.fit_button.click()
    assert panel.shots_spin.value() < 4 and not panel.meter.over


def test_free_template_without_dialogue_is_explained(qtbot, panel):
    panel.template_combo.setCurrentIndex(panel.template_combo.findData("__free__"))
    panel.free_edit.setText("Please summarize.")
    panel.refresh_prompt()
    assert "{dialogue}" in panel.message.text()
    panel.run_button.click()
    assert panel.task is None


def test_hand_edit_is_used_and_reset_restores(qtbot, panel):
    panel.prompt_edit.setPlainText("A prompt of my own:")
    assert panel.edited
    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000) as blocker:
        panel.run_button.click()
    assert blocker.args[0].prompt == "A prompt of my own:"
    panel.reset_button.click()
    assert panel.prompt_edit.toPlainText().endswith("TL;DR:") and not panel.edited


def test_reopen_from_history(qtbot, panel):
    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000):
        panel.run_button.click()
    panel.history_view.table.selectRow(0)
    panel.history_view.reopen()
    assert panel.edited and "Reopened run" in panel.score_label.text()


def test_history_export(qtbot, panel, tmp_path):
    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000):
        panel.run_button.click()
    out = tmp_path / "runs.html"
    assert panel.history_view.export(str(out), "html") == 1
    assert "tldr" in out.read_text()


def test_corrupted_history_is_kept_aside_and_said(qtbot, context_with_tiny_llama, tmp_path):
    db = tmp_path / "history.sqlite3"
    db.write_bytes(b"garbage" * 500)
    p = PromptPanel(context_with_tiny_llama, history=History(db))
    qtbot.addWidget(p)
    assert "kept aside" in p.history_view.problem.text()


def test_empty_dataset_is_said(qtbot, context_with_tiny_llama, tmp_path, monkeypatch):
    from playground.core.evaluation import datasets
    from playground.core.base.errors import InputError

    def empty(split="test", folder=None):
        raise InputError(f"The {split} split has no rows.")

    monkeypatch.setattr(datasets, "load_split", empty)
    p = PromptPanel(context_with_tiny_llama, history=History(tmp_path / "h.sqlite3"))
    qtbot.addWidget(p)
    assert p.example_combo.count() == 0 and "no rows" in p.data_problem
    p.dialogue_edit.setPlainText("#Person1#: Hi.\n#Person2#: Hello.")
    p.refresh_prompt()
    assert "#Person1#: Hi." in p.prompt_edit.toPlainText()


def test_copy_as_python(qtbot, panel):
    code = panel.python_code()
    assert "from transformers import" in code and "max_new_tokens=8" in code
    compile(code, "<snippet>", "exec")


def test_session_handout_has_the_prompt_tabs_runs_and_no_raw_tags(qtbot, panel):
    from playground.qt.session_export import session_html

    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    event = blocker.args[0]

    class RichPanel:  # a tab whose snapshot holds Qt rich text, as the Fine-tune result does
        title = "Fine-tune"

        def session_snapshot(self):
            return [("Fine-tuning", "<b>LoRA</b> trained <code>q_proj</code> for 4 steps")]

        def session_figures(self):
            return []

    page = session_html([panel, RichPanel()])
    assert "<h2>Prompt</h2>" in page
    import html

    assert html.escape(event.summary) in page and "ROUGE-1" in page and "template tldr" in page
    assert "LoRA trained q_proj for 4 steps" in page
    assert "&lt;b&gt;" not in page and "&lt;code&gt;" not in page


def test_an_output_is_marked_stale_when_the_settings_change_and_names_its_shots(qtbot, panel):
    ids = short_train_ids(panel, 1)
    tick(panel, ids)
    panel.shots_spin.setValue(1)
    qtbot.waitUntil(lambda: f"Examples in this prompt: {ids[0]}" in panel.shots_label.text(), timeout=3000)
    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000) as blocker:
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    output = blocker.args[0].summary
    assert panel.output_edit.toPlainText() == output
    score = panel.score_label.text()
    assert "ROUGE-1" in score and f"examples: {ids[0]}" in score and "Stale" not in score

    qtbot.keyClick(panel.shots_spin, Qt.Key.Key_Down)  # back to zero-shot: that output is not this prompt's
    qtbot.waitUntil(lambda: "Stale" in panel.score_label.text(), timeout=3000)
    assert panel.output_edit.toPlainText() == output  # kept, but marked
    assert "none (zero-shot)" in panel.shots_label.text()
    qtbot.keyClick(panel.shots_spin, Qt.Key.Key_Up)  # the same prompt again: no longer stale
    qtbot.waitUntil(lambda: "Stale" not in panel.score_label.text(), timeout=3000)
    panel.max_tokens.setValue(9)
    qtbot.waitUntil(lambda: "Stale" in panel.score_label.text(), timeout=3000)


def test_one_chat_template_default_for_prompt_generate_and_sampling(qtbot, context_with_tiny_llama, tmp_path):
    from playground.core.prompting.prompts import USE_CHAT_TEMPLATE
    from playground.qt.generate.panel import GeneratePanel
    from playground.qt.sampling.panel import SamplingPanel

    prompt = PromptPanel(context_with_tiny_llama, history=History(tmp_path / "h.sqlite3"))
    panels = [prompt, GeneratePanel(context_with_tiny_llama), SamplingPanel(context_with_tiny_llama)]
    for p in panels:
        qtbot.addWidget(p)
    assert {p.chat_check.isChecked() for p in panels} == {USE_CHAT_TEMPLATE}
    assert {p.chat_check.text() for p in panels} == {"Chat template (on by default in every tab)"}
    # The Prompt tab's rendered prompt is wrapped by default, as the other tabs' are.
    qtbot.waitUntil(lambda: "<|im_start|>" in prompt.prompt_edit.toPlainText(), timeout=5000)


def test_the_lesson_does_not_promise_a_gain_from_examples():
    from playground.qt.prompt.panel import LESSON

    assert "score can drop" in LESSON and "see which way it goes" in LESSON


def _plain(html_text: str) -> str:
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(html_text)
    return doc.toPlainText()


def test_scores_read_on_the_0_to_100_scale_under_a_header_naming_the_model(qtbot, panel):
    """Issue 28: ROUGE-1 0.312 reads '31.2' (as in Evaluate), and the output names its model and prompt."""
    import re

    from playground.core.base.units import format_score

    assert "will name the model" in panel.result_header.plain_text()
    with qtbot.waitSignal(panel.sig_run_finished, timeout=30000) as blocker:
        panel.run_button.click()
    scores = blocker.args[0].scores
    shown = _plain(panel.score_label.text())
    assert f"ROUGE-1 {format_score(scores['rouge1'], 'rouge1')} ·" in shown and "(0–100)" in shown
    assert not re.search(r"\b0\.\d{3}\b", shown)  # no fraction left on screen
    header = panel.result_header.plain_text()
    name = panel.context.session.current.info.name
    assert f"{name} (base, no adapter)" in header
    assert "TL;DR template, 0-shot, no chat template" in header and "greedy, 8 new tokens at most" in header
    # The history table and its export say the same number.
    cell = panel.history_view.table.item(0, 5).text()
    assert cell == format_score(scores["rouge1"], "rouge1")
    assert panel.history_view.table.horizontalHeaderItem(5).text() == "ROUGE-1 (0–100)"
    # Another prompt: the header says the output is out of date.
    panel.max_tokens.setValue(9)
    qtbot.waitUntil(lambda: "out of date" in panel.result_header.plain_text(), timeout=3000)


def test_the_comparison_shows_named_phases_deltas_and_one_header(qtbot, panel):
    from playground.core.base.units import format_delta, format_score, score_value

    tick(panel, short_train_ids(panel, 2))
    panel.shots_spin.setValue(2)
    phases = []
    panel.slot.sig_busy_changed.connect(lambda busy: None)
    with qtbot.waitSignal(panel.sig_compare_finished, timeout=60000):
        panel.compare_button.click()
        assert panel.progress_strip.isVisible()
        panel.task.sig_progress.connect(lambda f, m: phases.append(getattr(m, "phase", "")))
    assert "Writing the 2-shot summary (3 of 3)" in phases
    assert not panel.progress_strip.isVisible()  # gone when the work ends
    cols = panel.compare_view.columns
    first, last = cols[0].result.scores, cols[2].result.scores
    shown = _plain(cols[2].scores.text())
    r1 = format_score(last["rouge1"], "rouge1")
    change = format_delta(score_value(first["rouge1"]), score_value(last["rouge1"]))
    assert f"ROUGE-1 {r1} ({change})" in shown
    assert "(" not in _plain(cols[0].scores.text()).split("\n")[0]  # the first column is the baseline
    header = panel.compare_header.plain_text()
    assert "(base, no adapter)" in header and "0, 1 and 2 shots" in header and "greedy" in header


def test_the_controls_column_does_not_scroll_at_1200_by_800(qtbot, panel):
    """Issue 28: at the default window the left column fits (the tab gets about 1180x690 of it)."""
    panel.resize(1180, 690)
    qtbot.waitUntil(lambda: panel._left_scroll.viewport().height() > 0)
    for _ in range(3):
        qtbot.wait(1)
    assert panel._left_scroll.verticalScrollBar().maximum() == 0
    from PySide6.QtCore import QPoint

    top_of = lambda w: w.mapTo(panel, QPoint(0, 0)).y()  # noqa: E731
    assert top_of(panel.lesson_label) < top_of(panel._left_scroll)  # the explanation on top, full width
    assert panel.lesson_label.width() > panel.width() * 0.9
