"""The distillation loss: the KL between teacher and student at a temperature T, mixed with the
ordinary next-token loss on the real text by a weight α (Hinton et al., 2015)::

    loss = α · CE(student, labels) + (1 − α) · T² · KL(teacher_T ‖ student_T)

α weighs the hard labels (α = 1: labels only, an ordinary fine-tuning of the small model). The KL
is summed over the vocabulary at each position whose label is kept, as trl's GKD computes it
(``generalized_jsd_loss`` at β = 0 is this forward KL, at β = 1 the reverse one).
"""

from __future__ import annotations

from dataclasses import dataclass

IGNORE = -100


@dataclass
class LossParts:
    """Sums over the kept positions (divide by ``tokens`` for means)."""

    total: object      # the tensor to back-propagate: α·ce + (1−α)·T²·kl
    kl: float          # KL(teacher_T ‖ student_T) (or the reverse), summed over positions
    ce: float          # next-token cross-entropy on the labels, summed over positions
    tokens: int


def token_kl(student_logits, teacher_logits, temperature: float = 1.0, direction: str = "forward"):
    """The KL at each position ([..., vocab] -> [...]), in nats, both sides softened by T.

    forward: KL(teacher ‖ student) = Σ p_t (log p_t − log p_s); reverse: KL(student ‖ teacher).
    """
    import torch.nn.functional as F

    log_s = F.log_softmax(student_logits.float() / temperature, dim=-1)
    log_t = F.log_softmax(teacher_logits.float() / temperature, dim=-1)
    if direction == "reverse":
        log_t, log_s = log_s, log_t
    return (log_t.exp() * (log_t - log_s)).sum(-1)


def distill_loss_sum(student_logits, teacher_logits, labels, temperature: float, alpha: float,
                     direction: str = "forward") -> LossParts:
    """The distillation loss summed over the positions whose label is not -100.

    Parameters
    ----------
    student_logits, teacher_logits
        [batch, positions, vocab], aligned: position i of both predicts ``labels[..., i]``.
        ``teacher_logits`` may be None when α = 1 (no teacher is needed for the labels alone).
    labels
        [batch, positions] next-token ids, -100 where nothing is predicted.
    temperature
        T > 0, dividing both models' logits in the KL term.
    alpha
        Weight of the hard-label cross-entropy, 0-1; the KL term gets 1 − α and T².
    """
    import torch
    import torch.nn.functional as F

    keep = labels != IGNORE
    n = int(keep.sum())
    s = student_logits[keep].float()
    ce = F.cross_entropy(s, labels[keep], reduction="sum")
    total = alpha * ce
    kl_value = 0.0
    if alpha < 1:
        if teacher_logits is None:
            raise ValueError("the soft targets need the teacher's logits (alpha < 1)")
        kl = token_kl(s, teacher_logits[keep], temperature, direction).sum()
        total = total + (1 - alpha) * temperature ** 2 * kl
        kl_value = float(kl.detach())
    return LossParts(total if n else torch.zeros((), device=student_logits.device, requires_grad=True),
                     kl_value, float(ce.detach()), n)


def distill_loss(student_logits, teacher_logits, labels, temperature: float = 2.0, alpha: float = 0.5,
                 direction: str = "forward") -> tuple:
    """(mean loss, mean KL, mean cross-entropy) per kept position (see ``distill_loss_sum``)."""
    parts = distill_loss_sum(student_logits, teacher_logits, labels, temperature, alpha, direction)
    n = max(1, parts.tokens)
    return parts.total / n, parts.kl / n, parts.ce / n
