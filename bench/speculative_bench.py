"""Speculative decoding on the bundled model: acceptance rate and measured speed-up for self-speculative
drafts (the target's first N layers) at N = 4, 8, 15 and γ = 2, 4, 8, greedy.

Each configuration is timed against plain decoding of the same prompt, the same length and settings,
run right after it (paired, so a change of load on the machine hits both alike). The cost model is
printed too: one target pass over 1 token and over γ+1 tokens, one draft step, so the result can be
explained rather than just reported.

    nice -n 10 .venv/bin/python bench/speculative_bench.py [--tokens 24] [--layers 4,8,15] [--gammas 2,4,8]\n                                                            [--threads 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROMPT = "Explain in two sentences why the sky is blue."


def _pass_seconds(loaded, prompt_ids, width: int, repeats: int = 5) -> float:
    """Median seconds of one cached pass over ``width`` new tokens after the prompt."""
    import statistics

    from playground.core.decoding.speculative import VerifyingDecoder

    dec = VerifyingDecoder(loaded, prompt_ids)
    dec.feed_all(prompt_ids)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        dec.feed_all(prompt_ids[-width:] if width <= len(prompt_ids) else [prompt_ids[-1]] * width)
        times.append(time.perf_counter() - t0)
        dec.crop(width)
    return statistics.median(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=24)
    ap.add_argument("--layers", default="4,8,15")
    ap.add_argument("--gammas", default="2,4,8")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads (0: torch's default). On a CPU shared with other jobs, 1 thread avoids "
                         "OpenMP waits that made a pass over 2-9 tokens 10-80x a one-token pass here")
    args = ap.parse_args()
    print("uptime before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from playground.core.decoding.draft_models import load_draft
    from playground.core.decoding.generation import format_prompt
    from playground.core.decoding.speculative_session import measure_speedup, open_run
    from playground.core.decoding.speculative_settings import SpeculativeSettings
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    print(f"torch threads {torch.get_num_threads()}, cpus {os.cpu_count()}")
    target = load_model(ModelSource("bundled"), device="cpu")
    prompt = format_prompt(target, PROMPT, use_chat_template=True)
    ids = target.tokenizer(prompt)["input_ids"]
    layers = [int(x) for x in args.layers.split(",")]
    gammas = [int(x) for x in args.gammas.split(",")]
    print(f"target {target.info.name}, {target.info.num_layers} layers, greedy, {args.tokens} new tokens, "
          f"prompt {len(ids)} tokens")
    print("\ncost of one pass (median of 5, seconds):")
    one = _pass_seconds(target, ids, 1)
    print(f"  target, 1 token: {one:.4f}")
    for g in gammas:
        print(f"  target, {g + 1} tokens: {_pass_seconds(target, ids, g + 1):.4f}")
    drafts = {n: load_draft(target, f"layers:{n}") for n in layers}
    for n, d in drafts.items():
        print(f"  draft first {n} layers, 1 token: {_pass_seconds(d.loaded, ids, 1):.4f}")
    print("\n  N   γ  accept%  tok/pass  spec tok/s  plain tok/s  speed-up  same text  draft share")
    for n in layers:
        for g in gammas:
            s = SpeculativeSettings(draft=f"layers:{n}", gamma=g, max_new_tokens=args.tokens)
            run, _ = open_run(target, prompt, s, drafts[n])
            for _ in run.run():
                pass
            speed = measure_speedup(run)
            t = run.totals()
            print(f"{n:3d} {g:3d}  {100 * t['acceptance_rate']:6.1f}  {t['tokens_per_target_pass']:8.2f}  "
                  f"{speed.spec_rate:10.2f}  {speed.plain_rate:11.2f}  {speed.factor:7.2f}x  {str(speed.same_text):>9}  "
                  f"{100 * t['draft_seconds'] / t['seconds']:10.0f}%", flush=True)
    print("\nuptime after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
