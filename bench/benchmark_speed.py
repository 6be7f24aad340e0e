"""Benchmarks on the bundled model: per-choice scoring throughput, an item's shared context read once and its
choices batched after it, against one pass per choice (target: batched >= 2x on a CPU), and the bundled model's
accuracies per kind (acc and acc_norm with Wilson 95% intervals, chance).

    nice .venv/bin/python bench/benchmark_speed.py [--speed-items 6] [--limit 0] [--threads 2]

Throughput is measured on the first --speed-items items of each kind, both ways in turn on the same items
(after one warm-up item); the accuracies use every item (or --limit per kind), batched.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed-items", type=int, default=6, help="items per kind for the throughput figure")
    parser.add_argument("--limit", type=int, default=0, help="items per kind for the accuracies (0: all)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = parser.parse_args()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from playground.core.evaluation.benchmark import bundled_benchmarks, doc_text
    from playground.core.evaluation.benchmark_report import INTERVAL_NOTE, format_table
    from playground.core.evaluation.benchmark_run import BenchSystem, ItemResult, run_benchmarks, summarize
    from playground.core.evaluation.benchmark_score import _requests, _shared_length, context_window, score_item
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    loaded = load_model(ModelSource("bundled"), device="cpu")
    model, tok = loaded.model, loaded.tokenizer
    benches = bundled_benchmarks()
    print(f"model: {loaded.info.name} ({loaded.info.dtype}), torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads")
    score_item(model, tok, benches[0].items[0], doc_text(benches[0].items[0]))  # warm-up
    print(f"\nthroughput on the first {args.speed_items} items of each kind (4 choices each):")
    print(f"{'kind':<16}{'batched items/s':>17}{'per-choice items/s':>20}{'speed-up':>10}{'max |diff|':>12}"
          f"{'ceiling':>9}")
    totals = {True: 0.0, False: 0.0}
    count = 0
    for bench in benches:
        items = bench.items[: args.speed_items]
        seconds, logliks = {}, {}
        for batched in (False, True):
            started = time.perf_counter()
            logliks[batched] = [score_item(model, tok, it, doc_text(it), batched=batched).logliks for it in items]
            seconds[batched] = time.perf_counter() - started
            totals[batched] += seconds[batched]
        count += len(items)
        # the most that reading the shared context once can save: every row's tokens one pass per choice,
        # against the shared tokens once plus each row's own tokens (no padding)
        whole = own = 0
        for it in items:
            rows, conts, _ = _requests(tok, doc_text(it), it, context_window(model, tok))
            shared = _shared_length(rows, conts)
            whole += sum(len(r) for r in rows)
            own += shared + sum(len(r) - shared for r in rows)
        diff = max(abs(a - b) for x, y in zip(logliks[True], logliks[False]) for a, b in zip(x, y))
        print(f"{bench.name:<16}{len(items) / seconds[True]:>17.2f}{len(items) / seconds[False]:>20.2f}"
              f"{seconds[False] / seconds[True]:>9.2f}x{diff:>12.1e}{whole / own:>8.2f}x")
    print(f"{'all':<16}{count / totals[True]:>17.2f}{count / totals[False]:>20.2f}"
          f"{totals[False] / totals[True]:>9.2f}x   (target: batched >= 2x)")
    print("ceiling: the token positions one pass per choice reads, over the shared context once plus each choice's "
          "own tokens;\nno exact scoring that reads every choice's tokens can beat it on a compute-bound CPU")
    started = time.perf_counter()
    results = [r for r in run_benchmarks(loaded, [b.head(args.limit or None) for b in benches], [BenchSystem()])
               if isinstance(r, ItemResult)]
    print(f"\naccuracies of the bundled model, 0-shot ({len(results)} items, {time.perf_counter() - started:.0f} s):")
    print(format_table(summarize(results), {b.name: b.title for b in benches}))
    print(INTERVAL_NOTE)
    disagree = sum(r.score.pred != r.score.pred_norm for r in results)
    print(f"acc and acc_norm pick different choices on {disagree} of {len(results)} items")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
