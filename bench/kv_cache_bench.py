"""KV cache figures for a model (default: the bundled one): cache bytes per token computed from the config
against the bytes measured in the cache tensors (numel × element size, after a greedy prefill and a few decode
steps), and time per new token with and without the cache at 64, 256 and 1,024 tokens, with the machine load.

    nice -n 10 python bench/kv_cache_bench.py [--lengths 64,256,1024] [--repeats 3] [--threads 2] [--dtype float32]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bundled")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--lengths", default="64,256,1024")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4, help="decode steps after the prefill before measuring")
    args = ap.parse_args()
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    from _common import quiet_torch

    torch = quiet_torch(args.threads)
    from playground.core.base.units import format_bytes
    from playground.core.decoding.generation import format_prompt
    from playground.core.lifecycle import kv_cache as K
    from playground.core.lifecycle import kv_timing as T
    from playground.core.lifecycle.kv_stepper import KVCacheStepper, default_prompt
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; load before: {os.getloadavg()}")
    loaded = load_model(ModelSource.parse(args.model), device="cpu", dtype=args.dtype)
    shape = K.shape_of_loaded(loaded)
    print(f"\n{loaded.info.name}: {shape.arithmetic()}")
    stepper = KVCacheStepper(loaded, format_prompt(loaded, default_prompt(), True), attention=False,
                             max_new_tokens=args.steps + 1)
    steps = list(stepper.run())
    cache = stepper.cache
    positions = cache.get_seq_length()
    measured = sum(t.numel() * t.element_size() for layer in cache.layers for t in (layer.keys, layer.values))
    print(f"after prefill + {len(steps) - 1} decode steps: {positions} positions cached in "
          f"{len(cache.layers)} layers; keys of layer 0 {tuple(cache.layers[0].keys.shape)} {cache.layers[0].keys.dtype}")
    print(f"  computed {positions} × {shape.bytes_per_token:,} = {positions * shape.bytes_per_token:,} bytes; "
          f"measured {measured:,} bytes ({format_bytes(measured)}); per token {measured / positions:,.0f} bytes")
    print(f"  full multi-head attention would hold {positions * shape.mha_bytes_per_token:,} bytes "
          f"({shape.heads // shape.kv_heads}× as much)")
    print("\nCache memory for the bundled published configs (BF16):")
    print(K.memory_table([shape, *K.bundled_shapes()]))

    lengths = T.parse_lengths(args.lengths)
    print(f"\nTime per new token (median of {args.repeats}), with vs without the cache; load {os.getloadavg()}")
    start = time.perf_counter()
    points = []
    for p in T.time_per_token(loaded, lengths, repeats=args.repeats):
        points.append(p)
        print(f"  {p.length:>6} tokens done at {time.perf_counter() - start:.0f} s, load {os.getloadavg()}",
              flush=True)
    print(T.timing_table(points))
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
