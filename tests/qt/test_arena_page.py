"""The Evaluate tab's Arena section, driven as a person would: generate two answers, vote (buttons and
keys), see the names revealed and the leaderboard, send the votes to Align, export them; bad inputs."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from playground.qt.evaluate.arena_page import ArenaPage
from tests.qt.shown import shown


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def outputs_file(tmp_path):
    from playground.core.evaluation.datasets import load_split

    path = tmp_path / "outputs.csv"
    path.write_text("id,short,long\n" + "".join(f"{ex.id},They agree.,They agree to meet {ex.id} at noon.\n"
                                                 for ex in load_split("test").examples))
    return path


def use_files(page, path):
    from playground.core.evaluation.run import FILE

    for row, column in zip(page.rows, ("short", "long")):
        row.kind_combo.setCurrentIndex([row.kind_combo.itemData(i) for i in range(row.kind_combo.count())].index(FILE))
        row.set_path(str(path))
        row.column_combo.setCurrentText(column)
        row.enabled_check.setChecked(True)


def generate(qtbot, page):
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.matchup is not None and not page.slot.busy, timeout=60000)


def test_voting_reveals_names_builds_the_board_and_feeds_align(qtbot, context_with_tiny_llama, home, tmp_path):
    page = shown(qtbot, ArenaPage(context_with_tiny_llama), 1200, 760)
    assert page.board.table.rowCount() == 0 and not page.vote_buttons["a"].isEnabled()
    use_files(page, outputs_file(tmp_path))
    verdicts = ["b", "b", "a", "tie", "both_bad", "b"]
    shown_left = set()
    for i, verdict in enumerate(verdicts):
        if i == 0:
            generate(qtbot, page)
        else:
            page.matchup = None
            qtbot.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
            qtbot.waitUntil(lambda: page.matchup is not None and not page.slot.busy, timeout=60000)
        m = page.matchup
        assert page.draft.value.dialogue == i + 1  # Next prompt moves to the next dialogue
        assert {page.a_view.toPlainText(), page.b_view.toPlainText()} == {m.a_text, m.b_text}
        assert "outputs.csv" not in page.reveal_label.text()  # blind until the vote
        shown_left.add(m.a)
        if i == 1:
            qtbot.keyClick(page.a_view, Qt.Key.Key_B)  # the key does what the button does
        else:
            qtbot.mouseClick(page.vote_buttons[verdict], Qt.MouseButton.LeftButton)
        assert page.voted is not None and page.voted.verdict == verdict
        assert f"A was <b>{m.a}</b>" in page.reveal_label.text() and not page.vote_buttons["a"].isEnabled()
    assert len(shown_left) == 2 or len(verdicts) < 4  # both systems were shown on the left at some point
    qtbot.waitUntil(lambda: page.board.table.rowCount() == 2 and not page.board_slot.busy, timeout=30000)
    assert "6 votes" in page.board.summary.text() and "Position bias" in page.board.bias.text()
    names = {page.board.table.item(r, 0).text() for r in range(2)}
    assert names == {"outputs.csv:short", "outputs.csv:long"}
    # The votes are on disk, each with its version; a new page (a restart) reads them back.
    rows = [json.loads(x) for x in (home / "data" / "arena" / "votes.jsonl").read_text().splitlines()]
    assert [r["verdict"] for r in rows] == verdicts and all(r["version"] == 1 for r in rows)
    again = shown(qtbot, ArenaPage(context_with_tiny_llama), 1200, 760)
    assert len(again.store) == 6
    qtbot.waitUntil(lambda: again.board.table.rowCount() == 2, timeout=30000)
    # Closing the loop: 4 decisive votes become 4 arena pairs in the Align labels, once.
    with qtbot.waitSignal(page.sig_sent) as sent:
        qtbot.mouseClick(page.board.send_button, Qt.MouseButton.LeftButton)
    assert sent.args[0]["added"] == 4 and "4 new preference pairs" in page.message.text()
    labels = [json.loads(x) for x in (home / "data" / "align" / "labels.jsonl").read_text().splitlines()]
    assert len(labels) == 4 and all(r["reason"] == "arena" and r["chosen"] != r["rejected"] for r in labels)
    page.send_to_align()
    assert "0 new" in page.message.text()
    page.export_votes(str(tmp_path / "export.jsonl"))
    assert len((tmp_path / "export.jsonl").read_text().splitlines()) == 6
    page.undo()
    assert len(page.store) == 5 and "Removed the last vote" in page.message.text()
    state = page.notebook_state()
    assert state["kind"] == "arena" and len(state["votes"]) == 5


def test_one_system_typed_prompt_and_bad_inputs(qtbot, context_with_tiny_llama, home):
    from playground.core.evaluation.arena_run import TYPED

    page = shown(qtbot, ArenaPage(context_with_tiny_llama), 1200, 760)
    page.rows[1].enabled_check.setChecked(False)  # one system: it answers on both sides
    page.draft.set("source", TYPED)
    page.draft.set("max_new_tokens", 4)
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    assert "empty" in page.message.text() and page.matchup is None  # no text typed
    qtbot.keyClicks(page.typed, "Name a colour")
    generate(qtbot, page)
    assert "One system answers on both sides" in page.reveal_label.text()
    assert "Name a colour" in page.prompt_view.toPlainText() and "typed text" in page.header.text()
    with qtbot.waitSignal(page.sig_voted) as voted:
        qtbot.mouseClick(page.vote_buttons["a"], Qt.MouseButton.LeftButton)
    assert voted.args[0]["votes"] == 1
    qtbot.waitUntil(lambda: not page.board_slot.busy, timeout=30000)
    qtbot.waitUntil(lambda: page.board.table.rowCount() == 2, timeout=30000)
    rows = sorted(page.board.table.item(r, 0).text() for r in range(2))
    assert rows[0].endswith("#1") and rows[1].endswith("#2")  # the one system, told apart by its side of the draw
    assert "1 vote between different systems" in page.board.summary.text()
    # k-shot shows worked dialogues: refused for typed text, in words, and the page keeps working.
    page.rows[0].kind_combo.setCurrentIndex(1)
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not page.slot.busy and "k-shot" in page.message.text(), timeout=30000)
    assert page.generate_button.isEnabled()
    page.rows[0].enabled_check.setChecked(False)
    qtbot.mouseClick(page.generate_button, Qt.MouseButton.LeftButton)
    assert "No system is chosen" in page.message.text()


def test_a_vote_file_of_another_version_is_said_and_nothing_breaks(qtbot, app_context, home):
    folder = home / "data" / "arena"
    folder.mkdir(parents=True)
    (folder / "votes.jsonl").write_text(json.dumps({"version": 7, "prompt": "p"}) + "\n")
    page = shown(qtbot, ArenaPage(app_context), 1200, 760)
    assert page.store is None and "version 7" in page.message.text() and "Move" in page.message.text()
    assert not page.board.send_button.isEnabled()
    assert (folder / "votes.jsonl").read_text().startswith('{"version": 7')  # left as it was


def test_the_arena_fits_a_1200x800_window_before_and_after_votes(qtbot, app_context, home, tmp_path):
    """The layout audit the whole window passes (bench/layout_check.py), on the Arena section itself."""
    from playground.qt.evaluate.panel import EvaluatePanel
    from playground.qt.layout_audit import page_findings
    from tests.qt.shown import in_tab_room

    panel = EvaluatePanel(app_context)
    scroll = in_tab_room(qtbot, panel)  # noqa: F841 (it holds the panel)
    page = next(p for p in panel.pages if isinstance(p, ArenaPage))
    panel.sections.setCurrentWidget(page)
    qtbot.waitUntil(lambda: page.isVisible())
    assert not page_findings(panel)
    panel.sections.setCurrentIndex(0)
    assert panel.reveal("arena") is page.generate_button and panel.sections.currentWidget() is page  # lab 3's step
    assert "arena.voted" in panel.lab_events()
    use_files(page, outputs_file(tmp_path))
    for verdict in ("a", "b", "tie"):
        page.matchup = None
        page.next_prompt()
        qtbot.waitUntil(lambda: page.matchup is not None and not page.slot.busy, timeout=30000)
        page.vote(verdict)
    qtbot.waitUntil(lambda: page.board.table.rowCount() == 2 and not page.board_slot.busy, timeout=30000)
    assert panel.width() <= 1200
    assert not page_findings(panel), page_findings(panel)


def test_the_align_tab_sees_pairs_sent_from_the_arena_while_it_is_open(qtbot, app_context, home):
    from playground.core.evaluation.arena import Vote
    from playground.core.evaluation.arena_pairs import send_to_align
    from playground.qt.align.panel import AlignPanel

    votes = [Vote(f"p{i}", "x", "y", f"left {i}", f"right {i}", "a" if i % 2 else "b", id=f"v{i}") for i in range(4)]
    send_to_align(votes[:2])
    align = shown(qtbot, AlignPanel(app_context), 1200, 760)
    assert "2 pairs, 2 from arena votes" in align.feedback.count.text()
    assert [p.reason for p in align.reward.learner_pairs] == ["arena", "arena"]
    align.steps.setCurrentWidget(align.reward)  # open on another step, then the arena sends more
    align.hide()
    send_to_align(votes)
    align.show()
    qtbot.waitUntil(lambda: len(align.reward.learner_pairs) == 4)
    assert "4 pairs, 4 from arena votes" in align.feedback.count.text()
