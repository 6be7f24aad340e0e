"""One optimizer step of each method, on a LoRA policy whose reference is its adapter switched off.

Each returns a dict of the step's figures (reward mean/std, KL, entropy, completion length, tokens)
for the events. A non-finite reward or loss refuses the step before the update (nothing changes).
"""

from __future__ import annotations

import contextlib
import math
import time

import torch

from playground.core.align.losses import (
    clipped_policy_loss,
    dpo_loss,
    group_advantages,
    leave_one_out_advantages,
    masked_mean,
    per_token_kl,
)
from playground.core.align.policy import group_token_logps, reference, sample, sequence_logps, token_logps
from playground.core.align.ppo import gae, kl_penalized_rewards, ppo_policy_loss, ppo_value_loss, whiten
from playground.core.align.rewards import call_reward, check_rewards
from playground.core.align.shard import Shard
from playground.core.base.errors import PlaygroundError


def _refuse_together(error: PlaygroundError | None, shard: Shard, step: int) -> None:
    """Raise on every process when any process must refuse the step (else the others would wait)."""
    if shard.any(error is not None):
        raise error or PlaygroundError(f"Another process refused step {step + 1} (a non-finite reward or loss).",
                                       "See that process's message; nothing was applied or saved.")


def _finite_or_refuse(loss: torch.Tensor, step: int, shard: Shard | None = None) -> None:
    error = None
    if not math.isfinite(float(loss.detach())):
        error = PlaygroundError(f"The loss became {float(loss)} at step {step + 1} (the training diverged); "
                                "the step was not applied and nothing non-finite was saved.",
                                "Lower the learning rate, or raise beta, and resume from the last checkpoint.")
    _refuse_together(error, shard or Shard(), step)


def _scores(reward_fn, texts, refs, prompts, step: int, shard: Shard) -> torch.Tensor:
    error, values = None, []
    try:
        values = check_rewards(call_reward(reward_fn, texts, refs, prompts), step)
    except PlaygroundError as exc:
        error = exc
    _refuse_together(error, shard, step)
    return torch.tensor(values)


def _update(model_params, optimizer, loss, shard: Shard, max_grad_norm: float) -> None:
    """Backward, gradients averaged across processes, clipping, the optimizer's step."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    shard.sync_gradients(model_params)
    if max_grad_norm > 0:
        torch.nn.utils.clip_grad_norm_(model_params, max_grad_norm)
    optimizer.step()


def online_step(model, tokenizer, optimizer, prompts, references, reward_fn, *, method: str = "grpo",
                group_size: int = 4, max_new_tokens: int = 40, beta: float = 0.1, epsilon: float = 0.2,
                temperature: float = 1.0, step: int = 0, max_grad_norm: float = 1.0,
                shard: Shard | None = None, loss_type: str = "grpo", sampler=None, passes=None) -> dict:
    """GRPO or RLOO: sample a group per prompt, score, advantages against the group, clipped update.

    GRPO puts beta x per-token KL in the loss, averaged per completion (``loss_type`` "grpo") or per
    token of the step ("dapo", trl 1.16's default); RLOO (as trl) subtracts beta x the sequence KL from
    the reward before its leave-one-out baseline. With ``shard`` (several processes) each process
    samples its share of every group and the rewards are gathered before the advantages.

    ``sampler``: the model the completions are sampled from (a ``RolloutCopy``'s BF16 copy of the
    policy; default the policy itself). ``passes``: a context the log-probability passes and the
    backward run in (BF16 autocast; default none).
    """
    began = time.perf_counter()
    shard = shard or Shard()
    passes = passes or contextlib.nullcontext
    n, local = len(prompts), shard.local_group(group_size)
    roll = sample(sampler or model, tokenizer, prompts, local, max_new_tokens, temperature)
    generation_seconds = time.perf_counter() - began
    refs = [r for r in references for _ in range(local)]
    expanded = [p for p in prompts for _ in range(local)]
    rewards = _scores(reward_fn, roll.texts, refs, expanded, step, shard)
    mask = roll.completion_mask.float()
    args = (roll.prompt_ids, roll.prompt_mask, roll.completion_ids, roll.completion_mask)
    # The reference's log-probabilities are measured even at beta 0 (the KL term is then off in the
    # loss): the learner must see the KL climb while the reward is hacked.
    # Each group's prompt is computed once (its keys and values shared by the group's completions)
    # in both passes: the same figures as whole rows, without group_size copies of the prompt.
    with torch.no_grad(), reference(model), passes():
        ref_logps, _ = group_token_logps(model, *args, local, temperature=temperature)
    with passes():
        logps, entropy = group_token_logps(model, *args, local, with_entropy=True, temperature=temperature)
    old = logps.detach()
    if method == "rloo":
        seq_kl = ((old - ref_logps) * mask).sum(-1)
        shaped = rewards - beta * seq_kl
        adv = shard.my_part(leave_one_out_advantages(shard.whole_groups(shaped, n), group_size), n)
        ratio = torch.exp((logps * mask).sum(-1) - (old * mask).sum(-1))
        loss = -torch.min(ratio * adv, torch.clamp(ratio, 1 - epsilon, 1 + epsilon) * adv).mean()
        kl = float(masked_mean(old - ref_logps, mask))
    else:
        adv = shard.my_part(group_advantages(shard.whole_groups(rewards, n), group_size), n)
        # dapo divides by the whole step's tokens over the processes (trl's num_items_in_batch /
        # num_processes): with the gradients averaged, the step is the one-process step
        tokens = shard.total(float(mask.sum())) / shard.world if loss_type == "dapo" else None
        loss, per_kl = clipped_policy_loss(logps, old, adv, mask, ref_logps, beta, epsilon, loss_type, tokens)
        kl = float(masked_mean(per_token_kl(old, ref_logps), mask))
    _finite_or_refuse(loss, step, shard)
    _update([p for p in model.parameters() if p.requires_grad], optimizer, loss, shard, max_grad_norm)
    every = shard.whole_groups(rewards, n)  # the figures are the whole group's, on every process
    tokens = int(shard.total(float(mask.sum())))
    spent = time.perf_counter() - began
    return {"completion_words": shard.mean(sum(len(t.split()) for t in roll.texts) / len(roll.texts)),
            "reward_mean": float(every.mean()), "reward_std": float(every.std()) if len(every) > 1 else 0.0,
            "kl": shard.mean(kl), "entropy": shard.mean(float(masked_mean(entropy.detach(), mask))),
            "loss": shard.mean(float(loss.detach())), "completion_length": tokens / (len(roll.texts) * shard.world),
            "tokens": tokens, "seconds": spent, "tokens_per_s": tokens / max(spent, 1e-9),
            "generation_seconds": generation_seconds, "completions": roll.texts, "advantages": adv.tolist(), "rewards": rewards.tolist(),
            "processes": shard.world, "rollout": roll}


def ppo_step(model, value_head, tokenizer, optimizer, prompts, references, reward_fn, *, max_new_tokens=40,
             kl_coef: float = 0.1, epsilon: float = 0.2, value_clip: float = 0.2, vf_coef: float = 0.1,
             gamma: float = 1.0, lam: float = 0.95, step: int = 0, max_grad_norm: float = 1.0,
             shard: Shard | None = None, sampler=None, passes=None) -> dict:
    """PPO: one completion per prompt, per-token KL folded into the reward, GAE, clipped losses.
    With ``shard`` each process brings its own prompts and the gradients are averaged. ``sampler`` and
    ``passes``: as ``online_step``'s."""
    began = time.perf_counter()
    shard = shard or Shard()
    passes = passes or contextlib.nullcontext
    roll = sample(sampler or model, tokenizer, prompts, 1, max_new_tokens)
    scores = _scores(reward_fn, roll.texts, list(references), list(prompts), step, shard)
    mask = roll.completion_mask.float()
    args = (roll.prompt_ids, roll.prompt_mask, roll.completion_ids, roll.completion_mask)
    with torch.no_grad():
        with reference(model), passes():
            ref_logps, _, _ = token_logps(model, *args)
        with passes():
            old_logps, _, hidden = token_logps(model, *args, hidden=True)
        old_values = value_head(hidden.float())
        rewards = kl_penalized_rewards(scores, old_logps, ref_logps, mask, kl_coef)
        adv, returns = gae(rewards, old_values, mask, gamma, lam)
        adv = whiten(adv, mask)
    with passes():
        logps, entropy, hidden = token_logps(model, *args, with_entropy=True, hidden=True)
    values = value_head(hidden.float())
    pl = ppo_policy_loss(logps, old_logps, adv, mask, epsilon)
    vl = ppo_value_loss(values, old_values, returns, mask, value_clip)
    loss = pl + vf_coef * vl
    _finite_or_refuse(loss, step, shard)
    _update([p for g in optimizer.param_groups for p in g["params"]], optimizer, loss, shard, max_grad_norm)
    tokens = int(shard.total(float(mask.sum())))
    spent = time.perf_counter() - began
    every = shard.whole_groups(scores, 1)
    return {"reward_mean": float(every.mean()), "reward_std": float(every.std()) if len(every) > 1 else 0.0,
            "kl": shard.mean(float(masked_mean(old_logps - ref_logps, mask))),
            "entropy": shard.mean(float(masked_mean(entropy.detach(), mask))),
            "loss": shard.mean(float(loss.detach())), "value_loss": shard.mean(float(vl)),
            "completion_length": tokens / (len(roll.texts) * shard.world),
            "tokens": tokens, "seconds": spent, "tokens_per_s": tokens / max(spent, 1e-9),
            "completions": roll.texts, "rewards": scores.tolist(), "processes": shard.world}


def dpo_step(model, tokenizer, optimizer, pairs, *, beta: float = 0.1, step: int = 0,
             max_grad_norm: float = 1.0, shard: Shard | None = None, passes=None) -> dict:
    """DPO on a batch of pairs: sequence log-probs of chosen and rejected, policy vs reference.
    With ``shard`` each process brings its own pairs and the gradients are averaged. ``passes``: as
    ``online_step``'s."""
    began = time.perf_counter()
    shard = shard or Shard()
    passes = passes or contextlib.nullcontext
    device = next(model.parameters()).device
    prompts = [p.prompt for p in pairs] * 2
    completions = [p.chosen for p in pairs] + [p.rejected for p in pairs]
    with torch.no_grad(), reference(model), passes():
        ref = sequence_logps(model, tokenizer, prompts, completions, device)
    with passes():
        pol = sequence_logps(model, tokenizer, prompts, completions, device)
    pc, pr = pol.chunk(2)
    rc, rr = ref.chunk(2)
    loss, cr, rj = dpo_loss(pc, pr, rc, rr, beta)
    _finite_or_refuse(loss, step, shard)
    _update([p for p in model.parameters() if p.requires_grad], optimizer, loss, shard, max_grad_norm)
    if shard.world > 1:  # the figures are those of every process's pairs together
        cr, rj = shard.whole_groups(cr.detach(), 1), shard.whole_groups(rj.detach(), 1)
    spent = time.perf_counter() - began
    return {"loss": float(loss.detach()), "margin": float((cr - rj).mean()), "accuracy": float((cr > rj).float().mean()),
            "chosen_reward": float(cr.mean()), "rejected_reward": float(rj.mean()), "seconds": spent,
            "reward_mean": float((cr - rj).mean()), "reward_std": float((cr - rj).std()) if len(pairs) > 1 else 0.0,
            "kl": 0.0, "entropy": 0.0, "completion_length": 0.0, "tokens": 0, "tokens_per_s": 0.0}
