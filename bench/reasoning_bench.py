"""Accuracy per reasoning strategy on the bundled problem set, with tokens and seconds per problem.

    nice python bench/reasoning_bench.py --limit 6                     # the bundled SmolLM2-135M
    nice python bench/reasoning_bench.py --limit 20 --model DIR        # and a larger local model folder

Prints, per model, a table: right / graded, accuracy, Wilson 95% interval, new tokens per problem, seconds per
problem, for direct, zero-shot CoT, few-shot CoT, self-consistency (k paths) and PAL. On a 2-core CPU the
bundled model takes about a minute per problem with all five strategies at k=5: keep --limit small, or lower
--k. Timings depend on the machine's load: print `uptime` before and after.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource
    from playground.core.reasoning.evaluation import run_set
    from playground.core.reasoning.problems import bundled_problems, select
    from playground.core.reasoning.prompts import STRATEGIES
    from playground.core.reasoning.settings import ReasoningSettings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=6, help="problems from the bundled set (default 6)")
    parser.add_argument("--model", action="append", default=[], help="a larger local model folder (repeatable)")
    parser.add_argument("--k", type=int, default=5, help="self-consistency paths (default 5)")
    parser.add_argument("--strategies", default=",".join(STRATEGIES), help="comma-separated strategy keys")
    parser.add_argument("--kinds", default="arithmetic,word", help="problem kinds (arithmetic, word, knowledge)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--progress", action="store_true", help="print the table so far after every problem")
    args = parser.parse_args()
    problems = select(bundled_problems(tuple(args.kinds.split(","))), args.limit)
    # spread the limit over the kinds: every third problem rather than the first N arithmetic ones
    if args.limit < len(bundled_problems(tuple(args.kinds.split(",")))):
        every = bundled_problems(tuple(args.kinds.split(",")))
        step = max(1, len(every) // args.limit)
        problems = every[::step][: args.limit]
    settings = ReasoningSettings(k=args.k)
    strategies = args.strategies.split(",")
    for ref in ["bundled", *args.model]:
        started = time.perf_counter()
        loaded = load_model(ModelSource.parse(ref), device=args.device)
        print(f"\n# {loaded.info.name} on {args.device} (loaded in {time.perf_counter() - started:.1f} s); "
              f"{len(problems)} problems ({', '.join(p.id for p in problems)}); {settings.describe()}")
        started = time.perf_counter()
        clock = time.perf_counter()

        def progress(partial) -> None:  # a running table, so a run cut short still gives its figures
            done = len({r.problem_id for r in partial.results})
            print(f"\n[{done} of {len(problems)} problems, {time.perf_counter() - clock:.0f} s]\n{partial.table()}",
                  flush=True)

        report = run_set(loaded, problems, strategies, settings, on_problem=progress if args.progress else None)
        print(report.table())
        print(f"total {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
