"""The losses of alignment, each a few lines of torch so the lesson can show its parts.

All follow trl 1.16's definitions (checked against trl in tests/core/test_align_parity.py):

- ``bradley_terry_loss``: a reward model's loss on ranked pairs, -log sigmoid(r_chosen - r_rejected);
- ``dpo_loss``: Direct Preference Optimization on sequence log-probabilities of policy and reference;
- ``group_advantages`` (GRPO) and ``leave_one_out_advantages`` (RLOO): how much better each
  completion scored than its group;
- ``per_token_kl``: the k3 estimator of KL(policy || reference) at each completion token;
- ``clipped_policy_loss``: the clipped surrogate with the KL penalty weighted by beta, averaged per
  completion ("grpo") or per token of the batch ("dapo", trl 1.16's default ``loss_type``).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from playground.core.align.methods import GRPO_LOSS_TYPES


def bradley_terry_loss(chosen: torch.Tensor, rejected: torch.Tensor) -> torch.Tensor:
    """Mean of -log sigmoid(r_chosen - r_rejected): low when chosen outscores rejected."""
    return -F.logsigmoid(chosen - rejected).mean()


def pair_accuracy(chosen: torch.Tensor, rejected: torch.Tensor) -> float:
    """Share of pairs whose chosen text scored strictly higher (ties count as wrong, as in trl)."""
    return float((chosen > rejected).float().mean())


def dpo_loss(policy_chosen: torch.Tensor, policy_rejected: torch.Tensor, ref_chosen: torch.Tensor,
             ref_rejected: torch.Tensor, beta: float = 0.1) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """DPO's sigmoid loss and its implicit rewards.

    Parameters
    ----------
    policy_chosen, policy_rejected, ref_chosen, ref_rejected
        Summed log-probabilities of each completion (one value per pair) under the policy and the
        reference.
    beta
        How far the policy may move from the reference (higher: closer).

    Returns
    -------
    (loss, chosen_rewards, rejected_rewards)
        The mean loss, and the implicit rewards beta * (log pi - log pi_ref) of each side (detached).
    """
    chosen_ratio = policy_chosen - ref_chosen
    rejected_ratio = policy_rejected - ref_rejected
    loss = -F.logsigmoid(beta * (chosen_ratio - rejected_ratio)).mean()
    return loss, (beta * chosen_ratio).detach(), (beta * rejected_ratio).detach()


def group_advantages(rewards: torch.Tensor, group_size: int, scale: bool = True) -> torch.Tensor:
    """GRPO: each reward less its group's mean, divided by the group's std (+1e-4) when ``scale``.

    ``rewards`` is flat, groups consecutive (group_size completions of one prompt each).
    """
    grouped = rewards.view(-1, group_size)
    adv = grouped - grouped.mean(dim=1, keepdim=True)
    if scale:
        adv = adv / (grouped.std(dim=1, keepdim=True) + 1e-4)
    return adv.reshape(-1)


def leave_one_out_advantages(rewards: torch.Tensor, group_size: int, normalize: bool = False) -> torch.Tensor:
    """RLOO: each reward less the mean of the *other* completions of its group.

    With ``normalize`` the advantages are then standardized over the whole batch (trl's
    ``normalize_advantages``).
    """
    grouped = rewards.view(-1, group_size)
    baseline = (grouped.sum(dim=1, keepdim=True) - grouped) / (group_size - 1)
    adv = (grouped - baseline).reshape(-1)
    if normalize:
        adv = (adv - adv.mean()) / (adv.std() + 1e-4)
    return adv


def per_token_kl(logps: torch.Tensor, ref_logps: torch.Tensor) -> torch.Tensor:
    """k3 estimate of KL(policy || reference) per token: exp(d) - d - 1 with d = ref - policy.

    Never negative, and 0 exactly where the two log-probabilities agree (at the first step,
    when the LoRA adapter is still the identity).
    """
    d = ref_logps - logps
    return torch.exp(d) - d - 1


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of ``x`` over the tokens where ``mask`` is 1."""
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def clipped_policy_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
                        mask: torch.Tensor, ref_logps: torch.Tensor | None = None, beta: float = 0.1,
                        epsilon: float = 0.2, loss_type: str = "grpo",
                        tokens: float | None = None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """GRPO's loss: the clipped surrogate per token, plus beta x per-token KL, aggregated by ``loss_type``.

    Parameters
    ----------
    logps, old_logps, ref_logps
        (completions, tokens) log-probabilities of the sampled tokens: now, when sampled, and
        under the reference (the model with its adapter off). ``ref_logps`` may be None when beta is 0.
    advantages
        One value per completion.
    mask
        1 on real completion tokens, 0 on padding.
    loss_type
        "grpo": the mean over completions of each completion's mean over its tokens. "dapo" (trl
        1.16's default): the sum over every token divided by ``tokens``.
    tokens
        "dapo" only: the tokens to divide by; default the tokens in ``mask``. Under several processes,
        the whole batch's tokens divided by the number of processes (as trl's ``num_items_in_batch /
        num_processes``): with the gradients averaged, the step is one process's on the whole batch.

    Returns
    -------
    (loss, kl)
        The scalar loss and the per-token KL (None when beta is 0). With one update per sample the
        ratio is 1 and the loss is near 0 by construction: plot the reward, not this loss.
    """
    if loss_type not in GRPO_LOSS_TYPES:
        raise ValueError(f"loss_type must be one of {GRPO_LOSS_TYPES}, not {loss_type!r}")
    ratio = torch.exp(logps - old_logps)
    adv = advantages.unsqueeze(1)
    per_token = -torch.min(ratio * adv, torch.clamp(ratio, 1 - epsilon, 1 + epsilon) * adv)
    kl = None
    if beta != 0.0:
        if ref_logps is None:
            raise ValueError("beta > 0 needs the reference log-probabilities")
        kl = per_token_kl(logps, ref_logps)
        per_token = per_token + beta * kl
    if loss_type == "dapo":
        normalizer = mask.sum() if tokens is None else torch.tensor(float(tokens))
        return (per_token * mask).sum() / normalizer.clamp(min=1.0), kl
    loss = ((per_token * mask).sum(-1) / mask.sum(-1).clamp(min=1.0)).mean()
    return loss, kl
