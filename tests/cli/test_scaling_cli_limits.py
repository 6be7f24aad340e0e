"""Issue 29, items 4, 13 and 22 (CLI): `scaling calc` explains the fits and takes a negative budget to
refuse it; `scaling run` estimates its time first, refuses beyond a limit, reports each size."""

from __future__ import annotations

import pytest

from playground.cli.main import main


@pytest.mark.bad_input("scaling calc --flops -1e20 (a negative number after an option)")
def test_a_negative_budget_is_refused_in_plain_words(capsys, bad_input):
    assert main(["scaling", "calc", "--flops", "-1e20"]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert "The compute budget C must be a positive number (got -1e+20)" in err
    assert main(["scaling", "calc", "--params", "-7e9", "--tokens", "1e12"]) == 2
    assert "The parameter count N must be a positive number (got -7e+09)" in capsys.readouterr().err


def test_calc_at_chinchillas_budget_prints_both_fits_and_why_they_differ(capsys):
    assert main(["scaling", "calc", "--flops", "5.88e23"]) == 0
    out = capsys.readouterr().out
    assert "Chinchilla fit" in out and "Replication fit" in out and "(92.8 tokens per parameter)" in out
    assert "Why the two fits differ" in out and "0.46x the 70B" in out


@pytest.mark.bad_input("scaling run --flops 1e20: years of training")
def test_a_run_of_years_is_refused_before_it_starts(capsys, monkeypatch, bad_input):
    from playground.core.lifecycle import mini_scaling as M

    def no_training(*a, **k):
        raise AssertionError("training started")

    monkeypatch.setattr(M, "run_size", no_training)
    assert main(["scaling", "run", "--flops", "1e20", "--sizes", "30k"]) == 2
    err = capsys.readouterr().err
    bad_input(err.split("error: ", 1)[-1])
    assert "Estimated time: about" in err and "years" in err
    assert "beyond the limit of 30 min" in err and "--force" in err


@pytest.mark.bad_input("scaling run --flops inf / nan")
@pytest.mark.parametrize("value,words", [("inf", "cannot be infinite"), ("nan", "is not a number")])
def test_non_finite_run_budgets_get_plain_messages(capsys, value, words, bad_input):
    assert main(["scaling", "run", "--flops", value, "--sizes", "30k"]) == 2
    err = capsys.readouterr().err
    bad_input(err)
    assert words in err and "Something went wrong" not in err


def test_the_run_reports_each_size_and_names_no_winner_from_one_size(capsys):
    from playground.core.lifecycle import mini_scaling as M

    budget = 6.0 * M.SIZES[0].params * M.MIN_STEPS * M.SEQ_LEN * M.BATCH * 1.01
    assert main(["scaling", "run", "--flops", f"{budget:.6g}", "--sizes", "30k"]) == 0
    captured = capsys.readouterr()
    err = captured.err
    assert err.index("Estimated time") < err.index("Training the 30k model (size 1 of 1)")
    assert "(size 1 of 1) · 5 of 10" in err and "(size 1 of 1) · 10 of 10" in err
    assert "no winner: one size has nothing to win against" in captured.out
