"""The align core's losses against trl 1.16's own code on the same tiny inputs.

trl's trainers are called as functions on a minimal stand-in for ``self`` (the attributes their
loss code reads), so the comparison runs trl's arithmetic itself, not a copy of it.
"""

from __future__ import annotations

from types import SimpleNamespace
from collections import defaultdict

import pytest
import torch

trl = pytest.importorskip("trl")

from playground.core.align.losses import (  # noqa: E402
    bradley_terry_loss,
    clipped_policy_loss,
    dpo_loss,
    group_advantages,
    leave_one_out_advantages,
    pair_accuracy,
    per_token_kl,
)


class _Acc:
    device = torch.device("cpu")
    num_processes = 1
    sync_gradients = True

    def gather(self, x):
        return x

    gather_for_metrics = gather

    def reduce(self, x, reduction="sum"):
        return x

    def unwrap_model(self, m):
        return m


def test_reward_model_loss_and_accuracy_match_reward_trainer():
    from trl import RewardTrainer

    torch.manual_seed(1)
    chosen, rejected = torch.randn(6), torch.randn(6)
    logits = torch.cat([chosen, rejected]).unsqueeze(-1)
    me = SimpleNamespace(model=SimpleNamespace(training=True), args=SimpleNamespace(center_rewards_coefficient=None),
                         accelerator=_Acc(), _total_train_tokens=0, _tp_size=1, _metrics={"train": defaultdict(list)})
    fake_model = lambda **kw: SimpleNamespace(logits=logits)  # noqa: E731
    inputs = {"input_ids": torch.zeros(12, 3, dtype=torch.long), "attention_mask": torch.ones(12, 3)}
    theirs = RewardTrainer.compute_loss(me, fake_model, inputs)
    assert float(bradley_terry_loss(chosen, rejected)) == pytest.approx(float(theirs), abs=1e-6)
    assert pair_accuracy(chosen, rejected) == pytest.approx(me._metrics["train"]["accuracy"][0])


def test_dpo_loss_and_implicit_rewards_match_dpo_trainer():
    from trl import DPOTrainer

    torch.manual_seed(2)
    n, T = 3, 5
    per_token = torch.randn(2 * n, T) * 0.5 - 2
    ref_per_token = per_token + torch.randn(2 * n, T) * 0.3
    mask = torch.ones(2 * n, T + 1, dtype=torch.long)
    extra = {"entropy": torch.ones(2 * n, T), "mean_logits": torch.zeros(2 * n, T),
             "is_top1": torch.zeros(2 * n, T, dtype=torch.bool)}
    calls = iter([SimpleNamespace(log_probs=per_token, **extra), SimpleNamespace(log_probs=ref_per_token, **extra)])

    class _Model(torch.nn.Module):
        is_gradient_checkpointing = False

        def forward(self, **kw):
            return next(calls)

    fake_model = _Model()
    beta = 0.1
    me = SimpleNamespace(model=fake_model, accelerator=_Acc(), aux_loss_enabled=False, _total_train_tokens=0, _tp_size=1,
                         ld_alpha=None, precompute_ref_logps=False, ref_model=fake_model,
                         args=SimpleNamespace(gradient_checkpointing_kwargs=None), f_divergence_type="reverse_kl",
                         loss_types=["sigmoid"], loss_weights=[1.0], beta=beta, label_smoothing=0.0,
                         use_weighting=False, rpo_alpha=None, _metrics={"train": defaultdict(list)})
    inputs = {"input_ids": torch.zeros(2 * n, T + 1, dtype=torch.long), "completion_mask": mask,
              "attention_mask": torch.ones(2 * n, T + 1, dtype=torch.long)}
    try:
        theirs = DPOTrainer._compute_loss(me, fake_model, inputs, return_outputs=False)
    except AttributeError as exc:  # trl reads an attribute this stand-in lacks: say which
        pytest.fail(f"stand-in for DPOTrainer lacks {exc}")
    pol, ref = per_token.sum(1), ref_per_token.sum(1)
    loss, cr, rr = dpo_loss(*pol.chunk(2), *ref.chunk(2), beta)
    assert float(loss) == pytest.approx(float(theirs), abs=1e-6)
    m = me._metrics["train"]
    assert float(cr.mean()) == pytest.approx(m["rewards/chosen"][0], abs=1e-6)
    assert float(rr.mean()) == pytest.approx(m["rewards/rejected"][0], abs=1e-6)
    assert float((cr > rr).float().mean()) == pytest.approx(m["rewards/accuracies"][0], abs=1e-6)


def _grpo_self(beta, logps, entropies, loss_type="grpo"):
    return SimpleNamespace(
        model=SimpleNamespace(training=True), accelerator=_Acc(), beta=beta, loss_type=loss_type,
        top_entropy_quantile=1.0, off_policy_mask_threshold=None, importance_sampling_level="token",
        epsilon_low=0.2, epsilon_high=0.2,
        args=SimpleNamespace(use_bias_correction_kl=False, delta=None, steps_per_generation=1),
        use_vllm=False, vllm_importance_sampling_correction=False, current_gradient_accumulation_steps=1,
        _entropy_bonus_enabled=False, aux_loss_enabled=False, _metrics={"train": defaultdict(list)},
        _get_per_token_logps_and_entropies=lambda *a, **k: (logps, entropies, None))


def _grpo_batch():
    """Four completions of different lengths (one cut to 4 of 6 tokens, one to 1), so the two
    aggregations (per completion, per token) give different losses."""
    torch.manual_seed(3)
    B, T = 4, 6
    logps = (torch.randn(B, T) * 0.3 - 1.5).requires_grad_()
    ref = logps.detach() + torch.randn(B, T) * 0.2
    mask = torch.ones(B, T, dtype=torch.long)
    mask[1, 4:] = 0
    mask[3, 1:] = 0
    adv = group_advantages(torch.tensor([1.0, 0.0, 2.0, 0.5]), 4)
    return logps, ref, mask, adv


@pytest.mark.parametrize("loss_type", ["grpo", "dapo"])
@pytest.mark.parametrize("beta", [0.1, 0.0])
def test_grpo_loss_and_kl_match_grpo_trainer(beta, loss_type):
    # trl 1.16's GRPOConfig defaults to loss_type="dapo" (every token of the batch weighs the same);
    # "grpo" averages each completion first. Both are offered (method.loss_type) and match trl's own.
    from trl import GRPOConfig, GRPOTrainer

    assert GRPOConfig.__dataclass_fields__["loss_type"].default == "dapo"
    logps, ref, mask, adv = _grpo_batch()
    B, T = mask.shape
    me = _grpo_self(beta, logps, torch.rand(B, T), loss_type)
    inputs = {"prompt_ids": torch.zeros(B, 2, dtype=torch.long), "prompt_mask": torch.ones(B, 2, dtype=torch.long),
              "completion_ids": torch.zeros(B, T, dtype=torch.long), "completion_mask": mask,
              "advantages": adv, "ref_per_token_logps": ref, "num_items_in_batch": mask.sum()}
    theirs = GRPOTrainer._compute_loss(me, None, inputs)
    mine, kl = clipped_policy_loss(logps, logps.detach(), adv, mask.float(), ref, beta, loss_type=loss_type)
    other, _ = clipped_policy_loss(logps, logps.detach(), adv, mask.float(), ref, beta,
                                   loss_type={"grpo": "dapo", "dapo": "grpo"}[loss_type])
    assert abs(float(other) - float(theirs)) > 1e-3  # the batch tells the two apart
    assert float(mine) == pytest.approx(float(theirs), abs=1e-6)
    if beta:
        k = float((per_token_kl(logps, ref) * mask).sum() / mask.sum())
        assert k == pytest.approx(me._metrics["train"]["kl"][0], abs=1e-6)
    else:
        assert "kl" not in me._metrics["train"] and kl is None
    g_mine = torch.autograd.grad(mine, logps, retain_graph=True)[0]
    g_theirs = torch.autograd.grad(theirs, logps)[0]
    assert torch.allclose(g_mine, g_theirs, atol=1e-6)


def test_dapo_over_two_processes_is_the_one_process_loss():
    # trl divides each process's token sum by the whole batch's tokens / processes, and gradients are
    # averaged: the same step as one process with the whole batch. The app's shards do the same.
    logps, ref, mask, adv = _grpo_batch()
    whole, _ = clipped_policy_loss(logps, logps.detach(), adv, mask.float(), ref, 0.1, loss_type="dapo")
    g_whole = torch.autograd.grad(whole, logps)[0]
    per_process = float(mask.sum()) / 2
    halves = [clipped_policy_loss(logps[i:i + 2], logps[i:i + 2].detach(), adv[i:i + 2], mask[i:i + 2].float(),
                                  ref[i:i + 2], 0.1, loss_type="dapo", tokens=per_process)[0] for i in (0, 2)]
    assert float(sum(halves) / 2) == pytest.approx(float(whole), abs=1e-6)
    g_halves = torch.autograd.grad(sum(halves) / 2, logps)[0]
    assert torch.allclose(g_halves, g_whole, atol=1e-6)


def _trl_group_advantages(rewards, n):
    """trl's GRPO advantages, through its own nanstd helper (the arithmetic inlined in its trainer)."""
    from trl.trainer.utils import nanstd

    grouped = rewards.view(-1, n)
    mean = torch.nanmean(grouped, dim=1).repeat_interleave(n)
    std = nanstd(grouped, dim=1).repeat_interleave(n)
    return (rewards - mean) / (std + 1e-4)


def test_group_advantages_match_trls_formula():
    rewards = torch.tensor([1.0, 2.0, 4.0, 0.0, 3.0, 3.0, 3.0, 3.0])
    assert torch.allclose(group_advantages(rewards, 4), _trl_group_advantages(rewards, 4), atol=1e-6)
    # a group whose completions all scored the same teaches nothing: advantages 0
    assert torch.all(group_advantages(rewards, 4)[4:] == 0)


def test_leave_one_out_advantages_by_hand():
    rewards = torch.tensor([1.0, 2.0, 6.0])
    # baselines: (2+6)/2=4, (1+6)/2=3.5, (1+2)/2=1.5
    assert torch.allclose(leave_one_out_advantages(rewards, 3), torch.tensor([-3.0, -1.5, 4.5]))


def test_token_logps_at_the_sampling_temperature_match_trls_fused_lm_head(tiny_llama_dir):
    # trl's GRPO scores completions at the temperature they were sampled at (policy and reference)
    from transformers import AutoModelForCausalLM
    from trl.trainer.utils import add_fused_lm_head

    from playground.core.align.policy import token_logps

    mine_model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir)).eval()
    theirs_model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir)).eval()
    add_fused_lm_head(theirs_model, temperature=0.7, outputs=("log_probs", "entropy"))
    torch.manual_seed(0)
    P, T = 5, 4
    prompt_ids, completion_ids = torch.randint(10, 5000, (2, P)), torch.randint(10, 5000, (2, T))
    ones_p, ones_c = torch.ones(2, P, dtype=torch.long), torch.ones(2, T, dtype=torch.long)
    with torch.no_grad():
        mine, entropy, _ = token_logps(mine_model, prompt_ids, ones_p, completion_ids, ones_c, with_entropy=True,
                                       temperature=0.7)
        at_one, _, _ = token_logps(mine_model, prompt_ids, ones_p, completion_ids, ones_c)
        ids = torch.cat([prompt_ids, completion_ids], dim=1)
        labels = ids.clone()
        labels[:, :-T] = -100
        out = theirs_model(input_ids=ids, attention_mask=torch.ones_like(ids), labels=labels, fused_lm_head=True)
    assert torch.allclose(mine, out.log_probs[:, -T:], atol=1e-5)
    assert torch.allclose(entropy, out.entropy[:, -T:], atol=1e-4)
    assert not torch.allclose(mine, at_one, atol=1e-3)  # the temperature matters
