"""INT8 / INT4 weight-only on torch's prebuilt kernels, on the bundled model, where nothing can compile.

    nice .venv/bin/python bench/precision_kernels.py [--threads 2] [--texts 20] [--tokens 32] [--reference]

Before anything runs, the compile path is made to fail: CXX / CC point at /bin/false, PATH holds
an empty folder (no compiler, no ninja), and torch.utils.cpp_extension's load / load_inline /
_jit_compile raise. Prints the load, the time of the first INT8 conversion (and INT4's), then per
format: weight MB, perplexity on the bundled test summaries, KL from FP32, top-1 agreement, greedy
decode tokens/s, the seconds the texts took (prefill), and which kernel each quantized layer runs on.
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from _common import quiet_torch  # noqa: E402


def forbid_compiling() -> list:
    """Make every way to build a C++ extension fail; returns the list the refusals are logged in."""
    import torch.utils.cpp_extension as cpp

    calls: list = []

    def refuse(*args, **kwargs):
        calls.append(args[:1])
        raise RuntimeError("bench: a C++ extension was about to be compiled")

    for name in ("load", "load_inline", "_jit_compile"):
        setattr(cpp, name, refuse)
    os.environ["CXX"] = os.environ["CC"] = "/bin/false"
    os.environ["PATH"] = tempfile.mkdtemp(prefix="no-compiler-")
    return calls


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--texts", type=int, default=20)
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--reference", action="store_true",
                    help="also time INT8 / INT4 through the FP32 dequantize-then-multiply path")
    args = ap.parse_args()
    print(f"load before: {os.getloadavg()}", flush=True)
    torch = quiet_torch(args.threads)
    calls = forbid_compiling()
    from playground.core.lifecycle import precision as P
    from playground.core.lifecycle.quantize import WeightOnlyLinear, quantize_model
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU {torch.backends.cpu.get_cpu_capability()}")
    loaded = load_model(ModelSource.parse("bundled"), device="cpu", dtype="float32")
    model, tok = loaded.model, loaded.tokenizer
    texts = P.default_texts(args.texts)
    prompt_ids = tok(P.DEFAULT_PROMPT, return_tensors="pt").input_ids

    converted = {"fp32": model}
    for name in ("int8", "int4"):
        start = time.perf_counter()
        converted[name] = P.convert(model, name)
        kernels = sorted({f"{m.kernel}/{m.compute_dtype}" for m in converted[name].modules()
                          if isinstance(m, WeightOnlyLinear)})
        first = " (the first INT conversion in this process)" if name == "int8" else ""
        print(f"{name.upper()} conversion: {time.perf_counter() - start:.1f} s{first}; kernels {kernels}; "
              f"load {os.getloadavg()}", flush=True)
    if args.reference:  # the same codes through dequantize-then-multiply in FP32, for comparison
        for name in ("int8", "int4"):
            converted[f"{name}-ref"] = quantize_model(copy.deepcopy(model), P.FORMATS[name].bits,
                                                      use_kernels=False).eval()

    reference = None
    print(f"{'format':<8} {'weights MB':>10} {'perplexity':>10} {'KL(nats)':>9} {'top-1':>6} {'tok/s':>6} "
          f"{'texts s':>7}  load")
    for name, m in converted.items():
        start = time.perf_counter()
        logits = P.text_logits(m, tok, texts, "cpu")
        scored = time.perf_counter() - start
        reference = reference or logits
        kl, top1 = P.kl_and_agreement(reference, logits)
        P.greedy_tokens(m, tok, prompt_ids, 4)  # warm-up
        _, speed = P.greedy_tokens(m, tok, prompt_ids, args.tokens)
        print(f"{name.upper():<8} {P.weight_bytes(m) / 1e6:>10.1f} {P.perplexity_from_logits(logits):>10.2f} "
              f"{kl:>9.4f} {top1 * 100:>5.1f}% {speed:>6.1f} {scored:>7.1f}  {os.getloadavg()}", flush=True)
    print(f"cpp_extension calls refused: {len(calls)}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
