"""Align core without a model: preference checks, rewards, PPO pieces by hand."""

from __future__ import annotations

import json
import math

import pytest
import torch

from playground.core.align import ppo
from playground.core.align.losses import per_token_kl
from playground.core.align.preferences import bundled_preferences, check_pairs, load_preferences
from playground.core.align.rewards import (
    check_rewards,
    combine,
    length_reward,
    positivity_reward,
    rouge_l_reward,
    word_count_reward,
)
from playground.core.base.errors import InputError, PlaygroundError


def test_bundled_pairs_have_every_reason_in_both_splits():
    train, test = bundled_preferences("train"), bundled_preferences("test")
    assert len(train) == 240 and len(test) == 60
    reasons = {p.reason for p in train}
    assert reasons == {"faithful", "concise", "summary", "polite", "third_person"}
    assert {p.reason for p in test} == reasons
    assert not {p.id for p in train} & {p.id for p in test}
    assert all(p.chosen != p.rejected for p in train + test)


def test_build_script_reproduces_the_files():
    import importlib.util
    from playground.core.align.preferences import preferences_dir

    spec = importlib.util.spec_from_file_location("build_pairs", preferences_dir() / "build_pairs.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert mod.main(["--check"]) == 0


def _write(tmp_path, rows):
    p = tmp_path / "prefs.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def test_bad_preference_files_get_plain_messages(tmp_path):
    good = {"prompt": "p", "chosen": "a", "rejected": "b"}
    with pytest.raises(InputError, match="lacks the column.*rejected"):
        load_preferences(_write(tmp_path, [{"prompt": "p", "chosen": "a"}]))
    with pytest.raises(InputError, match="0 usable pair.*2 tie"):
        load_preferences(_write(tmp_path, [{"prompt": "p", "chosen": "a", "rejected": "a"}] * 2))
    with pytest.raises(InputError, match="1 usable pair"):
        load_preferences(_write(tmp_path, [good]))
    with pytest.raises(InputError, match="1 usable pair.*2 duplicate"):
        load_preferences(_write(tmp_path, [good] * 3))
    with pytest.raises(InputError, match="not valid JSON"):
        (tmp_path / "x.jsonl").write_text("{oops\n")
        load_preferences(tmp_path / "x.jsonl")
    pairs = check_pairs([good, good, {"prompt": "q", "chosen": "c", "rejected": "d"}])
    assert [p.prompt for p in pairs] == ["p", "q"]


def test_rewards_and_their_combination():
    assert rouge_l_reward(["the cat sat"], ["the cat sat"]) == [pytest.approx(1.0)]
    assert length_reward(4)(["a b c d", "a b", ""]) == [1.0, 0.5, 0.0]
    assert word_count_reward("Person")(["#Person1# and #Person2#", "nobody"]) == [2.0, 0.0]
    polite, rude = positivity_reward(["Thank you, that is lovely.", "You are a stupid, awful idiot."])
    assert polite > 0.5 and rude < -0.5
    mixed = combine([(word_count_reward("a"), 2.0), (length_reward(2), 1.0)])
    assert mixed(["a a", "b"]) == [pytest.approx(2 * 2 + 1.0), pytest.approx(0 + 0.5)]


def test_a_non_finite_reward_refuses_the_step():
    assert check_rewards([1, 2.5]) == [1.0, 2.5]
    for bad in (math.nan, math.inf):
        with pytest.raises(PlaygroundError, match="finite number.*not applied"):
            check_rewards([0.0, bad], step=3)


def test_kl_estimator_is_zero_when_equal_and_positive_otherwise():
    a = torch.tensor([-1.0, -2.0])
    assert torch.all(per_token_kl(a, a) == 0)
    assert torch.all(per_token_kl(a, a + torch.tensor([0.3, -0.4])) > 0)
    # exp(d) - d - 1 with d = 0.5
    assert float(per_token_kl(torch.tensor([0.0]), torch.tensor([0.5]))) == pytest.approx(math.exp(0.5) - 1.5)


def test_ppo_pieces_by_hand():
    mask = torch.tensor([[1.0, 1.0, 0.0]])
    logps, ref = torch.tensor([[-1.0, -2.0, 0.0]]), torch.tensor([[-1.5, -1.0, 0.0]])
    r = ppo.kl_penalized_rewards(torch.tensor([2.0]), logps, ref, mask, kl_coef=0.1)
    # -0.1 * (logp - ref): -0.05 at t0, +0.1 at t1, plus the score 2 at the last real token
    assert torch.allclose(r, torch.tensor([[-0.05, 2.1, 0.0]]))
    values = torch.tensor([[0.5, 1.0, 9.0]])
    adv, ret = ppo.gae(r, values, mask, gamma=1.0, lam=0.5)
    # t1: delta = 2.1 + 0 - 1.0 = 1.1 ; t0: delta = -0.05 + 1.0 - 0.5 = 0.45, adv = 0.45 + 0.5 * 1.1 = 1.0
    assert torch.allclose(adv, torch.tensor([[1.0, 1.1, 0.0]]))
    assert torch.allclose(ret, torch.tensor([[1.5, 2.1, 0.0]]))
    # ratio exp(0.5) = 1.6487 clipped to 1.2 for a positive advantage: -min(1.6487, 1.2) * 1 = -1.2
    pl = ppo.ppo_policy_loss(torch.tensor([[0.5]]), torch.tensor([[0.0]]), torch.tensor([[1.0]]), torch.ones(1, 1))
    assert float(pl) == pytest.approx(-1.2)
    # value 1.0 from old 0.0, clipped to 0.2; return 1.0: max((1-1)^2, (0.2-1)^2) * 0.5 = 0.32
    vl = ppo.ppo_value_loss(torch.tensor([[1.0]]), torch.tensor([[0.0]]), torch.tensor([[1.0]]), torch.ones(1, 1))
    assert float(vl) == pytest.approx(0.32)


def test_the_readme_align_job_file_is_every_key_with_its_default(tmp_path):
    import re
    from pathlib import Path

    from playground.core.align.config import AlignConfig, load_align_config

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text[text.index("## Align"):], re.S).group(1)
    (tmp_path / "job.toml").write_text(block, encoding="utf-8")
    documented = load_align_config(tmp_path / "job.toml").to_dict()
    defaults = AlignConfig().to_dict()
    assert Path(documented["output"].pop("dir")) == tmp_path / defaults["output"].pop("dir")
    assert documented == defaults


def test_minimal_align_job_and_bad_settings(tmp_path):
    from playground.core.align.config import load_align_config

    job = tmp_path / "job.toml"
    job.write_text('[method]\nname = "dpo"\n[training]\nmax_steps = 3\n')
    cfg = load_align_config(job)
    assert cfg.method.name == "dpo" and cfg.training.max_steps == 3 and cfg.model.source == "bundled"
    job.write_text('[method]\nbeta = -0.1\n')
    with pytest.raises(InputError, match="method.beta cannot be negative"):
        load_align_config(job)
    job.write_text('[method]\nbetta = 0.1\n')
    with pytest.raises(InputError, match="Unknown setting 'method.betta'"):
        load_align_config(job)


def test_reward_presets_live_in_core_and_apply_over_a_job():
    from playground.core.align.config import AlignConfig
    from playground.core.align.presets import HACK, REWARD_PRESETS, apply_preset, matching_preset, reward_preset

    cfg = apply_preset(AlignConfig(), "hacking")
    assert cfg.method.rewards == ["word_count"] and cfg.method.weights == [1.0] and cfg.method.beta == 0.0
    assert (cfg.method.temperature, cfg.training.learning_rate, cfg.training.max_steps) == (
        HACK["method.temperature"], HACK["training.learning_rate"], HACK["training.max_steps"])
    assert reward_preset("Same reward, beta 0.5 (KL holds it)") is REWARD_PRESETS["hacking_kl"]  # by its label
    assert matching_preset(["word_count"], [1], 0.5).key == "hacking_kl"
    assert matching_preset(["rouge_l", "positivity"], [1.0, 0.5]).key == "rouge_l+positivity"
    assert matching_preset(["length"], [2.0]) is None
    with pytest.raises(InputError, match="no reward preset called 'nope'.*hacking_kl"):
        reward_preset("nope")


def test_every_method_has_its_facts_and_the_job_does_not_branch_on_names():
    import re
    from pathlib import Path

    from playground.core.align.config import ALIGN_METHODS, AlignConfig
    from playground.core.align.methods import ALIGN_METHOD_FACTS

    assert set(ALIGN_METHODS) == set(ALIGN_METHOD_FACTS)
    assert [f.name for f in ALIGN_METHOD_FACTS.values() if not f.trains_policy] == ["reward_model"]
    assert [f.name for f in ALIGN_METHOD_FACTS.values() if f.value_head] == ["ppo"]
    assert {f.name for f in ALIGN_METHOD_FACTS.values() if f.shares_groups} == {"grpo", "rloo"}
    job = (Path(__file__).resolve().parents[2] / "playground" / "core" / "align" / "job.py").read_text()
    assert not re.search(r"\.name (==|!=|in) [(\"]", job)
    m = AlignConfig().method
    assert m.full_reward_lr() == 5e-5  # auto on the encoder
    m.reward_backbone = "policy"
    assert m.full_reward_lr() == 1e-4
    m.reward_lr = 3e-4
    assert m.full_reward_lr() == 3e-4


def test_prompts_are_cut_to_their_last_tokens(bundled_tokenizer):
    from playground.core.align.preferences import cut_prompts, pairs_of, truncate_prompt

    pair = pairs_of("bundled", "train", 1)[0]
    cut = truncate_prompt(bundled_tokenizer, pair.prompt, 20)
    assert len(bundled_tokenizer(cut, add_special_tokens=False)["input_ids"]) <= 21 and pair.prompt.endswith(cut.strip())
    assert truncate_prompt(bundled_tokenizer, "Short.", 20) == "Short."
    (back,) = cut_prompts([pair], bundled_tokenizer, 20)
    assert back.prompt == cut and (back.chosen, back.rejected, back.id) == (pair.chosen, pair.rejected, pair.id)
