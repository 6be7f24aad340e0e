"""Speculative decoding in the labs and notebooks: the spec.run event, its check, Lab 5's step, the cells."""

from __future__ import annotations

import pytest

from playground.core.labs.checks import run_check
from playground.core.labs.state import LabState

RUN = {"draft": "layers:8", "gamma": 4, "do_sample": False, "tokens": 24, "acceptance_rate": 0.25,
       "tokens_per_target_pass": 1.3, "speed_up": 0.6, "same_text": True, "model": "SmolLM2"}


def test_spec_run_event_passes_the_check_only_once_measured():
    s = LabState()
    assert not run_check("speculative_measured", s).passed
    s.record("spec.run", dict(RUN, speed_up=None))
    assert not run_check("speculative_measured", s).passed
    s.record("spec.run", RUN)
    result = run_check("speculative_measured", s)
    assert result.passed and "25%" in result.detail and "x0.60" in result.detail


def test_lab_five_ends_with_the_speculative_step_and_exports_it():
    from playground.core.labs.model import load_lab

    from pathlib import Path

    lab = load_lab(Path(__file__).resolve().parents[2] / "resources" / "labs" / "05-smaller.toml")
    assert lab.steps[-1].id == "speculative" and lab.steps[-1].check == "speculative_measured"
    assert "speculative" in lab.notebook


@pytest.mark.parametrize("draft,needle", [("layers:8", "assistant_early_exit\": 8"),
                                          ("/runs/distill/r1/soft/model", "assistant_model")])
def test_notebook_cells_compile_for_both_kinds_of_draft(draft, needle):
    from playground.core.labs.notebook import EXPERIMENTS

    cells = EXPERIMENTS["speculative"]({"kind": "speculative", "prompt": "Hi", "draft": draft, "gamma": 3,
                                         "max_new_tokens": 8, "tokens": [1, 2], "greedy": True})
    code = [src for kind, src in cells if kind == "code"]
    assert any(needle in src for src in code)
    for src in code:
        compile(src, "<cell>", "exec")
    assert "num_assistant_tokens = 3" in code[0]
