"""Align at BF16 (issue 35): the rollouts' BF16 copy of the policy follows the adapter, the run's
precision is resolved as fine-tuning's and named in its report, float32 stays what it was."""

from __future__ import annotations

import json

import pytest
import torch

from playground.core.base.errors import InputError


def _policy(tiny_llama_dir):
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir))
    return get_peft_model(model, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"],
                                            lora_dropout=0.0))


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits.float()


def test_the_rollout_copy_is_the_policy_with_its_adapter_merged_and_follows_each_update(tiny_llama_dir):
    from playground.core.align.run_precision import RolloutCopy

    policy = _policy(tiny_llama_dir)
    with torch.no_grad():  # an adapter that changes the model (LoRA B starts at zero)
        for name, p in policy.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.5)
    ids = torch.randint(10, 5000, (2, 9))
    copy = RolloutCopy(policy, torch.bfloat16)
    assert {p.dtype for p in copy.model.parameters()} == {torch.bfloat16}
    assert not any("lora" in n for n, _ in copy.model.named_parameters())  # a plain model, the LoRA merged in
    with policy.disable_adapter():
        base = _logits(policy, ids)
    adapted = _logits(policy, ids)
    assert (adapted - base).abs().max() > 0.05  # the adapter matters here ...
    # ... and the copy is the adapted policy, to BF16's rounding
    assert (_logits(copy.model, ids) - adapted).abs().max() < 0.5 * (adapted - base).abs().max()

    with torch.no_grad():  # an update moves the adapter: the copy follows at its refresh, not before
        for name, p in policy.named_parameters():
            if "lora_A" in name:
                p.mul_(-1.0)
    moved = _logits(policy, ids)
    assert (_logits(copy.model, ids) - moved).abs().max() > 0.05
    copy.refresh(policy)
    assert (_logits(copy.model, ids) - moved).abs().max() < 0.5 * (moved - adapted).abs().max()
    # the policy itself is untouched: FP32, its adapter not merged into its base weights
    assert {p.dtype for p in policy.parameters()} == {torch.float32}
    with policy.disable_adapter():
        assert torch.equal(_logits(policy, ids), base)


def test_auto_is_bf16_only_where_the_device_does_bf16_natively_and_fp16_is_refused(monkeypatch):
    from playground.core.align import run_precision
    from playground.core.align.config import AlignConfig
    from playground.core.finetune import mixed

    monkeypatch.setattr(mixed, "cpu_has_native_bf16", lambda: True)
    assert run_precision.align_precision("auto", "cpu") == "bf16"
    assert run_precision.align_precision("no", "cpu") == "no"
    monkeypatch.setattr(mixed, "cpu_has_native_bf16", lambda: False)
    assert run_precision.align_precision("auto", "cpu") == "no"
    assert run_precision.align_precision("bf16", "cpu") == "bf16"  # asked for: it runs (slowly on such a CPU)
    cfg = AlignConfig()
    cfg.model.precision = "fp16"
    with pytest.raises(InputError, match="model.precision must be auto, no .float32. or bf16"):
        cfg.validate()


def _record_models(monkeypatch, module, name: str) -> list:
    """Wrap ``module.name(model, ...)`` so each call's model (class name, dtype) is recorded."""
    calls, real = [], getattr(module, name)

    def spy(model, *args, **kw):
        calls.append((type(model).__name__, next(model.parameters()).dtype))
        return real(model, *args, **kw)

    monkeypatch.setattr(module, name, spy)
    return calls


@pytest.mark.parametrize("precision", ["bf16", "no"])
def test_a_grpo_run_samples_from_the_copy_at_bf16_and_from_the_policy_at_float32(tiny_llama_dir, tmp_path,
                                                                                monkeypatch, precision):
    from playground.core.align import monitor, steps
    from playground.core.align.config import AlignConfig
    from playground.core.align.job import run_align

    sampled_with = _record_models(monkeypatch, steps, "sample")  # the completions' model
    monitored_with = _record_models(monkeypatch, monitor, "greedy")  # the monitor summaries' model
    cfg = AlignConfig()
    cfg.model.source, cfg.model.precision = str(tiny_llama_dir), precision
    cfg.method.name, cfg.method.group_size, cfg.method.max_new_tokens = "grpo", 2, 3
    cfg.data.max_train_examples, cfg.data.max_test_examples, cfg.data.max_prompt_tokens = 2, 1, 16
    cfg.training.max_steps, cfg.training.save_every, cfg.training.monitor_examples = 2, 0, 1
    cfg.training.learning_rate = 0.05
    cfg.output.dir = str(tmp_path / "run")
    list(run_align(cfg))
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["precision"] == precision
    assert len(report["per_step"]) == 2
    # the monitor (steps 0 and 2) writes its summaries the same way as the completions
    if precision == "bf16":
        assert sampled_with == monitored_with == [("LlamaForCausalLM", torch.bfloat16)] * 2
    else:
        assert len(sampled_with) == len(monitored_with) == 2
        assert all(name.startswith("Peft") and dtype == torch.float32 for name, dtype in sampled_with + monitored_with)
