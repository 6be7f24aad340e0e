"""An align run starts from the model the model bar shows (issue 29 item 6): a LoRA run attached and
switched on is merged into the training copy first, the reference is that fine-tuned model, and the
run's adapter/ on the base model is the aligned model whole."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
import torch


@pytest.fixture(scope="module")
def ft_adapter(tiny_llama_dir, tmp_path_factory) -> Path:
    """A LoRA 'fine-tuning run' on q/v of the tiny Llama whose weights are not the identity."""
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM

    from playground.core.finetune.lora import lora_config

    torch.manual_seed(5)
    model = get_peft_model(AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir)),
                           lora_config(4, target_modules=["q_proj", "v_proj"]))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.copy_(torch.randn_like(p) * 0.5)
    folder = tmp_path_factory.mktemp("runs") / "ft-run" / "adapter"
    model.save_pretrained(str(folder))
    return folder


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def _base(tiny_llama_dir):
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(tiny_llama_dir)).eval()


def test_a_run_with_model_adapter_starts_from_it_and_saves_the_whole_aligned_model(tiny_llama_dir, ft_adapter,
                                                                                   tmp_path):
    from peft import PeftModel

    from playground.core.align.config import AlignConfig
    from playground.core.align.job import run_align
    from playground.core.finetune.events import DoneEvent

    cfg = AlignConfig()
    cfg.model.source, cfg.model.adapter = str(tiny_llama_dir), str(ft_adapter)
    cfg.method.name = "dpo"  # a step that always moves the policy (GRPO's may tie every reward)
    cfg.data.max_train_examples, cfg.data.max_test_examples, cfg.data.max_prompt_tokens = 2, 2, 32
    cfg.training.max_steps, cfg.training.save_every, cfg.training.learning_rate = 1, 0, 0.05
    cfg.output.dir = str(tmp_path / "run")
    from playground.core.base.handle import TaskHandle
    from playground.core.base.progress import StepMessage

    reports = []  # what the progress strip receives: named phases, each counting its own steps
    events = list(run_align(cfg, TaskHandle(on_progress=lambda f, m: reports.append(m))))
    done = events[-1]
    assert isinstance(done, DoneEvent)
    steps = [m for m in reports if isinstance(m, StepMessage)]
    assert list(dict.fromkeys(m.phase for m in steps)) == ["Loading a training copy of the model",
                                                           "Optimizing the policy", "Saving the adapter"]
    assert [(m.done, m.total) for m in steps if m.phase == "Optimizing the policy"] == [(0, 1), (1, 1)]

    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["start"] == "base + ft-run" and report["start_adapter"] == str(ft_adapter)
    assert "- Starts from: base + ft-run" in (tmp_path / "run" / "report.md").read_text()

    ids = torch.randint(10, 5000, (2, 7))
    started = PeftModel.from_pretrained(_base(tiny_llama_dir), str(ft_adapter)).eval()
    policy = done.model.eval()
    with policy.disable_adapter():  # the reference: the model the bar showed, not the base
        assert torch.allclose(_logits(policy, ids), _logits(started, ids), atol=1e-4)
    assert not torch.allclose(_logits(started, ids), _logits(_base(tiny_llama_dir), ids), atol=1e-3)
    aligned = _logits(policy, ids)
    assert not torch.allclose(aligned, _logits(started, ids), atol=1e-4)  # the step moved it
    # adapter/ on the base model alone is the aligned model: ft-run's LoRA and the align LoRA in one
    reloaded = PeftModel.from_pretrained(_base(tiny_llama_dir), str(tmp_path / "run" / "adapter")).eval()
    assert torch.allclose(_logits(reloaded, ids), aligned, atol=1e-4)
    assert set(policy.peft_config) == {"default"}  # the helper adapters are gone from the policy


def test_without_an_adapter_the_report_says_base_and_a_soft_prompt_cannot_be_merged(tiny_llama_dir, tmp_path):
    from playground.core.align.config import AlignConfig
    from playground.core.align.job import run_align
    from playground.core.base.errors import InputError

    cfg = AlignConfig()
    cfg.model.source = str(tiny_llama_dir)
    cfg.method.name, cfg.method.group_size, cfg.method.max_new_tokens = "grpo", 2, 2
    cfg.data.max_train_examples, cfg.data.max_test_examples, cfg.data.max_prompt_tokens = 2, 2, 16
    cfg.training.max_steps, cfg.training.save_every, cfg.training.monitor_examples = 1, 0, 1
    cfg.output.dir = str(tmp_path / "run")
    list(run_align(cfg))
    assert json.loads((tmp_path / "run" / "report.json").read_text())["start"] == "base"

    soft = tmp_path / "soft"
    soft.mkdir()
    (soft / "adapter_config.json").write_text(json.dumps({"peft_type": "PROMPT_TUNING"}))
    (soft / "adapter_model.safetensors").write_bytes(b"")
    cfg.model.adapter, cfg.output.dir = str(soft), str(tmp_path / "run2")
    with pytest.raises(InputError, match="only a LoRA adapter can be merged"):
        list(run_align(cfg))


def test_the_starting_point_is_what_the_model_bar_shows(tiny_llama, ft_adapter):
    from playground.core.align.start import starting_point
    from playground.core.finetune.attach import load_attachable, named_for_run
    from playground.core.models.loading import ModelSession

    session = ModelSession()
    session.set(tiny_llama)
    base = tiny_llama.info.name
    sp = starting_point(session)
    assert (sp.adapter, sp.name, sp.source) == ("", base, tiny_llama.info.folder) and "model bar shows" in sp.note

    lora = named_for_run(tiny_llama, load_attachable(tiny_llama, ft_adapter), ft_adapter, ft_adapter.parent, "lora")
    session.set_adapter(lora, on=True)
    sp = starting_point(session)
    assert sp.adapter == str(ft_adapter) and sp.source == tiny_llama.info.folder
    assert sp.name == f"{base} + ft-run" and "merged" in sp.note

    session.use_adapter(False)
    sp = starting_point(session)
    assert sp.adapter == "" and sp.name == base and "switched off" in sp.note

    soft = replace(tiny_llama, info=replace(tiny_llama.info, name=f"{base} + pt-run"),
                   extras={"peft_type": "PROMPT_TUNING", "adapter_dir": "/runs/pt-run/adapter"})
    session.set_adapter(soft, on=True)
    sp = starting_point(session)
    assert sp.adapter == "" and sp.name == base and "soft prompt" in sp.note and "cannot be merged" in sp.note

    in_memory = replace(tiny_llama, info=replace(tiny_llama.info, name=f"{base} + run-7"), extras={})
    session.set_adapter(in_memory, on=True)
    sp = starting_point(session)
    assert sp.adapter == "" and sp.name == base and "not in a folder" in sp.note
