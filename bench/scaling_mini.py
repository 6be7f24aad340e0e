"""Run the miniature scaling experiment, print its table and wall time, save the plot.

    python bench/scaling_mini.py [--flops 1e12] [--plot docs/screens/scaling-mini.png]
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--flops", type=float, default=1e12)
    ap.add_argument("--plot", default="docs/screens/scaling-mini.png")
    args = ap.parse_args()
    from playground.core.lifecycle import mini_scaling as M
    from playground.core.lifecycle.scaling_plot import save_plot

    import torch

    print(f"torch threads {torch.get_num_threads()}, load before: {os.getloadavg()}")
    start = time.perf_counter()
    items = list(M.run_experiment(args.flops))
    wall = time.perf_counter() - start
    results = [i for i in items if isinstance(i, M.SizeResult)]
    print(M.describe_results(results, args.flops))
    save_plot([i for i in items if isinstance(i, M.ScalePoint)], results, args.plot)
    print(f"wall time {wall:.1f} s; load after: {os.getloadavg()}; plot {args.plot}")


if __name__ == "__main__":
    main()
