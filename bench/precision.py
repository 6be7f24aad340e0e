"""Print the precision table for a model (default: the bundled one), with the machine load.

    python bench/precision.py [--formats fp32,bf16,fp16,int8,int4] [--device cpu] [--phases]

--phases also times each format's parts one by one (conversion, the perplexity passes over the 20 test
summaries, KL and top-1, 24 greedy tokens): where the sweep's wait goes.
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--formats", default="fp32,bf16,fp16,int8,int4")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default="bundled")
    ap.add_argument("--phases", action="store_true")
    args = ap.parse_args()
    from playground.core.lifecycle import precision as P
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    import torch

    print(f"torch threads {torch.get_num_threads()}, load before: {os.getloadavg()}")
    loaded = load_model(ModelSource.parse(args.model), device=args.device, dtype="float32")
    start = time.perf_counter()
    rows = []
    for row in P.precision_sweep(loaded.model, loaded.tokenizer, loaded.device, args.formats.split(",")):
        rows.append(row)
        print(f"{row.label} done at {time.perf_counter() - start:.0f} s, load {os.getloadavg()}", flush=True)
    wall = time.perf_counter() - start
    print(P.format_table(rows))
    print(f"sweep wall time {wall:.1f} s on {loaded.device}; load after: {os.getloadavg()}")
    if args.phases:
        phases(loaded, args.formats.split(","))


def phases(loaded, formats) -> None:
    from playground.core.lifecycle import model_measures as M
    from playground.core.lifecycle import precision as P

    model, tok, texts = loaded.model, loaded.tokenizer, P.default_texts()
    prompt = tok(P.DEFAULT_PROMPT, return_tensors="pt").input_ids.to(loaded.device)
    reference = None
    print(f"phases, seconds (load {os.getloadavg()}):")
    for name in formats:
        t0 = time.perf_counter()
        converted = model if name == "fp32" else P.convert(model, name)
        t1 = time.perf_counter()
        logits = M.text_logits(converted, tok, texts, loaded.device)
        t2 = time.perf_counter()
        reference = reference or logits
        M.perplexity_from_logits(logits)
        M.kl_and_agreement(reference, logits)
        t3 = time.perf_counter()
        M.greedy_tokens(converted, tok, prompt, 24)
        t4 = time.perf_counter()
        print(f"  {name}: convert {t1 - t0:.2f}, perplexity passes {t2 - t1:.2f}, KL and top-1 {t3 - t2:.2f}, "
              f"greedy {t4 - t3:.2f}", flush=True)
    print(f"load after phases: {os.getloadavg()}")


if __name__ == "__main__":
    main()
