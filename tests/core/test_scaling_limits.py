"""Issue 29, items 4 and 13 (core): plain words for budgets that overflow or are not numbers, the
fits' explanation, a time estimate before a mini experiment, progress per size, and no winner
until every size has trained."""

from __future__ import annotations

import math

import pytest
from dataclasses import replace

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle
from playground.core.lifecycle import mini_scaling as M
from playground.core.lifecycle import scaling as S


def test_a_huge_budget_prints_tokens_per_parameter_not_zero():
    text = S.describe(S.calculate(flops=1e300))
    assert "(0.0 tokens per parameter)" not in text
    n, d, _ = S.calculate(flops=1e300).optima["Replication"]
    assert f"({d / n:.2g} tokens per parameter)" in text
    assert "far outside the range the fits were made on" in S.fits_note(S.calculate(flops=1e300))


@pytest.mark.bad_input("scaling calc: N x D or the budget overflows, or is not a number")
@pytest.mark.parametrize("kwargs,words", [
    (dict(params=1e200, tokens=1e200), "The compute C = 6·N·D overflowed"),
    (dict(flops=math.inf), "The compute budget C is too large"),
    (dict(params=math.inf, tokens=1e12), "The parameter count N is too large"),
    (dict(flops=math.nan), "The compute budget C is not a number"),
], ids=["N-times-D", "inf-budget", "inf-N", "nan-budget"])
def test_overflow_names_what_overflowed(kwargs, words, bad_input):
    with pytest.raises(InputError) as err:
        S.calculate(**kwargs)
    bad_input(err.value)
    assert err.value.message.startswith(words), err.value.message
    assert "token count D" not in err.value.message


def test_gpu_hours_that_overflow_say_so():
    with pytest.raises(InputError, match="budget from GPU-hours overflowed"):
        S.flops_from_gpu_hours(1e300, 1e300)


def test_the_fits_note_explains_chinchillas_own_budget():
    note = S.fits_note(S.calculate(70e9, 1.4e12))
    assert "N* = 32B parameters, 93 tokens per parameter" in note
    assert "0.46x the 70B" in note and "Besiroglu et al. 2024" in note and "18 tokens per parameter" in note
    assert "far outside" not in note


@pytest.mark.bad_input("scaling run: an infinite or not-a-number budget")
@pytest.mark.parametrize("flops", [math.inf, -math.inf, math.nan], ids=["inf", "-inf", "nan"])
def test_non_finite_budgets_are_refused_plainly(flops, bad_input):
    with pytest.raises(InputError) as err:
        list(M.run_experiment(flops, M.SIZES[:1], data=(b"x" * 1000, b"y" * 500)))
    bad_input(err.value)
    assert "infinite" in err.value.message or "not a number" in err.value.message


def test_a_run_beyond_the_time_limit_is_refused_before_training(monkeypatch):
    def no_training(*a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr(M, "run_size", no_training)
    estimate = M.estimate_run(1e20, M.SIZES[:1])
    assert estimate.steps["30k"] == M.planned_steps(M.SIZES[0].params, 1e20)
    assert estimate.seconds > 3600 * 24 * 365  # years
    with pytest.raises(InputError) as err:
        list(M.run_experiment(1e20, M.SIZES[:1], max_seconds=1800, data=(b"x" * 1000, b"y" * 500)))
    assert "years here" in err.value.message and "--force" in err.value.hint


def test_progress_per_size_and_no_winner_until_every_size_finished():
    sizes = M.SIZES[:2]
    budget = 6.0 * sizes[1].params * M.MIN_STEPS * M.SEQ_LEN * M.BATCH
    reports: list[str] = []
    handle = TaskHandle(lambda f, m: reports.append(m))
    results, described = [], []
    for item in M.run_experiment(budget, sizes, handle=handle):
        if isinstance(item, M.SizeResult):
            results.append(item)
            described.append(M.describe_results(results, budget))
    first, both = described
    assert "winner:" not in first and "1 of 2 sizes finished: no winner until every size has trained" in first
    assert M.winner(results[:1]) is None
    assert "winner: " in both and M.winner(results) is not None
    assert first.rsplit("\n", 1)[1] == M.SPAN_NOTE  # the GUI splits the note off the last line
    # One named phase per size, its steps counted (the strip's bar and time left restart per size).
    for i, name in enumerate(("30k", "95k")):
        steps = [m for m in reports if getattr(m, "phase", "") == f"Training the {name} model (size {i + 1} of 2)"]
        assert len(steps) >= 5 and steps[-1].done == steps[-1].total, reports
        assert [m.done for m in steps] == sorted(m.done for m in steps)
    # No winner from one size, even when it is the only one asked for; a stopped run says it stopped.
    assert "no winner: one size has nothing to win against" in M.describe_results(
        [replace(results[0], of=1)], budget)
    assert M.winner([replace(results[0], of=1)]) is None
    stopped = M.describe_results(results[:1], budget, stopped=True)
    assert "winner:" not in stopped and "stopped: 1 of 2 sizes finished: no winner" in stopped
