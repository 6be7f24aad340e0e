import math

import pytest

from playground.core.base.errors import InputError
from playground.core.lifecycle import mini_scaling as M
from playground.core.lifecycle import scaling as S


def test_chinchilla_row():
    calc = S.calculate(params=70e9, tokens=1.4e12)
    assert calc.flops == pytest.approx(5.88e23, rel=1e-3)
    assert calc.pf_days == pytest.approx(5.88e23 / 8.64e19)
    assert calc.tokens_per_param == pytest.approx(20.0)
    assert calc.losses["Chinchilla"] == pytest.approx(1.69 + 406.4 / 70e9 ** 0.34 + 410.7 / 1.4e12 ** 0.28)


@pytest.mark.parametrize("fit", S.FITS, ids=lambda f: f.name)
def test_optimum_minimizes_loss_on_the_budget_line(fit):
    c = 1e24
    n, d = fit.optimum(c)
    assert 6 * n * d == pytest.approx(c)
    best = fit.loss(n, d)
    for k in (0.8, 0.95, 1.05, 1.25):  # any other split of the same budget does worse
        assert fit.loss(n * k, c / (6 * n * k)) > best
    # closed form: N* = G (C/6)^(b/(a+b)), G = (aA/bB)^(1/(a+b))
    a, b = fit.alpha, fit.beta
    assert n == pytest.approx((a * fit.A / (b * fit.B)) ** (1 / (a + b)) * (c / 6) ** (b / (a + b)))


def test_the_two_fits_disagree_at_1e24():
    calc = S.calculate(flops=1e24)
    ratios = {k: d / n for k, (n, d, _) in calc.optima.items()}
    assert ratios["Chinchilla"] == pytest.approx(98, rel=0.05)
    assert ratios["Replication"] == pytest.approx(18, rel=0.05)
    smol = [m for m in S.KNOWN_MODELS if m.name == "SmolLM2-135M"][0]
    assert round(smol.tokens_per_param) == 14815


@pytest.mark.parametrize("kwargs", [dict(params=0, tokens=1e9), dict(params=1e9, tokens=-5), dict(flops=0),
                                    dict(params=1e9)])
def test_bad_sizes_are_refused_in_plain_words(kwargs):
    with pytest.raises(InputError) as info:
        S.calculate(**kwargs)
    assert "N" in info.value.message or "budget" in info.value.message or "D" in info.value.message


def test_gpu_hours():
    assert S.flops_from_gpu_hours(10, 1e15) == pytest.approx(3.6e19)


def test_too_small_budget_is_refused():
    with pytest.raises(InputError, match="too small"):
        list(M.run_experiment(1e6, M.SIZES[:2]))


def test_mini_experiment_two_sizes_losses_decrease():
    sizes = M.SIZES[:2]
    budget = 6.0 * sizes[1].params * 24 * M.SEQ_LEN * M.BATCH  # the larger size gets 24 steps
    items = list(M.run_experiment(budget, sizes))
    results = [r for r in items if isinstance(r, M.SizeResult)]
    points = [p for p in items if isinstance(p, M.ScalePoint)]
    assert [r.size for r in results] == ["30k", "95k"]
    for r in results:
        assert r.points[-1].loss < r.points[0].loss < math.log(256) + 0.5
        assert r.points[-1].flops == pytest.approx(budget, rel=0.15)
        assert r.tokens == r.points[-1].tokens
    env = M.lower_envelope(points)
    assert [x for x, _, _ in env] == sorted(x for x, _, _ in env)
    assert all(b[1] <= a[1] for a, b in zip(env, env[1:]))
    assert M.winner(results).final_loss == min(r.final_loss for r in results)
    assert "winner" in M.describe_results(results, budget)


def test_stop_keeps_finished_sizes():
    from playground.core.base.errors import Cancelled
    from playground.core.base.handle import TaskHandle

    sizes = M.SIZES[:2]
    budget = 6.0 * sizes[1].params * 12 * M.SEQ_LEN * M.BATCH
    handle = TaskHandle()
    got = []
    with pytest.raises(Cancelled):
        for item in M.run_experiment(budget, sizes, handle=handle):
            got.append(item)
            if isinstance(item, M.SizeResult):
                handle.cancel()
    assert [r.size for r in got if isinstance(r, M.SizeResult)] == ["30k"]
