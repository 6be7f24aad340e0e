"""Paired A/B timings of the training hot paths, in one process on the bundled model, arms alternated.

A shared machine's load moves over minutes; two arms timed one after the other, round after round,
see the same load, so their ratio holds where each absolute figure does not. Printed per pair: the
median time of each arm, the ratio, and the load average.

- LoRA step, one example per pass: FP32 vs BF16 autocast (the fine-tuning default where the CPU has
  native BF16), and the loss of each (BF16 within 1% of FP32);
- LoRA step at BF16: the step's examples one per pass vs all in one length-sorted pass;
- GRPO: the reference and policy passes (forward + backward) with every row whole vs the group's
  prompt computed once. (Prefilling a group's prompt once before ``generate`` was tried and
  measured slower, 0.59x, so the rollouts stay plain ``generate``.)

    python bench/training_paths.py [--rounds 2] [--examples 2] [--max-length 256] [--only lora,grpo]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def paired(name: str, a: tuple, b: tuple, rounds: int) -> None:
    """Time arms a and b (label, fn) alternately; print medians and b's speed-up over a."""
    times: dict[str, list[float]] = {a[0]: [], b[0]: []}
    a[1]()  # warm-up: first calls pay allocations and kernel choices
    b[1]()
    for _ in range(rounds):
        for label, fn in (a, b):
            began = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - began)
    ta, tb = statistics.median(times[a[0]]), statistics.median(times[b[0]])
    print(f"{name}: {a[0]} {ta:.2f} s, {b[0]} {tb:.2f} s -> {ta / tb:.2f}x ({load()})", flush=True)


def lora_pairs(args, loaded) -> None:
    import copy

    import torch

    from playground.core.finetune import FinetuneConfig
    from playground.core.finetune.batching import collate
    from playground.core.finetune.loss import completion_loss_sum
    from playground.core.finetune.methods import apply_method
    from playground.core.finetune.mixed import resolve_precision, training_autocast
    from playground.core.finetune.prepare import prepare_data

    cfg = FinetuneConfig()
    cfg.data.max_train_examples, cfg.data.max_validation_examples = args.examples, 2
    cfg.data.max_length = args.max_length
    data = prepare_data(cfg.data, loaded.tokenizer, False, 0, 0)
    ex = data.train[:args.examples]
    pad = loaded.tokenizer.pad_token_id
    torch.manual_seed(0)
    model, _ = apply_method(copy.deepcopy(loaded.model), cfg, "", False)
    model.train()
    bf16 = resolve_precision("auto", "cpu")
    print(f"LoRA r{cfg.method.lora.rank}: {len(ex)} examples of {[e.num_tokens for e in ex]} tokens; auto precision "
          f"on this CPU: {bf16}", flush=True)
    losses = {}

    def step(groups, precision):
        def run():
            total = 0.0
            for g in groups:
                with training_autocast("cpu", precision):
                    s, n = completion_loss_sum(model, collate(g, pad), False)
                (s / 100).backward()
                total += float(s)
            model.zero_grad(set_to_none=True)
            losses[precision] = total
        return run

    one_each = [[e] for e in ex]
    together = [sorted(ex, key=lambda e: -e.num_tokens)]
    paired("LoRA step, one example per pass", ("FP32", step(one_each, "no")), ("BF16", step(one_each, "bf16")),
           args.rounds)
    gap = losses["bf16"] / losses["no"] - 1
    print(f"  loss BF16 vs FP32: {gap:+.3%} ({'within' if abs(gap) <= 0.01 else 'OUTSIDE'} 1%)", flush=True)
    paired("LoRA step at BF16", ("one example per pass", step(one_each, "bf16")),
           ("one length-sorted pass", step(together, "bf16")), args.rounds)


def grpo_pairs(args, loaded) -> None:
    import copy

    import torch
    from peft import get_peft_model

    from playground.core.align import policy
    from playground.core.align.preferences import bundled_preferences, truncate_prompt
    from playground.core.finetune.lora import lora_config
    from playground.core.finetune.methods import detect_lora_targets

    tok = loaded.tokenizer
    base = copy.deepcopy(loaded.model)
    model = get_peft_model(base, lora_config(8, target_modules=detect_lora_targets(base)))
    prompt = truncate_prompt(tok, bundled_preferences("train")[0].prompt, 200)
    torch.manual_seed(0)
    roll = policy.sample(model, tok, [prompt], args.group, args.tokens, 1.0)
    a = (roll.prompt_ids, roll.prompt_mask, roll.completion_ids, roll.completion_mask)
    print(f"GRPO: group {args.group}, prompt {a[0].size(1)} tokens, {a[2].size(1)} completion tokens", flush=True)

    def passes(shared: bool):
        def run():
            with torch.no_grad(), policy.reference(model):
                if shared:
                    policy.group_token_logps(model, *a, args.group)
                else:
                    policy.token_logps(model, *a)
            if shared:
                lp, _ = policy.group_token_logps(model, *a, args.group, with_entropy=True)
            else:
                lp, _, _ = policy.token_logps(model, *a, with_entropy=True)
            (lp * a[3]).sum().backward()
            model.zero_grad(set_to_none=True)
        return run

    paired("GRPO reference + policy passes", ("every row whole", passes(False)), ("prompt once", passes(True)),
           args.rounds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--examples", type=int, default=2)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=40)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--only", default="lora,grpo")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from _common import quiet_torch

    torch = quiet_torch(args.threads)
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    print(f"torch threads {torch.get_num_threads()}, {load()}", flush=True)
    loaded = load_model(ModelSource("bundled"), device="cpu", dtype="float32")
    if "lora" in args.only:
        lora_pairs(args, loaded)
    if "grpo" in args.only:
        grpo_pairs(args, loaded)


if __name__ == "__main__":
    main()
