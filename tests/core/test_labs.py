"""Lab files, the loader's refusals, the named checks on hand-built states, progress on disk."""

import pytest

from playground.core.labs import CHECKS, KNOWN_TABS, LabError, LabProgress, LabState, load_labs, run_check
from playground.core.labs.model import load_lab, parse_lab

STEP = """
[[steps]]
title = "t"
tab = "{tab}"
do = "d"
check = "{check}"
"""


def lab_text(check="prompt_zero_shot_run", tab="Prompt"):
    return 'title = "A lab"\n' + STEP.format(tab=tab, check=check)


def test_the_shipped_labs_load_and_every_step_names_a_real_check():
    labs, problems = load_labs()
    assert problems == []
    assert [lab.id for lab in labs] == ["prompt-engineering", "fine-tuning", "human-feedback", "grounding",
                                           "smaller", "reason-act"]
    for lab in labs:
        assert len(lab.steps) >= 5
        for step in lab.steps:
            assert step.check in CHECKS and step.tab in KNOWN_TABS
            assert step.do and step.look and step.question and step.explain
    assert len({s.check for s in labs[0].steps}) == len(labs[0].steps)


def test_an_unknown_check_is_refused_with_its_name(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(lab_text(check="did_a_backflip"), encoding="utf-8")
    with pytest.raises(LabError) as err:
        load_lab(path)
    assert "did_a_backflip" in err.value.message and "mine" in err.value.message
    assert "prompt_zero_shot_run" in err.value.hint  # says which names exist
    labs, problems = load_labs(tmp_path)
    assert labs == [] and "did_a_backflip" in problems[0]


def test_an_unknown_tab_key_or_bad_toml_is_refused_plainly():
    with pytest.raises(LabError, match="unknown tab 'Kitchen'"):
        parse_lab(lab_text(tab="Kitchen"), "x")
    with pytest.raises(LabError, match="unknown key"):
        parse_lab(lab_text() + 'colour = "red"\n', "x")
    with pytest.raises(LabError, match="not valid TOML"):
        parse_lab('title = "unclosed', "x")
    with pytest.raises(LabError, match="no steps"):
        parse_lab('title = "x"\n', "x")
    with pytest.raises(LabError, match="notebook experiment"):
        parse_lab('notebook = ["karaoke"]\n' + lab_text(), "x")


def test_a_teacher_written_fourth_lab_loads_beside_the_others(tmp_path):
    (tmp_path / "04-mine.toml").write_text(lab_text(), encoding="utf-8")
    (tmp_path / "05-broken.toml").write_text(lab_text(check="nope"), encoding="utf-8")
    labs, problems = load_labs(tmp_path)
    assert [lab.id for lab in labs] == ["04-mine"] and len(problems) == 1 and "nope" in problems[0]


def test_checks_follow_the_state():
    s = LabState()
    assert not any(run_check(name, s).passed for name in CHECKS)
    s.prompt_runs.append({"shots": 1})
    assert not run_check("prompt_zero_shot_run", s).passed
    s.prompt_runs.append({"shots": 0})
    assert run_check("prompt_zero_shot_run", s).passed
    s.prompt_comparisons.append({"mode": "shots", "shots": [0, 1, 2], "scored": 2})  # stopped before the end
    assert not run_check("prompt_shots_compared", s).passed
    s.prompt_comparisons.append({"mode": "shots", "shots": [0, 1, 2], "scored": 3})
    assert run_check("prompt_shots_compared", s).passed
    s.rollouts.append({"do_sample": True, "temperature": 1.2, "top_k": 0, "top_p": 1.0, "n": 5})
    assert not run_check("hot_rollouts", s).passed  # "above 1.2"
    s.rollouts.append({"do_sample": True, "temperature": 1.5, "top_k": 0, "top_p": 1.0, "n": 5})
    assert run_check("hot_rollouts", s).passed and not run_check("top_k_rollouts", s).passed
    s.finetune_runs.append({"method": "lora"})
    assert run_check("lora_run_finished", s).passed and not run_check("full_run_finished", s).passed
    s.evaluations.append({"rouge": {"base": {"rouge1": 0.2}}, "finetune_runs_before": 0})
    assert run_check("baseline_evaluated", s).passed and not run_check("evaluated_after_finetune", s).passed
    assert "no check named" in run_check("nope", s).detail


def test_align_checks_say_plainly_when_the_align_tab_is_missing():
    s = LabState(align={"reward_accuracy": 0.7})
    r = run_check("reward_accuracy_shown", s)
    assert not r.passed and "Align tab is not in this build" in r.detail
    s.align_available = True
    assert run_check("reward_accuracy_shown", s).passed
    assert not run_check("policy_run_with_kl", s).passed


def test_progress_survives_a_restart_and_resets_per_lab(tmp_path):
    path = tmp_path / "data" / "labs-progress.json"
    p = LabProgress(path)
    assert p.mark_done("a", "s1") and not p.mark_done("a", "s1")
    p.mark_done("b", "s1")
    p.set_current("a", 2)
    again = LabProgress(path)
    assert again.done("a") == {"s1"} and again.current("a") == 2
    again.reset("a")
    third = LabProgress(path)
    assert third.done("a") == set() and third.current("a") == 0 and third.done("b") == {"s1"}
    assert not list(path.parent.glob("*.tmp"))


def test_unreadable_progress_starts_afresh_with_a_message(tmp_path):
    path = tmp_path / "labs-progress.json"
    path.write_text("{not json", encoding="utf-8")
    p = LabProgress(path)
    assert p.done("a") == set() and "could not be read" in p.problem


def test_progress_defaults_under_playground_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PLAYGROUND_HOME", str(tmp_path))
    LabProgress().mark_done("a", "s")
    assert (tmp_path / "data" / "labs-progress.json").exists()


def test_lab_events_fill_the_state_the_checks_read():
    from playground.core.labs.state import EVENTS

    s = LabState()
    assert not s.record("no_such_event", {"shots": 0}) and s == LabState()
    assert s.record("prompt_run", {"shots": 0, "template": "tldr", "scores": {}})
    assert run_check("prompt_zero_shot_run", s).passed
    assert not s.record("prompt_measured", {"over": False}) and not s.prompt_overflow_seen
    assert s.record("prompt_measured", {"over": True}) and not s.record("prompt_measured", {"over": True})
    assert run_check("prompt_context_overflow_seen", s).passed
    assert s.record("memory_estimate_shown", {}) and not s.record("memory_estimate_shown", {})
    assert s.record("evaluation", {"systems": ["base"], "rouge": {"base": {"rouge1": 0.2}}})
    assert s.record("finetune_run", {"method": "lora", "run_dir": "r"})
    assert s.record("evaluation", {"systems": ["base"], "rouge": {"base": {"rouge1": 0.3}}})
    assert [e["finetune_runs_before"] for e in s.evaluations] == [0, 1]  # counted when the event came
    assert run_check("evaluated_after_finetune", s).passed
    assert not run_check("preferences_labelled", s).passed  # no Align tab watched yet
    s.record("preferences_labelled", {"pairs": 2})
    assert run_check("preferences_labelled", s).passed and s.align["runs"] == []
    assert set(EVENTS) >= {"prompt_run", "generation", "rollouts", "finetune_run", "policy_run"}


def test_watching_an_align_tab_makes_the_align_checks_answerable_and_unknown_events_are_refused():
    s = LabState()
    s.watching(["prompt_run"])
    assert "Align tab is not in this build" in run_check("policy_run_with_kl", s).detail
    s.watching(["preferences_labelled", "policy_run"])
    assert s.align_available and "KL coefficient above 0" in run_check("policy_run_with_kl", s).detail
    with pytest.raises(ValueError, match="prompt_rnu"):
        s.watching(["prompt_rnu"])
