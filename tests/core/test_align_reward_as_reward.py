"""A trained quick reward model as the policy's reward: saved, loaded on the policy's frozen
backbone, scoring (prompt, completion) pairs; refused in plain words when it does not fit."""

from __future__ import annotations

import json

import pytest
import torch

from playground.core.align.preferences import PreferencePair
from playground.core.align.reward_model import RewardModel
from playground.core.align.rewards import call_reward, combine, length_reward, make_reward
from playground.core.base.errors import PlaygroundError

PAIRS = [PreferencePair(f"About {t}:", f"They talk about {t} kindly.", f"{t} stupid idiot idiot")
         for t in ("lunch", "the bus", "a bike", "the exam", "rent", "a cat", "the train", "a cake")]


def _base(tiny_llama_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir)),
            AutoTokenizer.from_pretrained(str(tiny_llama_dir)))


def test_saved_reward_model_scores_the_same_after_loading_and_through_the_policys_frozen_weights(
        tiny_llama_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    model, tok = _base(tiny_llama_dir)
    rm = RewardModel(model, tok, "quick")
    rm.train_quick(PAIRS, steps=50)
    path = rm.save(tmp_path / "rm" / "reward_head.safetensors", "tiny")
    prompts, texts = [p.prompt for p in PAIRS[:3]], [p.chosen for p in PAIRS[:3]]
    want = rm.score(prompts, texts)

    policy_base, _ = _base(tiny_llama_dir)
    policy = get_peft_model(policy_base, LoraConfig(r=4, target_modules=["q_proj", "v_proj"], lora_dropout=0.0))
    with torch.no_grad():  # move the adapter away from zero: the policy now differs from the base
        for name, p in policy.named_parameters():
            if "lora_B" in name:
                p.add_(0.5)
    loaded = RewardModel.load(tmp_path / "rm", policy, tok)  # a run folder works as well as the file
    reward = make_reward("reward_model", reward_model=loaded)
    assert reward.needs_prompts
    got = call_reward(reward, texts, [], prompts)
    assert got == pytest.approx(want, abs=1e-4)  # scored with the adapter off: the frozen base's features
    assert loaded.score(prompts, texts) != pytest.approx(want, abs=1e-4)  # (the policy itself differs)
    mix = combine([(reward, 1.0), (length_reward(3), 2.0)])
    assert mix.needs_prompts
    lengths = length_reward(3)(texts)
    assert call_reward(mix, texts, [], prompts) == pytest.approx([w + 2 * n for w, n in zip(want, lengths)], abs=1e-4)
    with pytest.raises(PlaygroundError, match="prompt of every completion"):
        reward(texts, [])


def test_reward_models_that_do_not_fit_are_refused_in_plain_words(tiny_llama_dir, tmp_path):
    model, tok = _base(tiny_llama_dir)
    with pytest.raises(PlaygroundError, match="There is no reward model"):
        RewardModel.load(tmp_path / "nowhere", model, tok)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a safetensors file")
    with pytest.raises(PlaygroundError, match="not a reward model this app can read"):
        RewardModel.load(junk, model, tok)
    other = RewardModel(model, tok, "quick")
    other.vocab_size = 1234  # as if trained for another tokenizer
    other.save(tmp_path / "other.safetensors")
    with pytest.raises(PlaygroundError, match="another tokenizer"):
        RewardModel.load(tmp_path / "other.safetensors", model, tok)
    wide = RewardModel(model, tok, "quick")
    wide.head = torch.nn.Linear(64, 1)
    wide._mean, wide._std = torch.zeros(64), torch.ones(64)
    wide.save(tmp_path / "wide.safetensors")
    with pytest.raises(PlaygroundError, match="64 features per token"):
        RewardModel.load(tmp_path / "wide.safetensors", model, tok)
    full = RewardModel(model, tok, "full")
    full.save(tmp_path / "full.safetensors")
    with pytest.raises(PlaygroundError, match="full reward model on the causal model cannot pay the policy"):
        RewardModel.load(tmp_path / "full.safetensors", model, tok)
    with pytest.raises(PlaygroundError, match="needs a trained reward model"):
        make_reward("reward_model")


def test_an_align_job_optimizes_against_a_reward_model_trained_by_another_job(tmp_path, tiny_llama_dir):
    from playground.cli.main import main
    from playground.core.align.preferences import pairs_of as _pairs, truncate_prompt as _truncate

    held_out = _pairs("bundled", "test")[:4]  # a small held-out file keeps the reward model's run short
    (tmp_path / "test.jsonl").write_text("".join(json.dumps({"prompt": p.prompt, "chosen": p.chosen,
                                                             "rejected": p.rejected}) + "\n" for p in held_out))
    common = (f'[model]\nsource = "{tiny_llama_dir}"\n[data]\nmax_prompt_tokens = 48\nmax_train_examples = 8\n'
              'test = "test.jsonl"\n'
              '[training]\nmax_steps = 2\nsave_every = 0\nmonitor_examples = 1\nlearning_rate = 0.01\n')
    (tmp_path / "rm.toml").write_text(common + '[method]\nname = "reward_model"\n')
    assert main(["align", str(tmp_path / "rm.toml"), "--output", str(tmp_path / "rm"), "--quiet"]) == 0
    assert "features from the encoder" in (tmp_path / "rm" / "report.md").read_text()  # the default backbone
    (tmp_path / "no_rm.toml").write_text(common + '[method]\nname = "grpo"\nrewards = ["reward_model"]\n')
    assert main(["align", str(tmp_path / "no_rm.toml"), "--output", str(tmp_path / "x"), "--quiet"]) == 2
    (tmp_path / "grpo.toml").write_text(common + '[method]\nname = "grpo"\ngroup_size = 2\nmax_new_tokens = 6\n'
                                        'rewards = ["reward_model"]\nreward_model = "rm"\n')  # relative to the file
    assert main(["align", str(tmp_path / "grpo.toml"), "--output", str(tmp_path / "run"), "--quiet"]) == 0
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["reward_model"] == str(tmp_path / "rm")
    model, tok = _base(tiny_llama_dir)
    rm = RewardModel.load(tmp_path / "rm", model, tok)
    prompt = _truncate(tok, _pairs("bundled", "train", 8)[0].prompt, 48)
    first = report["per_step"][0]["samples"]
    assert [s["reward"] for s in first] == pytest.approx(rm.score([prompt] * len(first),
                                                                   [s["completion"] for s in first]), abs=1e-4)
    frame = report["monitor"][-1]["samples"][0]  # the filmstrip's frame carries the reward it would earn
    test_prompt = _truncate(tok, held_out[0].prompt, 48)
    assert frame["reward"] == pytest.approx(rm.score([test_prompt], [frame["completion"]])[0], abs=1e-4)
    md = (tmp_path / "run" / "report.md").read_text()
    assert "Filmstrip" in md and f"Model: {tiny_llama_dir}" in md
    assert (tmp_path / "run" / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_the_encoder_as_the_reward_models_backbone_separates_pairs_and_loads_back(tmp_path):
    from playground.core.align.reward_model import load_encoder_backbone
    from playground.core.models.encoder import mean_pool

    encoder, tok = load_encoder_backbone()
    # the feature is the completion's mean token vector in the pair (prompt, completion): a direct computation
    enc = tok(["About lunch:"], ["They talk kindly."], return_tensors="pt")
    with torch.no_grad():
        hidden = encoder(**enc).last_hidden_state
    want = mean_pool(hidden, enc["attention_mask"] * enc["token_type_ids"])
    rm = RewardModel(encoder, tok, "quick", "encoder")
    assert torch.allclose(rm.features(["About lunch:"], ["They talk kindly."]), want, atol=1e-5)
    report = rm.train_quick(PAIRS[:6], PAIRS[6:], steps=100)
    assert report.train_accuracy == 1.0 and report.test_accuracy == 1.0
    rm.save(tmp_path / "rm.safetensors", "bundled")
    back = RewardModel.load(tmp_path / "rm.safetensors", None, None)  # the encoder comes from its metadata
    assert back.backbone_kind == "encoder"
    prompts, texts = [p.prompt for p in PAIRS], [p.rejected for p in PAIRS]
    assert back.score(prompts, texts) == pytest.approx(rm.score(prompts, texts), abs=1e-5)


def test_a_full_encoder_reward_model_trains_the_encoders_weights_on_a_private_copy_and_loads_back(tmp_path):
    from playground.core.align.reward_model import load_encoder_backbone

    shared, tok = load_encoder_backbone()
    kept = {n: p.detach().clone() for n, p in shared.named_parameters()}
    encoder, _ = load_encoder_backbone(trainable=True)
    assert encoder is not shared
    start = {n: p.detach().clone() for n, p in encoder.named_parameters()}
    rm = RewardModel(encoder, tok, "full", "encoder")
    steps = []
    torch.manual_seed(0)
    report = rm.train_full(PAIRS[:6], PAIRS[6:], steps=12, lr=5e-5, batch_pairs=3,
                           on_step=lambda step, total, loss: steps.append((step, total)))
    assert steps == [(i, 12) for i in range(1, 13)]
    assert report.mode == "full" and report.losses[-1] < report.losses[0]
    assert report.train_accuracy == 1.0 and report.test_accuracy == 1.0
    moved = {n: float((p.detach() - start[n]).abs().max()) for n, p in encoder.named_parameters()}
    # the gradient reaches the encoder's first layer (AdamW's weight decay alone moves a weight ~1e-8 here);
    # the pooler, which mean pooling does not use, moves by weight decay only
    assert moved["encoder.layer.0.attention.self.query.weight"] > 1e-4
    assert moved["pooler.dense.weight"] < 1e-5
    assert all(torch.equal(p, kept[n]) for n, p in shared.named_parameters())  # the app's encoder is untouched
    assert all(m.p == 0 for m in encoder.modules() if isinstance(m, torch.nn.Dropout))  # as trl's disable_dropout
    rm.save(tmp_path / "rm" / "reward_head.safetensors", "bundled")
    assert (tmp_path / "rm" / "encoder" / "model.safetensors").is_file()
    back = RewardModel.load(tmp_path / "rm", None, None)
    assert back.mode == "full" and back.backbone_kind == "encoder" and back.backbone is not encoder
    prompts, texts = [p.prompt for p in PAIRS], [p.chosen for p in PAIRS]
    assert back.score(prompts, texts) == pytest.approx(rm.score(prompts, texts), abs=1e-4)
    (tmp_path / "rm" / "encoder" / "config.json").unlink()
    with pytest.raises(PlaygroundError, match="trained encoder of this full reward model is missing"):
        RewardModel.load(tmp_path / "rm", None, None)
