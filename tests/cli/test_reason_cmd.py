"""`playground reason`: one question and a set on the tiny Llama (direct and zero-shot CoT fit its 256-token
window), the table's rows, and bad input refused in plain words."""

from __future__ import annotations

import json

import pytest

from playground.cli.main import main


def test_reason_one_question_prints_each_strategy(capsys, tiny_llama_dir):
    code = main(["reason", "What is 2 + 3?", "--gold", "5", "--strategy", "direct,cot", "--model", str(tiny_llama_dir),
                 "--direct-tokens", "4", "--reasoning-tokens", "8", "--device", "cpu"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Problem: What is 2 + 3?   (gold 5)" in out
    assert "== Direct: " in out and "== Chain-of-thought (zero-shot): " in out
    assert "(base, no adapter)" in out and "k=5 at T=0.70" in out


def test_reason_over_the_bundled_set_as_json(capsys, tiny_llama_dir):
    code = main(["reason", "--set", "bundled", "--limit", "2", "--strategy", "direct", "--model", str(tiny_llama_dir),
                 "--direct-tokens", "3", "--device", "cpu", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["total"] == 2 and data["done"] == 2
    score = data["scores"]["direct"]
    assert score["graded"] == 2 and 0 <= score["interval"][0] <= score["accuracy"] <= score["interval"][1] <= 1
    assert data["provenance"]["model"]


@pytest.mark.parametrize("args, words", [
    (["reason", "   "], "The question is empty."),
    (["reason"], "Nothing to solve."),
    (["reason", "q", "--k", "0"], "between 1 and 40 paths; k = 0 is out of range"),
    (["reason", "q", "--k", "1000"], "k = 1000 is out of range"),
    (["reason", "q", "--strategy", "magic"], "Unknown strategy: magic."),
    (["reason", "q", "--gold", "lots"], "is not a number"),
    (["reason", "--set", "bundled", "--limit", "0"], "at least 1 problem"),
    (["reason", "--set", "/nonexistent/p.jsonl"], "Cannot read the problem file"),
])
def test_reason_bad_input_is_refused_plainly(capsys, args, words):
    assert main(args) == 2
    assert words in capsys.readouterr().err


def test_a_problem_without_a_numeric_gold_is_refused(capsys, tmp_path):
    path = tmp_path / "mine.jsonl"
    path.write_text('{"question": "How many?", "answer": "many"}\n', encoding="utf-8")
    assert main(["reason", "--set", str(path)]) == 2
    assert "is not a number, so answers cannot be graded" in capsys.readouterr().err
