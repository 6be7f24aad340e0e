"""Structured output and ReAct figures (issue 31 §2, §3), printed:

- the JSON parse rate over the first N bundled problems, free and constrained (xgrammar), and right answers;
- the constrained step's overhead per token: the same token sequence decoded twice, with and without the
  grammar's work (fill the bitmask, mask the scores, accept the token), interleaved and repeated (median);
- the ReAct success rate over the first M knowledge questions, Action line free and constrained.

    nice python bench/structured_react_bench.py [--limit 6] [--react-limit 3] [--max-steps 4] [--model bundled]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def overhead(loaded, prompt: str, repeats: int = 5) -> tuple[float, float, int]:
    """(ms per token plain, ms per token with the grammar's work, tokens) on one constrained answer's tokens."""
    import torch

    from playground.core.decoding.cached_step import CachedDecoder
    from playground.core.decoding.generation import check_prompt
    from playground.core.reasoning.constrained import TokenMask, compile_json_schema, decode_structured

    first = decode_structured(loaded, prompt, constrained=True, record=False)
    tokens = loaded.tokenizer.encode(first.text, add_special_tokens=False)
    ids = check_prompt(loaded, prompt, len(tokens) + 1)
    grammar = compile_json_schema(loaded)
    plain, masked = [], []
    for _ in range(repeats):
        for with_mask in (False, True):
            mask = TokenMask(grammar) if with_mask else None
            decoder = CachedDecoder(loaded, ids)
            decoder.start()
            start = time.perf_counter()
            for t in tokens:
                logits = decoder.feed([t])
                if mask is not None:
                    mask.apply(logits)
                    mask.accept(t)
                else:
                    torch.argmax(logits)
            (masked if with_mask else plain).append((time.perf_counter() - start) / len(tokens) * 1000)
    return statistics.median(plain), statistics.median(masked), len(tokens)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="bundled")
    ap.add_argument("--limit", type=int, default=6, help="problems for the parse rate")
    ap.add_argument("--react-limit", type=int, default=3, help="knowledge questions for the ReAct success rate")
    ap.add_argument("--max-steps", type=int, default=4)
    ap.add_argument("--skip-react", action="store_true")
    args = ap.parse_args()
    import torch

    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource
    from playground.core.reasoning.constrained import structured_prompt
    from playground.core.reasoning.problems import bundled_problems, load_problems
    from playground.core.reasoning.react_session import react_success
    from playground.core.reasoning.structured_eval import parse_rate

    loaded = load_model(ModelSource.parse(args.model), device="cpu")
    print(f"model {loaded.info.name} · torch threads {torch.get_num_threads()} · greedy")
    problems = bundled_problems()[:args.limit]
    for on in (False, True):
        t = time.perf_counter()
        r = parse_rate(loaded, problems, on)
        print(f"JSON answers {'constrained' if on else 'free':11s}: parse rate {r.parse_rate:.0%} "
              f"({sum(o.parsed for o in r.outcomes)}/{len(r.outcomes)}), right {r.accuracy:.0%}, "
              f"{sum(o.tokens for o in r.outcomes) / len(r.outcomes):.0f} tokens per answer, "
              f"{time.perf_counter() - t:.0f} s")
    plain, masked, n = overhead(loaded, structured_prompt(loaded, problems[0].question))
    print(f"per-token step over {n} tokens (median of 5, interleaved): plain {plain:.1f} ms, with the grammar "
          f"{masked:.1f} ms -> overhead {100 * (masked - plain) / plain:+.1f}% (target <= 10%)")
    if not args.skip_react:
        from playground.core.reasoning.tools import KnowledgeSearch

        search = KnowledgeSearch()
        search("ferry")  # build or open the index before timing the traces
        knowledge = load_problems(kinds=("knowledge",))[:args.react_limit]
        for on in (False, True):
            t = time.perf_counter()
            rep = react_success(loaded, knowledge, on, args.max_steps, search)
            print(f"ReAct {'constrained' if on else 'free':11s}: success {rep.success_rate:.0%} "
                  f"({sum(o.right for o in rep.outcomes)}/{len(rep.outcomes)}); ended: finished "
                  f"{rep.count('finished')}, stuck {rep.count('stuck')}, step limit {rep.count('step limit')}; "
                  f"tools used {[o.tools_used for o in rep.outcomes]}; {time.perf_counter() - t:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
