"""The bundled reasoning problems: every gold answer recomputed by its solution (sandbox and plain Python),
knowledge problems pointing at real passages holding their numbers, and bad problem files refused."""

import json
import math
import re

import pytest

from playground.core.base.errors import InputError
from playground.core.base.paths import resources_dir
from playground.core.reasoning.problems import bundled_problems, load_problems, own_problem, parse_gold, select
from playground.core.reasoning.prompts import EXEMPLARS
from playground.core.reasoning.sandbox import run_program

ALL = bundled_problems(kinds=None)


def test_the_set_has_enough_problems_of_each_kind_with_unique_ids():
    kinds = [p.kind for p in ALL]
    assert kinds.count("arithmetic") + kinds.count("word") >= 40
    assert kinds.count("knowledge") >= 10
    assert len({p.id for p in ALL}) == len(ALL)
    assert len(bundled_problems()) == kinds.count("arithmetic") + kinds.count("word")  # default leaves knowledge out


@pytest.mark.parametrize("problem", ALL, ids=lambda p: p.id)
def test_each_gold_answer_is_what_its_solution_computes(problem):
    result = run_program(problem.solution)
    assert result.ok, result.describe()
    assert math.isclose(float(result.value), problem.answer, abs_tol=1e-9)
    scope = {"ceil": math.ceil}
    exec(problem.solution, scope)  # noqa: S102 - the project's own solutions
    assert math.isclose(scope["answer"], problem.answer, abs_tol=1e-9)


def test_knowledge_problems_name_passages_that_hold_their_numbers():
    docs = resources_dir() / "knowledge" / "kestrany" / "documents"
    for p in (q for q in ALL if q.kind == "knowledge"):
        texts = [(docs / f"{pid}.md").read_text(encoding="utf-8") for pid in p.passage_ids]
        assert p.passage_id == p.passage_ids[0]
        joined = " ".join(texts).replace(",", "")
        facts = [n for n in re.findall(r"\d+(?:\.\d+)?", p.solution) if float(n) >= 8 and n not in p.question and n not in ("60", "100", "1000")]
        for number in facts:
            assert re.search(rf"\b{re.escape(number)}\b", joined), (p.id, number)


def test_the_exemplars_are_right_and_not_in_the_set():
    questions = {p.question for p in ALL}
    for question, reasoning, program, gold in EXEMPLARS:
        assert question not in questions
        assert run_program(program).value == gold
        assert reasoning.endswith(f"The answer is {gold}.")


def test_bad_problems_are_refused_in_plain_words(tmp_path):
    with pytest.raises(InputError, match="no numeric gold"):
        load_problems(_write(tmp_path, [{"question": "How many?"}]))
    with pytest.raises(InputError, match="not a number"):
        load_problems(_write(tmp_path, [{"question": "How many?", "answer": "seven"}]))
    with pytest.raises(InputError, match="no question"):
        load_problems(_write(tmp_path, [{"question": " ", "answer": 3}]))
    with pytest.raises(InputError, match="not valid JSON"):
        (tmp_path / "p.jsonl").write_text("{oops\n", encoding="utf-8")
        load_problems(tmp_path / "p.jsonl")
    with pytest.raises(InputError, match="question is empty"):
        own_problem("   ")
    with pytest.raises(InputError, match="not a number"):
        own_problem("How many?", "lots")
    with pytest.raises(InputError, match="at least 1"):
        select(ALL, 0)
    assert own_problem("How many?", "").answer is None
    assert parse_gold("1,200") == 1200.0
    assert load_problems(_write(tmp_path, [{"question": "2+2?", "answer": 4}]))[0].answer == 4.0


def _write(folder, rows):
    path = folder / "p.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path
