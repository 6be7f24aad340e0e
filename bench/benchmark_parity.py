"""Parity with lm-evaluation-harness: the app's per-choice log-likelihoods, acc and acc_norm on the bundled
mini benchmark against lm-eval's HF backend (HFLM) on the same local model folder, offline.

lm-eval reads each bundled file through a local task YAML (``dataset_path: json`` over a copy of the file
with the item's text written out, ``output_type: multiple_choice``), loads the bundled model's cached
safetensors folder with ``pretrained=<folder>`` and scores 0-shot. The app scores the same items with
``benchmark_score.score_item`` (the shared context read once, the choices batched after it). Printed: the largest difference in a choice's
log-likelihood (target <= 1e-4), how many prompts differ, and acc / acc_norm per kind from both. The
app's acc_norm divides by bytes: it is compared with lm-eval's ``acc_bytes``, and with its ``acc_norm``
(characters), which differ only on items with non-ASCII text.

    nice .venv/bin/python bench/benchmark_parity.py [--kinds knowledge,reading] [--limit 10]

Skips with a note when ``lm_eval`` is not installed (``pip install lm-eval``: not a test dependency).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TASK = """task: {task}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: multiple_choice
doc_to_text: text
doc_to_choice: choices
doc_to_target: gold
metric_list:
  - metric: acc
  - metric: acc_norm
  - metric: acc_bytes
"""


def write_tasks(folder: Path, benches) -> list[str]:
    from playground.core.evaluation.benchmark import doc_text

    names = []
    for b in benches:
        task = f"playground_{b.name}"
        data = folder / f"{b.name}.jsonl"
        data.write_text("".join(json.dumps({"text": doc_text(i), "choices": list(i.choices), "gold": i.gold}) + "\n"
                                for i in b.items), encoding="utf-8")
        (folder / f"{task}.yaml").write_text(TASK.format(task=task, data=data), encoding="utf-8")
        names.append(task)
    return names


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--kinds", default="", help="comma-separated bundled kinds (default: all four)")
    parser.add_argument("--limit", type=int, default=0, help="items per kind (default: all)")
    args = parser.parse_args()
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        print("SKIPPED: lm-eval is not installed (pip install lm-eval); the tests check the app against an "
              "independent reference computation instead.")
        return 0
    import torch

    from playground.core.evaluation.benchmark import bundled_benchmarks
    from playground.core.evaluation.benchmark_score import score_item
    from playground.core.models.bundled import ensure_bundled_cache

    torch.set_num_threads(max(1, torch.get_num_threads()))
    folder = ensure_bundled_cache()
    benches = [b.head(args.limit or None) for b in bundled_benchmarks([k for k in args.kinds.split(",") if k] or None)]
    print(f"model folder: {folder}; lm-eval {lm_eval.__version__ if hasattr(lm_eval, '__version__') else ''}; "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads")

    from lm_eval import simple_evaluate
    from lm_eval.tasks import TaskManager

    with tempfile.TemporaryDirectory() as tmp:
        names = write_tasks(Path(tmp), benches)
        started = time.perf_counter()
        out = simple_evaluate(model="hf", model_args=f"pretrained={folder},dtype=float32,device=cpu",
                              tasks=names, num_fewshot=0, batch_size=4, log_samples=True,
                              task_manager=TaskManager(include_path=tmp), bootstrap_iters=0)
        lm_seconds = time.perf_counter() - started
    harness = out["samples"]
    lm = out  # keep the reference alive until the end (the HFLM model)
    del lm

    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32).eval()
    worst, worst_at, prompts_differ, rows = 0.0, "", 0, []
    started = time.perf_counter()
    for b in benches:
        samples = sorted(harness[f"playground_{b.name}"], key=lambda s: s["doc_id"])
        acc = [0, 0, 0, 0, 0]  # app acc, app acc_norm, lm acc, lm acc_norm (chars), lm acc_bytes
        for item, sample in zip(b.items, samples):
            from playground.core.evaluation.benchmark import doc_text

            context = doc_text(item)
            ours = score_item(model, tokenizer, item, context, batched=True)
            theirs = [float(r[0]) for r in sample["filtered_resps"]]
            prompts_differ += any(a[0] != context or a[1] != " " + c for a, c in zip(sample["arguments"], item.choices))
            for i, (x, y) in enumerate(zip(ours.logliks, theirs)):
                if abs(x - y) > worst:
                    worst, worst_at = abs(x - y), f"{item.id} choice {i + 1}"
            acc[0] += ours.correct
            acc[1] += ours.correct_norm
            acc[2] += sample["acc"]
            acc[3] += sample["acc_norm"]
            acc[4] += sample["acc_bytes"]
        rows.append((b.name, len(b.items), acc))
    app_seconds = time.perf_counter() - started
    print(f"\n{'kind':<16}{'items':>6}{'app acc':>9}{'lm acc':>8}{'app norm':>10}{'lm bytes':>10}{'lm chars':>10}")
    for name, n, a in rows:
        print(f"{name:<16}{n:>6}{a[0] / n:>9.3f}{a[2] / n:>8.3f}{a[1] / n:>10.3f}{a[4] / n:>10.3f}{a[3] / n:>10.3f}")
    same = all(a[0] == a[2] and a[1] == a[4] for _, _, a in rows)
    print(f"\nlargest |loglik difference| per choice: {worst:.2e} ({worst_at}); target <= 1e-4: "
          f"{'met' if worst <= 1e-4 else 'NOT met'}")
    print(f"prompts (context, continuation) that differ from lm-eval's: {prompts_differ}")
    print(f"acc and acc_norm (bytes) equal to lm-eval's acc and acc_bytes on every kind: {same}")
    print(f"time: lm-eval {lm_seconds:.0f} s (batch 4, incl. loading), app {app_seconds:.0f} s")
    return 0 if worst <= 1e-4 and same and not prompts_differ else 1


if __name__ == "__main__":
    raise SystemExit(main())
