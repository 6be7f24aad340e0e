"""A tiny teacher, tiny dialogues and a short distillation job, shared by the distillation tests."""

from __future__ import annotations

import json
from pathlib import Path


def save_tiny_teacher(folder: Path, tokenizer, layers: int = 4) -> Path:
    """A random Llama of ``layers`` layers (hidden 32) with the bundled tokenizer, saved as a folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    cfg = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
                      bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
                      pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True)
    folder.mkdir(parents=True, exist_ok=True)
    LlamaForCausalLM(cfg).save_pretrained(str(folder), safe_serialization=True)
    tokenizer.save_pretrained(str(folder))
    return folder


def write_dialogues(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, n, start in (("train", 12, 0), ("validation", 2, 100), ("test", 2, 200)):
        rows = [{"dialogue": f"#Person1#: Lunch at {i % 3 + 1}?\n#Person2#: Fine, see you.",
                 "summary": "They agree to meet for lunch."} for i in range(start, start + n)]
        (folder / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return folder


def tiny_job(teacher: Path, data: Path, out: Path, steps: int = 3, **distill):
    from playground.core.distill.config import DistillJob

    job = DistillJob()
    job.model.source, job.model.device = str(teacher), "cpu"
    job.data.source = str(data / "train.jsonl")
    job.data.validation, job.data.test = str(data / "validation.jsonl"), str(data / "test.jsonl")
    job.data.max_length = 64
    t = job.training
    t.max_steps, t.learning_rate, t.micro_batch_size, t.gradient_accumulation_steps = steps, 3e-3, 2, 1
    t.save_every, t.warmup_ratio = 0, 0.0
    job.evaluation.test_examples, job.evaluation.max_new_tokens = 1, 3
    for k, v in distill.items():
        setattr(job.distill, k, v)
    job.output.dir = str(out)
    return job
