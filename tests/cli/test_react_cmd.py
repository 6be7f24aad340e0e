"""`playground react`: the trace printed step by step, and bad input refused in plain words."""

from __future__ import annotations

import pytest

from playground.cli.main import main


@pytest.fixture
def short_prompt(monkeypatch):
    """The tiny model's window is 256 tokens: short tool help and example; a fake knowledge base."""
    from playground.core.reasoning import react, tools

    monkeypatch.setattr(tools, "TOOL_HELP", {k: k for k in tools.TOOL_HELP})
    monkeypatch.setattr(react, "EXAMPLE", "")
    monkeypatch.setattr(tools.KnowledgeSearch, "__call__", lambda self, q: "The ferry costs 23 crowns.")


def test_react_prints_a_constrained_trace(capsys, tiny_llama_dir, short_prompt):
    code = main(["react", "What is 2 + 2?", "--model", str(tiny_llama_dir), "--constrain", "--max-steps", "1"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Action line constrained" in out and "Question: What is 2 + 2?" in out
    assert "Step 1 [constrained]" in out and "  Action: " in out and "  Observation: " in out
    assert "Tool choice at the Action line: calculator " in out
    assert "Status: " in out and "Problem:" not in out


def test_react_free_shows_a_format_problem_plainly(capsys, tiny_llama_dir, short_prompt):
    assert main(["react", "What is 2 + 2?", "--model", str(tiny_llama_dir), "--max-steps", "1"]) == 0
    out = capsys.readouterr().out
    assert "Problem: the model wrote no Action line" in out and "The model wrote: " in out
    assert "Status: stuck" in out


@pytest.mark.parametrize("args, words", [
    (["react", "   "], "The question is empty."),
    (["react", "q", "--max-steps", "0"], "step limit must be between 1 and 30"),
    (["react", "q", "--tool-timeout", "0"], "tool timeout must be between"),
])
def test_react_bad_input(capsys, tiny_llama_dir, args, words):
    assert main(args + ["--model", str(tiny_llama_dir)]) == 2
    assert words in capsys.readouterr().err
