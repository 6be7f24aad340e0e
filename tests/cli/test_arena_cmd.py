"""`playground arena export|leaderboard|pairs` on the app's votes and on a vote file; bad inputs."""

from __future__ import annotations

import json

import pytest

from playground.cli.main import main
from playground.core.evaluation.arena import Vote, VoteStore


@pytest.fixture
def votes(tmp_path, monkeypatch):
    """Twelve votes kept where the app keeps them, the two systems taking turns on the left."""
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path / "home"))
    store = VoteStore()
    verdicts = ["a", "b", "a", "a", "b", "tie", "a", "b", "both_bad", "a", "tie", "b"]
    for i, verdict in enumerate(verdicts):
        a, b = ("big", "small") if i % 2 == 0 else ("small", "big")
        store.add(Vote(f"prompt {i}", a, b, f"{a} answer {i}", f"{b} answer {i}", verdict, id=f"v{i}"))
    return store


def test_leaderboard_prints_ratings_intervals_and_position_bias(votes, capsys):
    assert main(["arena", "leaderboard", "--rounds", "30"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("system") and "95% interval" in lines[0]
    assert "Position bias: the left answer (A) won" in out and "12 votes, 30 bootstrap refits" in out
    assert main(["arena", "leaderboard", "--rounds", "30", "--json"]) == 0
    board = json.loads(capsys.readouterr().out)
    ranked = [s["system"] for s in board["standings"]]
    wins = {s["system"]: s["wins"] for s in board["standings"]}
    assert ranked[0] == max(wins, key=wins.get) and board["votes"] == 12
    for s in board["standings"]:
        assert s["low"] <= s["rating"] <= s["high"]


def test_export_and_pairs(votes, tmp_path, capsys):
    out = tmp_path / "out" / "votes.jsonl"
    assert main(["arena", "export", str(out)]) == 0
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert len(rows) == 12 and all(r["version"] == 1 for r in rows)
    pairs = tmp_path / "pairs.jsonl"
    assert main(["arena", "pairs", str(pairs), "--votes", str(out)]) == 0
    written = [json.loads(x) for x in pairs.read_text().splitlines()]
    assert len(written) == 9 and all({"prompt", "chosen", "rejected"} <= set(r) for r in written)
    assert "3 ties or both-bad left out" in capsys.readouterr().out
    assert main(["arena", "pairs", "--to-align"]) == 0
    assert "9 new preference pairs sent to the Align tab" in capsys.readouterr().out


def test_bad_inputs_are_refused_in_plain_words(votes, tmp_path, capsys):
    assert main(["arena", "leaderboard", "--votes", str(tmp_path / "none.jsonl")]) == 2
    assert "There is no vote file" in capsys.readouterr().err
    newer = tmp_path / "newer.jsonl"
    newer.write_text(json.dumps({"version": 3, "prompt": "p"}) + "\n")
    assert main(["arena", "export", str(tmp_path / "x.jsonl"), "--votes", str(newer)]) == 2
    assert "version 3" in capsys.readouterr().err
    assert main(["arena", "leaderboard", "--rounds", "0"]) == 2
    assert "--rounds must be at least 1" in capsys.readouterr().err
    assert main(["arena", "pairs"]) == 2
    assert "Name a JSONL file" in capsys.readouterr().err
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["arena", "leaderboard", "--votes", str(empty)]) == 2
    assert "no votes" in capsys.readouterr().err
