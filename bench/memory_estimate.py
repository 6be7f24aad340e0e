"""The memory explainer's estimate against measurements, on the bundled model (issue 29, item 2).

    nice python bench/memory_estimate.py [--method lora] [--seq 128] [--batch 1] [--steps 3] [--threads 2]

Prints, for one method at one batch and length (float32, loss on every position, LoRA r=8 on
q/k/v/o with dropout 0.05 as the app's defaults):
- the estimate, part by part;
- the activations autograd really saves in one forward pass (each storage once, weights apart),
  with sdpa and with eager attention;
- the resident memory (RSS): of the process after loading, its peak during a few training steps,
  and how much the steps added on top of what was resident before them. The weights plus that
  addition is the like-for-like figure for the estimate's total; the process peak also holds
  Python, the libraries, the tokenizer and whatever else the process had loaded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))

MIB = 2**20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--method", default="lora", choices=("lora", "full", "prompt_tuning"))
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())

    from _common import quiet_torch

    torch = quiet_torch(args.threads)
    import torch.nn.functional as F
    from transformers import AutoModelForCausalLM

    from playground.core.finetune.memory import ModelShape, estimate_training_memory, format_bytes
    from playground.core.finetune.memory_measure import saved_tensor_bytes
    from playground.core.finetune.resources import PeakMeter, _rss_now
    from playground.core.models.bundled import ensure_bundled_cache

    targets = ["q_proj", "k_proj", "v_proj", "o_proj"]
    ids = torch.randint(0, 49152, (args.batch, args.seq), generator=torch.Generator().manual_seed(1))

    def prepared(attention: str):
        model = AutoModelForCausalLM.from_pretrained(ensure_bundled_cache(), dtype=torch.float32,
                                                     attn_implementation=attention)
        shape = ModelShape.from_model(model, targets if args.method == "lora" else ())
        if args.method == "lora":
            from peft import LoraConfig, get_peft_model

            model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=targets,
                                                     task_type="CAUSAL_LM"))
        elif args.method == "prompt_tuning":
            from peft import PromptTuningConfig, get_peft_model

            model = get_peft_model(model, PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=20))
        model.train()
        return model, shape

    def forward(model):
        logits = model(input_ids=ids, use_cache=False).logits[:, -args.seq:]
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), ids.reshape(-1))

    rss_start = _rss_now()
    model, shape = prepared("sdpa")
    rss_loaded = _rss_now()
    est = estimate_training_memory(shape, args.method, "float32", args.batch, args.seq, lora_rank=8)
    print(f"\nbundled SmolLM2-135M, {args.method}, float32, batch {args.batch} x {args.seq} tokens, "
          f"{torch.get_num_threads()} threads")
    print("estimate: " + ", ".join(f"{p} {v / MIB:,.1f} MiB" for p, v in est.parts())
          + f"; total {est.total / MIB:,.1f} MiB")

    params = [p for p in model.parameters() if p.requires_grad]
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    opt = torch.optim.AdamW(params, lr=1e-4)
    with torch.no_grad():  # page the weights in (safetensors maps them lazily): they are not the steps' doing
        sum(float(p.float().sum()) for p in model.parameters())
    before = _rss_now()
    meter = PeakMeter().start()
    for _ in range(args.steps):
        forward(model).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
    peak, added = meter.peak(), meter.added()
    meter.stop()
    del opt, params
    model.zero_grad(set_to_none=True)
    print(f"\nresident memory (RSS): {rss_start / MIB:,.0f} MiB before loading, {rss_loaded / MIB:,.0f} MiB "
          f"with the model loaded (mapped, not all read), {before / MIB:,.0f} MiB before training")
    print(f"  process peak during {args.steps} training steps: {peak / MIB:,.0f} MiB ({format_bytes(peak)}): "
          "everything the process holds (Python, torch, transformers, the model)")
    print(f"  added by the training steps: {added / MIB:,.0f} MiB (gradients, AdamW states, activations, "
          "the backward pass's temporaries, the allocator's slack)")
    like = weights + added
    print(f"  like for like: weights {weights / MIB:,.0f} MiB + added {added / MIB:,.0f} MiB = {like / MIB:,.0f} MiB, "
          f"estimate {est.total / MIB:,.0f} MiB ({(est.total - like) / like:+.0%})")

    print("\nactivations saved by autograd in one forward pass (each storage once, weights apart):")
    for attention in ("sdpa", "eager"):
        m, s = (model, shape) if attention == "sdpa" else prepared("eager")
        measured, loss = saved_tensor_bytes(m, lambda: forward(m))
        del loss
        e = estimate_training_memory(s, args.method, "float32", args.batch, args.seq, lora_rank=8).activations
        print(f"  {attention:5}: measured {measured / MIB:8.1f} MiB, estimate {e / MIB:8.1f} MiB "
              f"({(e - measured) / measured:+.1%})")
        if m is not model:
            del m

    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
