"""Align methods on a tiny random Llama: each does what it claims (toy data, a few steps)."""

from __future__ import annotations

import pytest
import torch

from playground.core.align.preferences import PreferencePair
from playground.core.align.rewards import length_reward
from playground.core.align.steps import dpo_step, online_step, ppo_step
from playground.core.base.errors import PlaygroundError


def _policy(tiny_llama_dir, r=8):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    tok = AutoTokenizer.from_pretrained(str(tiny_llama_dir))
    model = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, target_modules=["q_proj", "v_proj"],
                                             lora_dropout=0.0))
    return model, tok


PROMPTS = ["Summarize: the cat sat on the mat.", "Summarize: two friends meet for lunch."]


def test_grpo_kl_is_zero_first_then_positive_and_the_update_favours_high_advantages(tiny_llama_dir):
    from playground.core.align.policy import token_logps

    model, tok = _policy(tiny_llama_dir)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=5e-2)
    reward = length_reward(200)  # more words, more reward
    torch.manual_seed(1)
    first = online_step(model, tok, opt, PROMPTS, ["", ""], reward, group_size=4, max_new_tokens=12, beta=0.1)
    assert first["kl"] == pytest.approx(0.0, abs=1e-7)  # the adapter starts as the identity
    roll, adv = first["rollout"], torch.tensor(first["advantages"])
    with torch.no_grad():
        after, _, _ = token_logps(model, roll.prompt_ids, roll.prompt_mask, roll.completion_ids, roll.completion_mask)
        with model.disable_adapter():
            before, _, _ = token_logps(model, roll.prompt_ids, roll.prompt_mask, roll.completion_ids,
                                       roll.completion_mask)
    gain = ((after - before) * roll.completion_mask).sum(-1)
    # the step made completions with positive advantage likelier and those with negative less likely
    assert float(gain[adv > 0].mean()) > float(gain[adv < 0].mean())
    later = [online_step(model, tok, opt, PROMPTS, ["", ""], reward, group_size=4, max_new_tokens=12, beta=0.1,
                         step=i)["kl"] for i in range(1, 3)]
    assert max(later) > 1e-4


def test_beta_zero_switches_the_kl_term_off_but_still_measures_kl_and_rloo_runs(tiny_llama_dir):
    model, tok = _policy(tiny_llama_dir)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    s = online_step(model, tok, opt, PROMPTS, ["", ""], length_reward(5), group_size=3, max_new_tokens=6, beta=0.0)
    assert s["kl"] == 0.0 and len(s["advantages"]) == 6
    # the policy moved: the KL the lesson shows beside a hacked reward is measured, not assumed 0
    s = online_step(model, tok, opt, PROMPTS, ["", ""], length_reward(5), group_size=3, max_new_tokens=6, beta=0.0,
                    step=1)
    assert s["kl"] > 0.0
    s = online_step(model, tok, opt, PROMPTS, ["", ""], length_reward(5), method="rloo", group_size=3,
                    max_new_tokens=6, beta=0.1)
    assert len(s["completions"]) == 6 and all(map(lambda v: v == v, s["advantages"]))


def test_nan_reward_refuses_the_step_and_changes_nothing(tiny_llama_dir):
    model, tok = _policy(tiny_llama_dir)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    with pytest.raises(PlaygroundError, match="finite"):
        online_step(model, tok, opt, PROMPTS, ["", ""], lambda c, r: [float("nan")] * len(c),
                    group_size=2, max_new_tokens=4)
    assert all(torch.equal(p, before[n]) for n, p in model.named_parameters() if p.requires_grad)


def test_dpo_raises_the_margin(tiny_llama_dir):
    model, tok = _policy(tiny_llama_dir)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-2)
    pairs = [PreferencePair("Summarize: a walk in the park.", "They walk in the park.", "Rude nonsense, go away."),
             PreferencePair("Summarize: buying a bike.", "Someone buys a bike.", "I hate bikes and you.")]
    stats = [dpo_step(model, tok, opt, pairs, beta=0.1, step=i) for i in range(6)]
    assert stats[0]["margin"] == pytest.approx(0.0, abs=1e-5)
    assert stats[-1]["margin"] > 0.01 and stats[-1]["accuracy"] == 1.0


def test_ppo_step_runs_and_learns_a_value(tiny_llama_dir):
    from playground.core.align.ppo import ValueHead

    model, tok = _policy(tiny_llama_dir)
    head = ValueHead(model.config.hidden_size)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad] + list(head.parameters()), lr=1e-2)
    stats = [ppo_step(model, head, tok, opt, PROMPTS, ["", ""], length_reward(5), max_new_tokens=6, step=i)
             for i in range(4)]
    assert all(torch.isfinite(torch.tensor(s["loss"])) for s in stats)
    assert stats[-1]["value_loss"] < stats[0]["value_loss"]


def test_quick_reward_model_separates_a_toy_preference_set(tiny_llama_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from playground.core.align.reward_model import RewardModel

    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    tok = AutoTokenizer.from_pretrained(str(tiny_llama_dir))
    # chosen texts are polite sentences, rejected ones end in an insult: a cue the features carry
    topics = ["lunch", "the bus", "a bike", "the exam", "rent", "a cat", "the train", "a cake", "the rain",
              "a film", "the shop", "a party", "the dentist", "a book", "the park", "a job"]
    pairs = [PreferencePair(f"About {t}:", f"They talk about {t} kindly.", f"{t} stupid idiot idiot")
             for t in topics]
    rm = RewardModel(model, tok, "quick")
    report = rm.train_quick(pairs[:12], pairs[12:], steps=200)
    assert report.train_accuracy == 1.0
    assert report.test_accuracy >= 0.75
    assert report.losses[-1] < report.losses[0]


def test_rollouts_decode_on_the_idle_cores_threads_and_give_the_count_back(tiny_llama_dir, monkeypatch):
    """GRPO's rollouts and the monitor's greedy summaries follow the decode step's thread rule."""
    from playground.core.align import monitor, policy
    from playground.core.decoding import decode_speed

    model, tok = _policy(tiny_llama_dir)
    seen = []
    generate = model.generate

    def counting_generate(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return generate(*args, **kwargs)

    monkeypatch.setattr(model, "generate", counting_generate)
    monkeypatch.setattr(decode_speed, "decode_threads", lambda device: 1)
    before = torch.get_num_threads()
    with decode_speed.intra_op_threads(2):
        rollout = policy.sample(model, tok, PROMPTS[:1], group_size=2, max_new_tokens=4)
        texts = monitor.greedy(model, tok, PROMPTS[:1], max_new_tokens=4)
        assert torch.get_num_threads() == 2  # the training passes keep their own count
    assert seen == [1, 1] and len(rollout.texts) == 2 and len(texts) == 1
    assert torch.get_num_threads() == before
