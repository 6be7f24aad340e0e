"""Learning against forgetting for LoRA, prompt tuning and full fine-tuning on the bundled train split.

Trains each method briefly (core/lifecycle/forgetting_run.preset: 12 steps of 4 examples, validation
loss at step 0 and at the end), runs the forgetting probes on the base, its BF16 noise floor and
each trained model, prints the table with wall times and the machine load, and saves the plot.

    PLAYGROUND_HOME=/tmp/pg-bench OMP_NUM_THREADS=1 nice -n 10 python bench/forgetting.py [--stress]
        [--steps 12] [--methods lora,prompt_tuning,full] [--out /tmp/forgetting-runs]
        [--plot docs/screens/lifecycle-forgetting-plot.png] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stress", action="store_true", help="10x each method's default learning rate")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--methods", default="lora,prompt_tuning,full")
    ap.add_argument("--out", default="/tmp/forgetting-runs")
    ap.add_argument("--plot", default="docs/screens/lifecycle-forgetting-plot.png")
    ap.add_argument("--reuse", action="store_true", help="skip training where a finished run is already there")
    args = ap.parse_args()

    import torch

    from playground.cli.common import quiet_training_libraries
    from playground.core.finetune import run_finetune
    from playground.core.finetune.layout import RunFolder
    from playground.core.lifecycle import forgetting_run as FR
    from playground.core.lifecycle.forgetting import first_sentence
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    quiet_training_libraries()
    print(f"torch threads {torch.get_num_threads()}; load: {load()}", flush=True)
    start = time.perf_counter()
    suffix = "-stress" if args.stress else ""
    runs = []
    for method in args.methods.split(","):
        run = Path(args.out) / f"{method}{suffix}"
        runs.append(run)
        if args.reuse and RunFolder(run).status() == "finished":
            continue
        cfg = FR.preset(method, run, stress=args.stress, steps=args.steps)
        cfg.model.device = "cpu"
        t0 = time.perf_counter()
        list(run_finetune(cfg))
        print(f"trained {method} (lr {cfg.learning_rate:g}, {args.steps} steps) in {time.perf_counter() - t0:.0f} s"
              f"  [{load()}]", flush=True)
    t0 = time.perf_counter()
    base = load_model(ModelSource("bundled"), device="cpu", dtype="float32")
    shared = FR.baseline(base)
    print(f"base probes + BF16 noise floor in {time.perf_counter() - t0:.0f} s  [{load()}]", flush=True)
    rows = []
    for run in runs:
        t0 = time.perf_counter()
        rows.append(FR.check_run(run, base=base, baseline_result=shared))
        print(f"probed {run.name} in {time.perf_counter() - t0:.0f} s  [{load()}]", flush=True)
    print()
    print(FR.format_table(rows))
    questions = FR.load_probes()["questions"]
    for r in rows:
        for q, was, now, reply in zip(questions, r.report.before.question_pass, r.report.after.question_pass,
                                      r.report.after.replies):
            if was and not now:
                print(f"  {r.run} lost {q['q']!r}: now {first_sentence(reply)!r}")
    FR.save_plot(rows, args.plot)
    print(f"plot {args.plot}; total wall time {time.perf_counter() - start:.0f} s; load after: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
