"""Decode speed (issue 35): tokens/s of the app's shared decode step (streaming, recording the top-20
each step) against eager FP32 `model.generate`, and against llama-cpp-python on the bundled GGUF
when it is installed (a reference only, not a dependency). Arms alternate inside each repetition,
so they see the same machine load: read the ratios. Greedy text is checked against eager FP32;
a BF16 arm names its precision and says whether its text differs.

Run:  nice python bench/generation.py [--tokens 64,512] [--reps 3] [--precisions bf16,int8,int4] [--compile] [--sample]
      nice python bench/generation.py --profile      (where a decode step's time goes)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time

PROMPT = "Explain in a few sentences why the sky is blue."


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "load average: %.2f, %.2f, %.2f" % os.getloadavg()


def app_arm(loaded, prompt: str, n: int, sample: bool):
    """The app's path: stream_generate (shared CachedDecoder, Sampling tab's rules, top-20 kept)."""
    from playground.core.decoding.generation import GenerationSettings, stream_generate

    s = GenerationSettings.make(max_new_tokens=n, do_sample=sample, temperature=0.8, top_k=50, top_p=0.95,
                                seed=1, top_n=20, stop_at_eos=False)
    t0 = time.perf_counter()
    ids = [step.token_id for step in stream_generate(loaded, prompt, s)]
    dt = time.perf_counter() - t0
    assert len(ids) == n
    return n / dt, ids


def generate_arm(loaded, input_ids, n: int, sample: bool, threads: int):
    """Plain eager `model.generate` (dynamic cache) with ``threads`` intra-op threads. It runs past
    end-of-text (eos -1) as the app's arm does (stop_at_eos off), so greedy tokens compare one to one."""
    import torch

    from playground.core.decoding.decode_speed import intra_op_threads

    kw = dict(do_sample=True, temperature=0.8, top_k=50, top_p=0.95) if sample else dict(do_sample=False)
    torch.manual_seed(1)
    with intra_op_threads(threads), torch.inference_mode():
        t0 = time.perf_counter()
        out = loaded.model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                    max_new_tokens=n, eos_token_id=-1, **kw)
        dt = time.perf_counter() - t0
    new = out[0, input_ids.shape[1]:].tolist()
    assert len(new) == n
    return n / dt, new


class CompiledLoop:
    """Not in the app (measured for issue 35): a bare greedy loop whose one-token step is
    ``torch.compile``d over a static KV cache (the prompt runs eager). Compiled on first use."""

    def __init__(self, loaded, threads: int, max_len: int) -> None:
        import torch

        self.model, self.threads, self.max_len = loaded.model, threads, max_len
        self.step = torch.compile(self._step, dynamic=False)
        self.compile_s: float | None = None

    def _step(self, ids, cache):
        return self.model(input_ids=ids, cache=cache, use_cache=True).logits[:, -1]

    def __call__(self, prompt_ids: list[int], n: int):
        import torch
        from transformers import StaticCache

        from playground.core.decoding.decode_speed import intra_op_threads

        with intra_op_threads(self.threads), torch.inference_mode():
            if self.compile_s is None:
                t0 = time.perf_counter()
                self._run(prompt_ids, 2, torch, StaticCache)
                self.compile_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            out = self._run(prompt_ids, n, torch, StaticCache)
            return n / (time.perf_counter() - t0), out

    def _run(self, prompt_ids, n, torch, StaticCache):
        cache = StaticCache(config=self.model.config, max_cache_len=self.max_len)
        first = self.model(input_ids=torch.tensor([prompt_ids]), cache=cache, use_cache=True, logits_to_keep=1)
        out = [int(first.logits[0, -1].argmax())]
        while len(out) < n:
            out.append(int(self.step(torch.tensor([[out[-1]]]), cache)[0].argmax()))
        return out


def load_llama(threads: int):
    """llama-cpp-python on the bundled GGUF, or (None, why not)."""
    try:
        import llama_cpp
    except ImportError:
        return None, "llama-cpp-python is not installed (pip install llama-cpp-python==0.3.36 builds it from source)"
    from playground.core.models.bundled import find_bundled_gguf

    try:
        gguf = find_bundled_gguf()
    except Exception as exc:  # the package holds no GGUF: say so
        return None, f"no bundled GGUF file ({exc})"
    llm = llama_cpp.Llama(model_path=str(gguf), n_ctx=1024, n_threads=threads, n_threads_batch=threads,
                          n_batch=512, verbose=False)
    return llm, f"{gguf.name}, llama-cpp-python {llama_cpp.__version__}"


def llama_arm(llm, prompt_ids: list[int], n: int):
    """Greedy decode of ``n`` tokens from the same prompt token ids (prompt evaluated again each run)."""
    llm.reset()
    out: list[int] = []
    t0 = time.perf_counter()
    for tok in llm.generate(prompt_ids, temp=0.0, top_k=1, top_p=1.0, min_p=0.0, repeat_penalty=1.0):
        out.append(int(tok))
        if len(out) == n:
            break
    dt = time.perf_counter() - t0
    return n / dt, out


def first_difference(a: list[int], b: list[int]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"differs from token {i}"
    return "identical" if len(a) == len(b) else "differs in length"


def bench(args) -> None:
    import torch

    from playground.core.decoding.decode_speed import decode_threads, native_bf16
    from playground.core.decoding.generation import check_prompt, format_prompt
    from playground.core.lifecycle.precision import at_precision
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    loaded = load_model(ModelSource.parse(args.model), device="cpu", dtype="float32")
    prompt = format_prompt(loaded, PROMPT, True)
    ids = check_prompt(loaded, prompt, 0)
    input_ids = torch.tensor([ids])
    default_threads = torch.get_num_threads()
    app_threads = decode_threads("cpu")
    print(f"model: {loaded.info.name} (cpu, {loaded.info.dtype}), prompt tokens: {len(ids)}, torch threads: "
          f"{default_threads}, the app's decode picked {app_threads} thread(s) at this load; native BF16: {native_bf16()}")
    lower = {}
    for name in args.precisions:
        if name == "bf16" and not native_bf16():
            print("BF16 arm skipped: this CPU has no native BF16 (the app keeps FP32 here).")
            continue
        lower[name] = at_precision(loaded, name)  # the Lifecycle tab's copy, named as it names it
    llm, llama_note = (None, "skipped (--no-llama)") if args.no_llama else load_llama(default_threads)
    print(f"llama.cpp reference: {llama_note}")
    llm_app = load_llama(app_threads)[0] if llm is not None and app_threads != default_threads else None

    if args.app_threads_only:  # a shorter run on busy cores: every arm at the app's thread count
        default_threads = app_threads
        llm, llm_app = llm_app or llm, None
    arms = {"app decode FP32": lambda n: app_arm(loaded, prompt, n, args.sample),
            f"eager FP32 generate, {default_threads} thr": lambda n: generate_arm(loaded, input_ids, n, args.sample,
                                                                               default_threads)}
    if app_threads != default_threads:
        arms[f"eager FP32 generate, {app_threads} thr"] = lambda n: generate_arm(loaded, input_ids, n, args.sample,
                                                                                app_threads)
    for name, copy in lower.items():
        arms[f"app decode {copy.info.dtype}"] = lambda n, copy=copy: app_arm(copy, prompt, n, args.sample)
    if args.compile and not args.sample:
        loop = CompiledLoop(loaded, app_threads, len(ids) + max(args.tokens) + 8)
        t0 = time.perf_counter()
        loop(ids, 2)
        print(f"torch.compile of the one-token step: {time.perf_counter() - t0:.0f} s (first call, this process)")
        arms["compiled static-cache loop FP32"] = lambda n: loop(ids, n)
    if llm is not None and not args.sample:
        arms[f"llama.cpp Q4_1, {default_threads} thr"] = lambda n: llama_arm(llm, ids, n)
    if llm_app is not None and not args.sample:
        arms[f"llama.cpp Q4_1, {app_threads} thr"] = lambda n: llama_arm(llm_app, ids, n)

    for n in args.tokens:
        reps = args.reps if n <= 128 else max(1, args.reps - 1)
        for f in arms.values():  # warm-up (first-call costs, page cache), short
            f(min(n, 8))
        rates: dict[str, list[float]] = {k: [] for k in arms}
        tokens: dict[str, list[int]] = {}
        print(f"\n{n} new tokens ({'sampling' if args.sample else 'greedy'}), {reps} rounds, arms alternated; "
              f"{uptime()}", flush=True)
        for r in range(reps):
            order = list(arms) if r % 2 == 0 else list(reversed(arms))
            for name in order:
                rate, toks = arms[name](n)
                rates[name].append(rate)
                tokens.setdefault(name, toks)
        base = statistics.median(rates[f"eager FP32 generate, {default_threads} thr"])
        llama = max((statistics.median(v) for k, v in rates.items() if k.startswith("llama")), default=None)
        ref = tokens[f"eager FP32 generate, {default_threads} thr"]
        for name, vals in rates.items():
            med = statistics.median(vals)
            vs_llama = f" | {med / llama:.2f}x llama.cpp (its faster arm)" if llama else ""
            text = "" if args.sample else f" | greedy tokens vs eager FP32: {first_difference(tokens[name], ref)}"
            print(f"  {name:32s} {med:7.1f} tok/s (runs {', '.join(f'{v:.1f}' for v in vals)}) | "
                  f"{med / base:.2f}x eager FP32{vs_llama}{text}", flush=True)
    print(f"\n{uptime()}")


def profile(args) -> None:
    """Where one decode step's time goes: the 30 layers' matrix products alone, the layers' other
    work (element-wise ops, attention, Python and dispatch), the output layer, the rest."""
    import torch
    import torch.nn.functional as F

    from playground.core.decoding.decode_speed import intra_op_threads
    from playground.core.decoding.generation import check_prompt, format_prompt
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    loaded = load_model(ModelSource.parse(args.model), device="cpu", dtype=args.dtype)
    m = loaded.model
    ids = check_prompt(loaded, format_prompt(loaded, PROMPT, True), 0)
    hidden = m.config.hidden_size
    linears = [mod.weight for name, mod in m.named_modules()
               if isinstance(mod, torch.nn.Linear) and not name.endswith("lm_head")]
    inputs = {w.shape[1]: torch.randn(1, 1, w.shape[1], dtype=m.dtype) for w in linears}
    x = torch.randn(1, 1, hidden, dtype=m.dtype)

    def per_call(f, n=20) -> float:
        f()
        t0 = time.perf_counter()
        for _ in range(n):
            f()
        return (time.perf_counter() - t0) / n * 1e3

    def steps(body, n=24) -> float:
        out = m(input_ids=torch.tensor([ids]), use_cache=True, logits_to_keep=1)
        cache, tok = out.cache, torch.tensor([[int(out.logits[0, -1].argmax())]])
        t0 = time.perf_counter()
        for _ in range(n):
            tok = body(tok, cache)
        return (time.perf_counter() - t0) / n * 1e3

    def full(tok, cache):
        return m(input_ids=tok, cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1:].argmax(-1)

    def layers(tok, cache):
        m.model(input_ids=tok, cache=cache, use_cache=True)
        return tok

    print(f"{loaded.info.name} {m.dtype}, {len(linears)} layer matrices; {uptime()}")
    for threads in args.profile_threads:
        with intra_op_threads(threads), torch.inference_mode():
            for _ in range(args.reps):
                a, b = steps(full), steps(layers)
                c = per_call(lambda: [F.linear(inputs[w.shape[1]], w) for w in linears])
                d = per_call(lambda: m.lm_head(x).float().argmax())
                print(f"  {threads} thread(s): step {a:6.1f} ms = layers {b:6.1f} (their matrix products alone "
                      f"{c:5.1f}, everything else {b - c:5.1f}) + output layer and argmax {d:5.1f} + rest "
                      f"{a - b - d:5.1f}", flush=True)
        if args.torch_profile:
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as tprofile

            with intra_op_threads(threads), torch.inference_mode(), tprofile(activities=[ProfilerActivity.CPU]) as p:
                steps(full, 10)
            print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
    print(uptime())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", default="64,512", help="comma-separated counts of new tokens")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--model", default="bundled")
    ap.add_argument("--sample", action="store_true", help="sampling (T 0.8, top-k 50, top-p 0.95) instead of greedy")
    ap.add_argument("--precisions", default="bf16",
                    help="lower-precision arms through the app's decode, as the Lifecycle tab makes them: "
                         "bf16, int8, int4 (comma-separated; '' for none)")
    ap.add_argument("--compile", action="store_true", help="add the torch.compile static-cache loop (minutes to compile)")
    ap.add_argument("--app-threads-only", action="store_true",
                    help="run every arm at the app's thread count (leaves out the slow default-thread arms)")
    ap.add_argument("--no-llama", action="store_true", help="leave out llama.cpp even when installed")
    ap.add_argument("--profile", action="store_true", help="split one decode step's time instead")
    ap.add_argument("--profile-threads", default="1,2")
    ap.add_argument("--torch-profile", action="store_true", help="with --profile: torch.profiler's top ops too")
    ap.add_argument("--dtype", default="float32", help="with --profile: float32 or bfloat16")
    args = ap.parse_args()
    args.tokens = [int(t) for t in str(args.tokens).split(",") if t.strip()]
    args.precisions = [p.strip() for p in str(args.precisions).split(",") if p.strip()]
    args.profile_threads = [int(t) for t in str(args.profile_threads).split(",") if t.strip()]
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # eos -1 is meant: no warning per run
    print(uptime())
    profile(args) if args.profile else bench(args)


if __name__ == "__main__":
    main()
