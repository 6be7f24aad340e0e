"""Tokens/s of the app's streaming generation (recording the top-20 each step) vs plain
`model.generate`, same model, prompt and settings, in the same run. Target ratio >= 0.95.

Run: python bench/generation.py [--tokens 64] [--reps 5] [--model bundled]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=64)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--model", default="bundled")
    ap.add_argument("--device", default="cpu", help="cpu, cuda, auto")
    ap.add_argument("--dtype", default="auto", help="auto, float32, bfloat16, float16")
    args = ap.parse_args()
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    import torch

    from playground.core.decoding.generation import (
        GenerationSettings,
        format_prompt,
        stream_generate,
    )
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    loaded = load_model(ModelSource.parse(args.model), device=args.device, dtype=args.dtype)
    prompt = format_prompt(loaded, "Explain in a few sentences why the sky is blue.", True)
    ids = loaded.tokenizer(prompt, return_tensors="pt").to(next(loaded.model.parameters()).device)
    n = args.tokens
    print(f"model: {loaded.info.name} on {loaded.info.device} ({loaded.info.dtype}), threads: {torch.get_num_threads()}, prompt tokens: "
          f"{ids['input_ids'].shape[1]}, new tokens: {n}")

    def ours(sample: bool) -> float:
        s = GenerationSettings.make(max_new_tokens=n, do_sample=sample, temperature=0.8, top_k=50, top_p=0.95,
                               seed=1, top_n=20, stop_at_eos=False)
        t0 = time.perf_counter()
        count = sum(1 for _ in stream_generate(loaded, prompt, s))
        assert count == n
        return n / (time.perf_counter() - t0)

    def plain(sample: bool) -> float:
        kw = dict(do_sample=True, temperature=0.8, top_k=50, top_p=0.95) if sample else dict(do_sample=False)
        torch.manual_seed(1)
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = loaded.model.generate(**ids, max_new_tokens=n, min_new_tokens=n, **kw)
        assert out.shape[1] - ids["input_ids"].shape[1] == n
        return n / (time.perf_counter() - t0)

    for sample in (False, True):
        ours(sample), plain(sample)  # warm-up
        a, b = [], []
        for _ in range(args.reps):  # interleaved so both see the same machine load
            a.append(ours(sample))
            b.append(plain(sample))
        ma, mb = statistics.median(a), statistics.median(b)
        mode = "sampling" if sample else "greedy"
        print(f"{mode:8s} streaming + top-20: {ma:6.1f} tok/s | model.generate: {mb:6.1f} tok/s | "
              f"ratio {ma / mb:.3f} (target >= 0.95)")


if __name__ == "__main__":
    main()
