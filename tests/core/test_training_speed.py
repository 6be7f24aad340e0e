"""The training hot paths' speed-ups change no result beyond rounding: a GRPO group's prompt computed
once, a fine-tuning step's examples in length-sorted passes, and BF16 autocast where the CPU has it."""

from __future__ import annotations

import pytest
import torch


def _lora(tiny_llama, seed: int = 0):
    """A LoRA policy on a copy of the tiny Llama, with non-zero B matrices (the adapter is not the identity)."""
    import copy

    from peft import get_peft_model

    from playground.core.finetune.lora import lora_config
    from playground.core.finetune.methods import detect_lora_targets

    base = copy.deepcopy(tiny_llama.model).float()
    model = get_peft_model(base, lora_config(4, target_modules=detect_lora_targets(base)))
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    return model


def _group_rollout(tok, prompt: str, group: int, length: int, seed: int = 1):
    from playground.core.align.policy import completion_mask, encode_prompts

    ids, mask = encode_prompts(tok, [prompt] * group, "cpu")
    g = torch.Generator().manual_seed(seed)
    comp = torch.randint(5, 1000, (group, length), generator=g)
    comp[1, 3] = tok.eos_token_id  # one completion ends early: the rest of its row is masked
    return ids, mask, comp, completion_mask(comp, tok.eos_token_id)


def test_a_groups_prompt_computed_once_gives_the_same_logps_and_gradients(tiny_llama):
    from playground.core.align.policy import group_token_logps, shares_prompts, token_logps

    tok = tiny_llama.tokenizer
    model = _lora(tiny_llama)
    args = _group_rollout(tok, "Summarize: Anna: are we still on for lunch? Ben: yes, at noon.", 4, 7)
    assert shares_prompts(args[0], 4)

    def grads(fn):
        model.zero_grad(set_to_none=True)
        logps, entropy = fn()
        (logps * args[3]).sum().backward()
        return logps.detach(), entropy.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                                                  if p.requires_grad}

    whole = grads(lambda: token_logps(model, *args, with_entropy=True, temperature=0.7)[:2])
    shared = grads(lambda: group_token_logps(model, *args, 4, with_entropy=True, temperature=0.7))
    torch.testing.assert_close(shared[0], whole[0], rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(shared[1], whole[1], rtol=1e-4, atol=1e-4)
    assert whole[2] and whole[2].keys() == shared[2].keys()
    for name, g in whole[2].items():
        torch.testing.assert_close(shared[2][name], g, rtol=1e-3, atol=1e-6)
    with torch.no_grad():  # a group of one, and rows whose prompts differ, take the whole-row path
        one = group_token_logps(model, *(a[:1] for a in args), 1, temperature=0.7)[0]
        torch.testing.assert_close(one, whole[0][:1], rtol=1e-4, atol=1e-4)
    mixed = (torch.cat([args[0][:2], args[0][:2].flip(1)]),) + args[1:]
    assert not shares_prompts(mixed[0], 4) and not shares_prompts(args[0], 3)


def test_step_passes_hold_every_example_once_within_the_budget():
    from playground.core.finetune.batching import step_passes

    lengths = [50, 300, 120, 90, 600, 110, 100, 40]
    passes = step_passes([[0, 1], [2, 3], [4, 5], [6, 7]], lengths, budget=400)
    assert sorted(j for p in passes for j in p) == list(range(8))
    assert passes[0] == [4]  # longer than the budget: alone
    for p in passes:
        widths = [lengths[j] for j in p]
        assert widths == sorted(widths, reverse=True)
        assert len(p) == 1 or len(p) * widths[0] <= 400
    assert len(passes) < 8
    assert step_passes([[0], [1]], [10, 10], budget=10) == [[0], [1]]  # a budget of one example: one at a time


def test_a_step_in_passes_has_the_gradient_of_one_example_at_a_time(tiny_llama):
    from playground.core.finetune.batching import collate, step_passes
    from playground.core.finetune.dataset import TrainingExample
    from playground.core.finetune.loss import completion_loss_sum

    model = _lora(tiny_llama)
    g = torch.Generator().manual_seed(3)
    examples = []
    for n, k in ((12, 4), (30, 6), (9, 3), (21, 5)):
        ids = torch.randint(5, 1000, (n,), generator=g).tolist()
        examples.append(TrainingExample(ids, [-100] * (n - k) + ids[n - k:], n - k, None))
    pad = tiny_llama.tokenizer.pad_token_id

    def grads(groups):
        model.zero_grad(set_to_none=True)
        total = 0.0
        for grp in groups:
            s, _ = completion_loss_sum(model, collate([examples[j] for j in grp], pad), False)
            s.backward()
            total += float(s)
        return total, {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}

    passes = step_passes([[0], [1], [2], [3]], [e.num_tokens for e in examples], budget=64)
    assert len(passes) < 4
    one_loss, one = grads([[0], [1], [2], [3]])
    packed_loss, packed = grads(passes)
    assert packed_loss == pytest.approx(one_loss, rel=1e-5)
    for name, grad in one.items():
        torch.testing.assert_close(packed[name], grad, rtol=1e-3, atol=1e-6)


def test_auto_precision_is_bf16_only_where_the_cpu_has_it(monkeypatch):
    from playground.core.finetune import mixed

    monkeypatch.setattr(mixed, "cpu_has_native_bf16", lambda: True)
    assert mixed.resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setattr(mixed, "cpu_has_native_bf16", lambda: False)
    assert mixed.resolve_precision("auto", "cpu") == "no"  # emulated BF16 is slower than FP32: stay FP32
    assert mixed.resolve_precision("bf16", "cpu") == "bf16" and mixed.resolve_precision("no", "cpu") == "no"
    assert mixed.precision_label("no") == "FP32" and mixed.precision_label("bf16").startswith("BF16")


def test_no_native_bf16_flag_means_no_native_bf16(monkeypatch):
    from playground.core.finetune import mixed
    from playground.core.lifecycle import precision

    mixed.cpu_has_native_bf16.cache_clear()
    monkeypatch.setattr(precision, "cpu_flags", lambda: {"avx2", "avx512f"})
    try:
        assert mixed.cpu_has_native_bf16() is False
        assert mixed.resolve_precision("auto", "cpu") == "no"
    finally:
        mixed.cpu_has_native_bf16.cache_clear()


def test_a_bf16_autocast_step_gives_the_fp32_loss_within_tolerance(tiny_llama):
    from playground.core.finetune.batching import collate
    from playground.core.finetune.dataset import TrainingExample
    from playground.core.finetune.loss import completion_loss_sum
    from playground.core.finetune.mixed import training_autocast

    model = _lora(tiny_llama)
    g = torch.Generator().manual_seed(5)
    ids = torch.randint(5, 1000, (40,), generator=g).tolist()
    batch = collate([TrainingExample(ids, [-100] * 30 + ids[30:], 30, None)], tiny_llama.tokenizer.pad_token_id)
    losses = {}
    for precision in ("no", "bf16"):
        with training_autocast("cpu", precision):
            s, n = completion_loss_sum(model, batch, False)
        losses[precision] = float(s) / n
        assert s.dtype == torch.float32  # the loss itself is always FP32
    assert losses["bf16"] != losses["no"]  # the forward really ran in BF16
    assert losses["bf16"] == pytest.approx(losses["no"], rel=0.01)

