"""Would decoding several sequences as one batch shorten the waits? (issue 35)

Prints, for the bundled model on this CPU:
1. one decode step's time at batch 1, 2, 3, 4, 6 and 8 (after a 200-token prompt), per sequence, at FP32
   and at BF16 weights: a batch reads the weights once for all its rows, so where a step is bound by
   reading the weights a batch of B costs about one step;
2. the one-layer-shaped matrix products behind it (the MLP's 576 -> 1536 at batch 1 and 4, over 60
   distinct weights so they come from memory, not the cache), FP32 / BF16 / FP16;
3. the Prompt tab's 0/1/2-shot comparison on N test dialogues (chat template, greedy, 60 new tokens),
   the three variants decoded one after the other (the app) against as one left-padded batch, with
   whether every batched summary's tokens equal the one-at-a-time tokens.

Run: python bench/decode_batch.py [--dialogues 3] [--skip-prompt]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def step_times(model, batches=(1, 2, 3, 4, 6, 8), prompt=200, steps=20) -> dict[int, float]:
    import torch

    out = {}
    for b in batches:
        x = torch.randint(100, 1000, (b, prompt))
        with torch.inference_mode():
            o = model(input_ids=x, use_cache=True, logits_to_keep=1)
            cache, nxt = o.cache, o.logits[:, -1].argmax(-1)
            began = time.perf_counter()
            for _ in range(steps):
                o = model(input_ids=nxt[:, None], cache=cache, use_cache=True, logits_to_keep=1)
                cache, nxt = o.cache, o.logits[:, -1].argmax(-1)
        out[b] = (time.perf_counter() - began) / steps
    return out


def matmul_times() -> None:
    import torch

    def per_call(fn, weights, reps=30):
        fn(weights[0])
        began = time.perf_counter()
        for _ in range(reps):
            for w in weights:
                fn(w)
        return (time.perf_counter() - began) / (reps * len(weights)) * 1e6

    for dtype in (torch.float32, torch.bfloat16, torch.float16):
        weights = [torch.randn(1536, 576).to(dtype) for _ in range(60)]
        row = []
        for b in (1, 4):
            x = torch.randn(b, 576).to(dtype)
            us = per_call(lambda w: torch.nn.functional.linear(x, w), weights)
            gbs = weights[0].numel() * weights[0].element_size() / (us * 1e-6) / 1e9
            row.append(f"batch {b}: {us:6.0f} us ({gbs:4.1f} GB/s of weights)")
        print(f"  {str(dtype).replace('torch.', ''):9s} " + "   ".join(row), flush=True)


def prompt_comparison(loaded, n: int) -> None:
    import torch

    from playground.core.decoding.generation import GenerationSettings, _eos_ids, prompt_token_ids, stream_generate
    from playground.core.evaluation.datasets import load_split
    from playground.core.prompting.lab import Variant, build_variant_prompt
    from playground.core.prompting.prompts import select_shots

    model, tok = loaded.model, loaded.tokenizer
    test, train = load_split("test").examples[:n], load_split("train").examples
    settings = GenerationSettings.make(max_new_tokens=60, top_n=0)
    eos = _eos_ids(model, tok)  # the app's own stopping tokens

    def batched(prompts):
        ids = [prompt_token_ids(tok, p) for p in prompts]
        width, rows = max(map(len, ids)), len(ids)
        x = torch.full((rows, width), tok.pad_token_id or 0)
        mask = torch.zeros(rows, width, dtype=torch.long)
        for j, c in enumerate(ids):
            x[j, width - len(c):], mask[j, width - len(c):] = torch.tensor(c), 1
        outs, done = [[] for _ in ids], [False] * rows
        with torch.inference_mode():
            pos = (mask.cumsum(-1) - 1).clamp_min(0)
            o = model(input_ids=x, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1)
            for _ in range(settings.max_new_tokens):
                nxt = o.logits[:, -1].argmax(-1)
                for j in range(rows):
                    if not done[j]:
                        outs[j].append(int(nxt[j]))
                        done[j] = int(nxt[j]) in eos
                if all(done):
                    break
                mask = torch.cat([mask, torch.ones(rows, 1, dtype=torch.long)], 1)
                pos = pos[:, -1:] + 1
                o = model(input_ids=nxt[:, None], attention_mask=mask, position_ids=pos, cache=o.cache,
                          use_cache=True, logits_to_keep=1)
        return outs

    one, together, same, total = 0.0, 0.0, 0, 0
    for ex in test:
        prompts = [build_variant_prompt(loaded, ex.input, Variant(str(k), "instruction",
                   select_shots(train, k, exclude_id=ex.id, exclude_text=ex.input, seed=0), True)).text
                   for k in (0, 1, 2)]
        began = time.perf_counter()
        apart = [[s.token_id for s in stream_generate(loaded, p, settings)] for p in prompts]
        one += time.perf_counter() - began
        began = time.perf_counter()
        joint = batched(prompts)
        together += time.perf_counter() - began
        same += sum(a == b for a, b in zip(apart, joint))
        total += len(prompts)
    print(f"  {n} dialogues x 0/1/2 shots: one at a time {one:.1f} s, as one batch of 3 {together:.1f} s "
          f"(batch / one at a time = {together / one:.2f}); batched tokens equal to one-at-a-time on "
          f"{same} of {total} summaries ({load()})")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dialogues", type=int, default=3)
    ap.add_argument("--skip-prompt", action="store_true")
    args = ap.parse_args()
    import copy
    import warnings

    warnings.filterwarnings("ignore")
    import torch

    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    loaded = load_model(ModelSource("bundled"), device="cpu")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads ({load()})")
    print("1. one decode step after a 200-token prompt, by batch size (ms per step; per sequence)")
    for label, model in (("FP32", loaded.model), ("BF16", copy.deepcopy(loaded.model).to(torch.bfloat16))):
        t = step_times(model)
        print(f"  {label}: " + "  ".join(f"B={b} {s * 1e3:5.1f} ({s * 1e3 / b:4.1f})" for b, s in t.items())
              + f" ({load()})", flush=True)
    print("2. one MLP-shaped product (576 -> 1536), 60 distinct weights")
    matmul_times()
    if not args.skip_prompt:
        print("3. the Prompt tab's comparison, FP32 greedy")
        prompt_comparison(loaded, args.dialogues)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
