"""Print the pruning sweep for a model (default: the bundled one): perplexity, KL from the dense model and
top-1 agreement at 0, 30, 50, 70 and 90% for unstructured (global magnitude), heads and layers, the decode
speed of each, and the wall time of the whole sweep, with the machine load before and after.

    python bench/pruning_sweep.py [--texts 20] [--tokens 24] [--methods global,heads,layers] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bundled")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--texts", type=int, default=20, help="test summaries perplexity and KL are measured on")
    ap.add_argument("--tokens", type=int, default=24, help="greedy tokens (the decode speed)")
    ap.add_argument("--methods", default="global,heads,layers")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--rank-texts", type=int, default=8, help="bundled dialogues heads and layers are ranked on")
    args = ap.parse_args()
    from _common import quiet_torch

    torch = quiet_torch(args.threads)
    from playground.core.lifecycle import precision as P
    from playground.core.lifecycle.pruning_run import (PruningRow, format_table, importance_texts, pruning_sweep,
                                                       sweep_runs)
    from playground.core.lifecycle.pruning_structure import Importance
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    print(f"torch threads {torch.get_num_threads()}, load before: {os.getloadavg()}", flush=True)
    loaded = load_model(ModelSource.parse(args.model), device=args.device, dtype="float32")
    runs = sweep_runs(args.methods.split(","))
    start = time.perf_counter()
    rows = []
    for item in pruning_sweep(loaded.model, loaded.tokenizer, loaded.device, runs,
                              texts=P.default_texts(args.texts), new_tokens=args.tokens,
                              rank_texts=importance_texts(args.rank_texts)):
        if isinstance(item, Importance):
            print(f"heads and layers ranked at {time.perf_counter() - start:.0f} s", flush=True)
        if isinstance(item, PruningRow):
            rows.append(item)
            print(f"{item.label} done at {time.perf_counter() - start:.0f} s, load {os.getloadavg()}", flush=True)
    wall = time.perf_counter() - start
    print(format_table(rows))
    print()
    dense = rows[0]
    print(f"{'kind':<8} " + " ".join(f"{f'{s:.0%}':>26}" for s in (0, .3, .5, .7, .9)))
    for method in args.methods.split(","):
        mine = [dense] + [r for r in rows if r.method == method]
        print(f"{method:<8} " + " ".join(f"{f'ppl {r.perplexity:.1f} KL {r.kl:.2f} {r.top1:.0%}':>26}" for r in mine))
        print(f"{'':<8} " + " ".join(f"{f'{r.tokens_per_s:.1f} tok/s {r.params / 1e6:.0f}M':>26}" for r in mine))
    print(f"sweep wall time {wall:.1f} s on {loaded.device} ({len(rows)} models, {args.texts} texts, "
          f"{args.tokens} tokens); load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
