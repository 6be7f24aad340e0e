"""The distillation loss against trl's GKD loss (generalized JSD at β = 0 / 1 is forward / reverse KL)."""

from __future__ import annotations

import pytest
import torch

from playground.core.distill.loss import distill_loss, token_kl


def _logits(seed=0, batch=2, positions=5, vocab=11):
    g = torch.Generator().manual_seed(seed)
    student = torch.randn(batch, positions, vocab, generator=g) * 2
    teacher = torch.randn(batch, positions, vocab, generator=g) * 3
    labels = torch.randint(0, vocab, (batch, positions), generator=g)
    labels[0, :2] = -100  # the prompt: predicts nothing
    labels[1, -1] = -100  # padding
    return student, teacher, labels


@pytest.mark.parametrize("direction,beta", [("forward", 0.0), ("reverse", 1.0)])
@pytest.mark.parametrize("temperature", [1.0, 2.5])
def test_kl_part_equals_trl_gkd(direction, beta, temperature):
    from trl.experimental.gkd.gkd_trainer import GKDTrainer

    student, teacher, labels = _logits()
    expected = GKDTrainer.generalized_jsd_loss(student, teacher, labels=labels, beta=beta,
                                               temperature=temperature, reduction="batchmean")
    # α = 0 and the T² factor taken off: the pure KL term, as trl averages it over kept positions
    loss, kl, _ = distill_loss(student, teacher, labels, temperature=temperature, alpha=0.0, direction=direction)
    assert kl == pytest.approx(float(expected), rel=1e-5)
    assert float(loss) == pytest.approx(temperature ** 2 * float(expected), rel=1e-5)


def test_alpha_one_is_plain_cross_entropy_and_needs_no_teacher():
    student, _, labels = _logits(1)
    loss, kl, ce = distill_loss(student, None, labels, temperature=3.0, alpha=1.0)
    expected = torch.nn.functional.cross_entropy(student.reshape(-1, 11), labels.reshape(-1), ignore_index=-100)
    assert float(loss) == pytest.approx(float(expected), rel=1e-6) and ce == pytest.approx(float(expected), rel=1e-6)
    assert kl == 0.0


def test_mix_weights_hard_labels_by_alpha():
    student, teacher, labels = _logits(2)
    loss, kl, ce = distill_loss(student, teacher, labels, temperature=2.0, alpha=0.3)
    assert float(loss) == pytest.approx(0.3 * ce + 0.7 * 4.0 * kl, rel=1e-5)


def test_kl_is_zero_for_the_same_logits_and_positive_otherwise():
    student, teacher, _ = _logits(3)
    assert float(token_kl(teacher, teacher).abs().max()) < 1e-6
    assert bool((token_kl(student, teacher, 2.0) > 0).all())
