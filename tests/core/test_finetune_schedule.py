"""The learning-rate schedules the job file offers: warm-up, then linear or cosine decay to zero."""

from __future__ import annotations

import math

import pytest
import torch

from playground.core.finetune.loop import make_schedule


def rates(name: str, warmup: int, total: int, peak: float = 0.1) -> list[float]:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=peak)
    sched = make_schedule(opt, name, warmup, total)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_warm_up_rises_to_the_peak_then_decays_to_zero(name):
    lr = rates(name, warmup=4, total=20)
    assert lr[:5] == pytest.approx([0.0, 0.025, 0.05, 0.075, 0.1])
    assert all(a >= b for a, b in zip(lr[4:], lr[5:]))
    assert lr[-1] < 0.02


def test_linear_and_cosine_differ_as_their_names_say():
    linear, cosine = rates("linear", 0, 10), rates("cosine", 0, 10)
    for step in range(10):
        assert linear[step] == pytest.approx(0.1 * (10 - step) / 10)
        assert cosine[step] == pytest.approx(0.1 * 0.5 * (1 + math.cos(math.pi * step / 10)))


def test_constant_keeps_the_peak_after_warm_up():
    assert rates("constant", 2, 8)[2:] == pytest.approx([0.1] * 6)
