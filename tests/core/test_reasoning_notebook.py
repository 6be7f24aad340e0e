"""A strategy comparison exported to a notebook reruns offline with transformers' generate and reads the same
answers from the greedy replies as the app did."""

from __future__ import annotations

import nbformat
import pytest

from playground.core.base.errors import InputError
from playground.core.labs.notebook import build_notebook
from playground.core.reasoning.notebook import reasoning_experiment
from playground.core.reasoning.problems import own_problem
from playground.core.reasoning.settings import ReasoningSettings
from playground.core.reasoning.strategies import compare
from tests.core.test_notebook import model_ref, run_script


def test_the_reasoning_notebook_reproduces_the_greedy_strategies(tiny_llama, tiny_llama_dir, tmp_path):
    settings = ReasoningSettings(direct_tokens=5, reasoning_tokens=10)
    problem = own_problem("What is 2 + 3?", "5")
    results = compare(tiny_llama, problem, ["direct", "cot"], settings)
    exp = reasoning_experiment(problem, results, settings)
    nb = build_notebook(model_ref(tiny_llama, tiny_llama_dir), [exp])
    nbformat.validate(nb)
    got = run_script(nb, tmp_path)["reasoning"]
    for r in results:
        assert got[r.strategy]["answer"] == (None if r.answer is None else round(r.answer, 2))
        assert got[r.strategy]["right"] == r.right


def test_an_empty_reasoning_experiment_is_refused_plainly():
    with pytest.raises(InputError, match="no strategy comparison"):
        build_notebook({"kind": "local", "ref": "x"}, [{"kind": "reasoning", "strategies": []}])
