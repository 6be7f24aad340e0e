"""Print the precision table for a model (default: the bundled one), with the machine load.

    python bench/precision.py [--formats fp32,bf16,fp16,int8,int4] [--device cpu]
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


if __name__ == "__main__":
    main()
