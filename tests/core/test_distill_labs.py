"""Distillation in the labs and the notebook: the events fold into the state, the checks tick, the
lab step is in "Make it smaller", and the notebook cells rerun on a model."""

from __future__ import annotations

import copy

import pytest

from playground.core.labs.state import LabState


def test_events_tick_the_checks():
    from playground.core.labs.checks import distill_student_used, distill_trained

    s = LabState()
    assert not distill_trained(s).passed and not distill_student_used(s).passed
    s.record("distill.trained", {"alpha": 1.0, "compared": True, "perplexity": {}})  # hard labels only: no
    assert not distill_trained(s).passed
    s.record("distill.trained", {"alpha": 0.5, "temperature": 2.0, "compared": True,
                                 "perplexity": {"soft": 30.5, "hard": 33.1}})
    result = distill_trained(s)
    assert result.passed and "soft 30.50, hard 33.10" in result.detail
    s.record("distill.used", {"folder": "/x/soft/model"})
    assert distill_student_used(s).passed


def test_lab_has_the_distillation_steps_and_notebook():
    import tomllib

    from playground.core.base.paths import resources_dir

    lab = tomllib.loads((resources_dir() / "labs" / "05-smaller.toml").read_text(encoding="utf-8"))
    ids = [s["id"] for s in lab["steps"]]
    assert ids.index("distill") > ids.index("use") and ids.index("distill_use") == ids.index("distill") + 1
    assert "distillation" in lab["notebook"]


def test_notebook_cells_rerun_the_distillation(tiny_llama):
    import torch

    from playground.core.labs.notebook import EXPERIMENTS

    p = {"kind": "distillation", "distill": {"student_layers": 0, "temperature": 2.0, "alpha": 0.5,
                                             "direction": "forward"},
         "steps": 2, "learning_rate": 1e-3, "train_texts": ["Hello there.\nSummary: a greeting."],
         "test_texts": ["They agree to meet."], "app": {"soft": {"perplexity": 10.0, "parameters": 5}}}
    cells = EXPERIMENTS["distillation"](p)
    assert cells[0][0] == "markdown" and "α = 0.5" in cells[0][1]
    space = {"torch": torch, "model": copy.deepcopy(tiny_llama.model), "tokenizer": tiny_llama.tokenizer,
             "results": {}}
    exec(cells[1][1], space)  # noqa: S102 (the exported cell, run as a notebook would)
    got = space["results"]["distillation"]
    assert set(got) == {"teacher", "soft", "hard"} and all(v > 1 for v in got.values())
    assert space["soft"].config.num_hidden_layers == 1


def test_notebook_without_a_run_says_so():
    from playground.core.base.errors import InputError
    from playground.core.distill.notebook import distillation_cells

    with pytest.raises(InputError, match="no distillation run"):
        distillation_cells({"kind": "distillation"})
