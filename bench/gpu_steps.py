"""Fine-tuning steps of the bundled model on a CUDA GPU in bf16: tokens/s and peak GPU memory.

LoRA (r=8 on the layers the app adapts) and full fine-tuning, each a few AdamW steps on the bundled
train dialogues (instruction template, loss on the summary only, one example per micro-batch as the
app does, ``--batch`` examples per optimizer step). The first step is a warm-up, not timed.

    python bench/gpu_steps.py [--steps 6] [--batch 8] [--methods lora,full]

Without CUDA it says so and exits 0.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=6, help="optimizer steps per method (the first is a warm-up)")
    ap.add_argument("--batch", type=int, default=8, help="examples per optimizer step")
    ap.add_argument("--methods", default="lora,full")
    args = ap.parse_args()
    import torch

    if not torch.cuda.is_available():
        print(f"gpu_steps: no CUDA device (torch {torch.__version__}, cuda build: {torch.version.cuda}); skipped.")
        return 0
    os.environ.setdefault("PLAYGROUND_HOME", "/tmp/pg-gpu-check-home")
    from playground.core.evaluation.datasets import load_split
    from playground.core.finetune.methods import detect_lora_targets
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model
    from playground.core.prompting.prompts import assemble

    print(f"GPU: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, CUDA {torch.version.cuda}")
    base = load_model(ModelSource("bundled"), device="cuda", dtype="bfloat16")
    tok = base.tokenizer
    rows = []
    for ex in load_split("train").examples[: args.batch * args.steps]:
        prompt = assemble(ex.input, (), "instruction", tokenizer=tok).text
        p_ids = tok(prompt, add_special_tokens=False)["input_ids"]
        s_ids = tok(" " + ex.reference.strip() + (tok.eos_token or ""), add_special_tokens=False)["input_ids"]
        ids = (p_ids + s_ids)[:512]
        labels = ([-100] * len(p_ids) + s_ids)[:512]
        rows.append((torch.tensor([ids], device="cuda"), torch.tensor([labels], device="cuda")))
    for method in [m.strip() for m in args.methods.split(",") if m.strip()]:
        model = copy.deepcopy(base.model)
        model.config.use_cache = False
        if method == "lora":
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05,
                                                     target_modules=detect_lora_targets(model), task_type="CAUSAL_LM"))
        else:
            for p in model.parameters():
                p.requires_grad_(True)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        opt = torch.optim.AdamW(params, lr=2e-4)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        tokens, seconds, losses = 0, 0.0, []
        for step in range(args.steps):
            batch = rows[step * args.batch:(step + 1) * args.batch]
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            total = 0.0
            for ids, labels in batch:
                loss = model(input_ids=ids, labels=labels).loss / len(batch)
                loss.backward()
                total += float(loss)
            opt.step()
            opt.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            dt = time.perf_counter() - t0
            losses.append(total)
            if step > 0:  # the first step pays for kernels and allocator warm-up
                seconds += dt
                tokens += sum(int(ids.shape[1]) for ids, _ in batch)
        peak = torch.cuda.max_memory_allocated() / 2**20
        trainable = sum(p.numel() for p in params)
        print(f"{method:5s} bf16: {tokens / max(seconds, 1e-9):,.0f} tokens/s over {args.steps - 1} timed steps "
              f"of {args.batch} examples; peak GPU memory {peak:,.0f} MiB; {trainable:,} trainable parameters; "
              f"loss {losses[0]:.3f} -> {losses[-1]:.3f}")
        del model, opt, params
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
