"""Steps and phases in progress messages, the time-left estimate, and a result's provenance line."""

from types import SimpleNamespace

from playground.core.base.progress import PhaseClock, StepMessage, format_duration, report_step
from playground.core.base.provenance import Provenance, provenance_of


def test_step_message_is_a_string_that_knows_its_phase():
    message = StepMessage("Scoring the test set", 12, 40, "before training")
    assert message == "Scoring the test set · 12 of 40 · before training"
    assert (message.phase, message.done, message.total) == ("Scoring the test set", 12, 40)
    assert message.fraction == 0.3
    assert StepMessage("Loading", 3, None).fraction is None


def test_report_step_sends_the_phase_fraction():
    seen = []
    handle = SimpleNamespace(report=lambda f, m: seen.append((f, m)))
    report_step(handle, "Training", 5, 20)
    assert seen[0][0] == 0.25 and seen[0][1].phase == "Training"
    report_step(None, "Training", 5, 20)  # no handle: nothing to do


def test_time_left_restarts_with_each_phase():
    now = [0.0]
    clock = PhaseClock(clock=lambda: now[0])
    clock.update("Scoring", 0)
    assert clock.remaining(0, 10) is None  # nothing to go on yet
    now[0] = 4.0
    clock.update("Scoring", 2)
    assert clock.remaining(2, 10) == 16.0  # 2 s a step, 8 steps left
    clock.update("Training", 0)
    assert clock.remaining(0, 100) is None  # a new phase: the old pace does not carry over
    now[0] = 5.0
    clock.update("Training", 1)
    assert clock.remaining(1, 100) == 99.0
    assert clock.elapsed() == 5.0


def test_durations_read_as_clock_times():
    assert format_duration(7) == "0:07"
    assert format_duration(125) == "2:05"
    assert format_duration(3723) == "1:02:03"
    assert format_duration(None) == "–"


def _loaded(name, extras=None, dtype="float32"):
    return SimpleNamespace(info=SimpleNamespace(name=name, dtype=dtype), extras=extras or {})


def test_provenance_names_base_or_adapter():
    base = provenance_of(_loaded("SmolLM2-135M"), prompt="chat form", settings="greedy")
    assert base.model_text == "SmolLM2-135M (base, no adapter)"
    assert base.line().startswith("SmolLM2-135M (base, no adapter) · float32 · chat form · greedy · ")
    adapted = provenance_of(_loaded("SmolLM2-135M + run-3", {"adapter_name": "run-3"}))
    assert (adapted.model, adapted.adapter) == ("SmolLM2-135M", "run-3")
    assert adapted.as_dict()["adapter"] == "run-3"
    assert Provenance(model="m").as_dict()["adapter"] == "base"
