"""Mean ROUGE-1/2/L of the bundled model on the first N test dialogues at 0, 1 and 2 shots,
for each template (greedy decoding, chat template on for chat models). Prints a table and the
best template.

Run: python bench/prompt_shots.py [--n 20] [--shots 0 1 2] [--templates instruction flan ...]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--shots", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--templates", nargs="+", default=None)
    ap.add_argument("--max-new-tokens", type=int, default=60)
    ap.add_argument("--no-chat", action="store_true")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--full-grid", action="store_true",
                    help="every template at every shot count (default: choose the template at the first "
                         "shot count, then run the other shot counts with the best one)")
    args = ap.parse_args()
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    from playground.core.evaluation.datasets import load_split
    from playground.core.decoding.generation import GenerationSettings
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model
    from playground.core.prompting.lab import Variant, run_variants
    from playground.core.prompting.prompts import TEMPLATES, select_shots

    loaded = load_model(ModelSource("bundled"), device="cpu")
    test = load_split("test").examples[: args.n]
    train = load_split("train").examples
    settings = GenerationSettings.make(max_new_tokens=args.max_new_tokens, top_n=0)
    chat = not args.no_chat and loaded.info.has_chat_template
    names = args.templates or list(TEMPLATES)
    print(f"model: {loaded.info.name}; {len(test)} test dialogues; greedy, max {args.max_new_tokens} new tokens; "
          f"chat template: {chat}; shots drawn from train with seed {args.seed}")
    results: dict[tuple[str, int], dict] = {}

    def run(name: str, k: int) -> None:
            t0 = time.perf_counter()
            scores = {"rouge1": [], "rouge2": [], "rougeL": []}
            tokens = []
            for ex in test:
                shots = select_shots(train, k, exclude_id=ex.id, exclude_text=ex.input, seed=args.seed)
                v = Variant(f"{k}", name, shots, chat)
                done = [e for e in run_variants(loaded, ex.input, ex.reference, [v], settings) if e.done][0]
                for key in scores:
                    scores[key].append(done.scores[key])
                tokens.append(done.prompt_tokens)
            mean = {k2: statistics.mean(v2) for k2, v2 in scores.items()}
            results[(name, k)] = mean
            print(f"{name:12s} {k}-shot: ROUGE-1 {mean['rouge1']:.4f}  ROUGE-2 {mean['rouge2']:.4f}  "
                  f"ROUGE-L {mean['rougeL']:.4f}  mean prompt tokens {statistics.mean(tokens):7.1f}  "
                  f"({time.perf_counter() - t0:.0f} s)", flush=True)

    if args.full_grid:
        for name in names:
            for k in args.shots:
                run(name, k)
        best = max(names, key=lambda n: statistics.mean(results[(n, k)]["rouge1"] for k in args.shots))
        print(f"best template (mean ROUGE-1 over the shot counts): {best}")
    else:
        for name in names:
            run(name, args.shots[0])
        best = max(names, key=lambda n: results[(n, args.shots[0])]["rouge1"])
        print(f"best template at {args.shots[0]}-shot: {best}")
        for k in args.shots[1:]:
            run(best, k)
    print("  " + "  ".join(f"{k}-shot ROUGE-1 {results[(best, k)]['rouge1']:.4f}" for k in args.shots))


if __name__ == "__main__":
    main()
