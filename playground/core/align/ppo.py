"""PPO as the course teaches it: a value head, the KL penalty folded into the reward, GAE, and the
clipped policy and value losses (trl's PPOTrainer up to 1.12 did the same; it was removed after
1.12, so these are tested against hand-computed values).
"""

from __future__ import annotations

import torch


class ValueHead(torch.nn.Module):
    """A scalar value per position from the policy's last hidden states."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(hidden_size, 1)
        torch.nn.init.zeros_(self.linear.bias)
        torch.nn.init.normal_(self.linear.weight, std=1.0 / (hidden_size + 1))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(hidden.float()).squeeze(-1)


def kl_penalized_rewards(score: torch.Tensor, logps: torch.Tensor, ref_logps: torch.Tensor,
                         mask: torch.Tensor, kl_coef: float) -> torch.Tensor:
    """Per-token rewards: -kl_coef x (log pi - log pi_ref) at every token, the score added at the last.

    ``score`` is one reward per completion; ``mask`` marks real tokens (the last 1 gets the score).
    The estimator log pi - log pi_ref can be negative on a sample: PPO's KL is noisy.
    """
    rewards = -kl_coef * (logps - ref_logps) * mask
    last = mask.sum(-1).long().clamp(min=1) - 1
    rewards[torch.arange(len(score)), last] += score
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float = 1.0,
        lam: float = 0.95) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalized advantage estimates and returns (advantages + values), right to left per token."""
    T = rewards.size(1)
    adv = torch.zeros_like(rewards)
    running = torch.zeros(rewards.size(0), dtype=rewards.dtype, device=rewards.device)
    values = values * mask
    for t in reversed(range(T)):
        next_value = values[:, t + 1] if t + 1 < T else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = (delta + gamma * lam * running) * mask[:, t]
        adv[:, t] = running
    return adv, adv + values


def ppo_policy_loss(logps: torch.Tensor, old_logps: torch.Tensor, advantages: torch.Tensor,
                    mask: torch.Tensor, epsilon: float = 0.2) -> torch.Tensor:
    """Clipped surrogate per token (advantages per token), mean over real tokens."""
    ratio = torch.exp(logps - old_logps)
    loss = -torch.min(ratio * advantages, torch.clamp(ratio, 1 - epsilon, 1 + epsilon) * advantages)
    return (loss * mask).sum() / mask.sum().clamp(min=1.0)


def ppo_value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
                   mask: torch.Tensor, clip: float = 0.2) -> torch.Tensor:
    """0.5 x max(unclipped, clipped) squared error of the value head, mean over real tokens."""
    clipped = old_values + torch.clamp(values - old_values, -clip, clip)
    loss = torch.max((values - returns) ** 2, (clipped - returns) ** 2)
    return 0.5 * (loss * mask).sum() / mask.sum().clamp(min=1.0)


def whiten(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Standardize over real tokens (PPO whitens advantages before the policy loss)."""
    mean = (x * mask).sum() / mask.sum()
    var = (((x - mean) ** 2) * mask).sum() / mask.sum()
    return (x - mean) * torch.rsqrt(var + 1e-8) * mask
