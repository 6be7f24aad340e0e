"""Scoring 1,000 pairs with playground.core.evaluation.metrics.rouge against calling rouge-score directly.

Both compute ROUGE-1/2/L/Lsum with the Porter stemmer, then the mean F1 per type; they run
alternately in the same process, several rounds, and the best round of each is compared.
Target: ratio <= 1.1.

    python bench/rouge.py [--pairs 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's playground, not an installed one

WORDS = ["the", "meeting", "was", "moved", "to", "friday", "because", "tom", "is", "travelling", "and", "anna", "booked", "a", "table", "at", "the", "restaurant", "near", "the", "station", "tickets", "cost", "twenty", "dollars", "she", "agreed", "he", "refused", "they", "talked", "about", "rent", "running", "late", "the", "manager", "will", "call", "back", "tomorrow", "morning"]


def make_pairs(n: int, seed: int = 0):
    rng = random.Random(seed)
    preds, refs = [], []
    for _ in range(n):
        ref = [rng.choice(WORDS) for _ in range(rng.randint(15, 45))]
        pred = [w for w in ref if rng.random() < 0.6] + [rng.choice(WORDS) for _ in range(rng.randint(0, 12))]
        rng.shuffle(pred) if rng.random() < 0.3 else None
        refs.append(" ".join(ref).capitalize() + ".")
        preds.append(" ".join(pred).capitalize() + ".")
    return preds, refs


def direct(preds, refs):
    import numpy as np
    from rouge_score import rouge_scorer

    keys = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    scorer = rouge_scorer.RougeScorer(keys, use_stemmer=True)
    scores = [scorer.score(r, p) for p, r in zip(preds, refs)]
    return {k: float(np.mean([s[k].fmeasure for s in scores])) for k in keys}


def ours(preds, refs):
    from playground.core.evaluation.metrics import rouge

    return rouge(preds, refs, use_stemmer=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    preds, refs = make_pairs(args.pairs)
    a, b = direct(preds, refs), ours(preds, refs)  # warm-up: imports, stemmer
    assert a == dict(b), (a, dict(b))
    times = {"rouge-score": [], "playground": []}
    for _ in range(args.rounds):
        for name, fn in (("rouge-score", direct), ("playground", ours)):
            t0 = time.perf_counter()
            fn(preds, refs)
            times[name].append(time.perf_counter() - t0)
    best = {k: min(v) for k, v in times.items()}
    print(f"pairs: {args.pairs}, rounds: {args.rounds} (best round of each)")
    for name, t in best.items():
        print(f"  {name:12s} {t:.3f} s  ({args.pairs / t:,.0f} pairs/s)   all rounds: "
              + ", ".join(f"{x:.3f}" for x in times[name]))
    print(f"  ratio playground / rouge-score: {best['playground'] / best['rouge-score']:.3f}  (target <= 1.1)")
    print("  scores identical:", a == dict(b), {k: round(v, 4) for k, v in a.items()})


if __name__ == "__main__":
    main()
