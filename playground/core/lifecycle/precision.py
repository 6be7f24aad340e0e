"""The same model at several number formats: bytes, perplexity, KL from FP32, speed, text.

FP32 / BF16 / FP16 are plain torch dtypes. INT8 / INT4 / INT2 quantize the weights (only) of the
linear layers with ``quantize.py``: INT8 with one scale per output row, INT4 / INT2 with a scale and a
shift per group of input columns, run by the int8 / int4 kernels that ship inside torch (nothing is
compiled at run time: the installed app has no compiler; on the CPU those kernels take BF16 inputs).
The input embedding stays FP32 (a lookup reads one row per token). The LM head that shares its
weight gets its own INT8 copy in every INT format, as llama.cpp's 4-bit files keep their output
layer at 8 bits: at one token per step the head is a fifth of the weights read (28M of the bundled
model's 134M); left at FP32 it took about 40% of an INT4 decode step (26.0 against 44.7
tokens/s over 512 tokens, bench/generation.py).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.lifecycle.model_measures import (  # noqa: F401 (read through this module too)
    first_divergence, greedy_tokens, kl_and_agreement, perplexity_from_logits, text_logits)


@dataclass(frozen=True)
class PrecisionFormat:
    """One number format the lab can run."""

    name: str
    label: str
    kind: str  # "dtype" (a torch dtype) or "int" (weight-only integers, quantize.py)
    bits: int
    lesson: str


FORMATS: dict[str, PrecisionFormat] = {f.name: f for f in (
    PrecisionFormat("fp32", "FP32", "dtype", 32, "The reference: 4 bytes per weight, as loaded."),
    PrecisionFormat("bf16", "BF16", "dtype", 16,
                    "Half the bytes, FP32's range with fewer digits; the CPU's half precision."),
    PrecisionFormat("fp16", "FP16", "dtype", 16,
                    "Half the bytes, more digits but a small range; fast on GPUs, slow on most CPUs."),
    PrecisionFormat("int8", "INT8", "int", 8,
                    "Linear-layer weights as 8-bit integers with one scale per row (per channel). "
                    "Near lossless."),
    PrecisionFormat("int4", "INT4", "int", 4,
                    "Linear-layer weights as 4-bit integers with a scale and a shift per group of up to "
                    "128 columns; half of INT8's size again."),
    PrecisionFormat("int2", "INT2", "int", 2,
                    "Only four levels per weight (a scale and a shift per group): the 'too far' case. No "
                    "prebuilt kernel: the weights are widened at every step, so it decodes slowly."),
)}
DEFAULT_FORMATS = ("fp32", "bf16", "fp16", "int8", "int4")
BUNDLED_NOTE = ("The bundled file is Q4_1 (4-bit codes with a scale and minimum per block of 32, the "
                "embedding Q8_0, 93.8 MiB), expanded to FP32 to run in PyTorch: its 'FP32' holds 4-bit "
                "values, and re-quantizing it to 4 bits stacks a second rounding.")
TIED_NOTE = ("INT formats quantize the weights of the linear layers only (INT8: one scale per row; INT4 / "
             "INT2: a scale and a shift per group of up to 128 columns); the input embedding stays FP32 and the "
             "LM head that shares it gets its own INT8 copy (as llama.cpp's 4-bit files keep their output "
             "layer at 8 bits). They run on the int8 / int4 kernels that ship with PyTorch (nothing is "
             "compiled), which on the CPU multiply in BF16: the layer's input is rounded to BF16, its output is "
             "FP32 again.")


def parse_formats(text: str | Sequence[str]) -> list[str]:
    """Turn 'fp32,int8' (or a list) into known format names, refusing unknown ones in plain words."""
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text) if n.strip()]
    if not names:
        raise InputError("No number format was chosen.", f"Pick some of: {', '.join(FORMATS)}.")
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        raise InputError(f"Unknown number format: {', '.join(unknown)}.", f"Use some of: {', '.join(FORMATS)}.")
    return list(dict.fromkeys(names))


ALTERNATIVE = {"fp16": "use BF16 (the CPU's half precision) or FP32", "bf16": "use FP16 or FP32",
               "int8": "use BF16 to halve the weights instead", "int4": "use INT8 (or BF16) instead",
               "int2": "use INT8 instead"}


@functools.lru_cache(maxsize=None)
def probe_format(name: str, device: str) -> str:
    """Run one tiny layer at the format on the device: '' when it works, else the error in one line.

    This is what finds a CPU without FP16 matrix kernels. The INT formats fall back to the
    dequantize-then-multiply path where torch has no kernel for the device, so they run anywhere.
    """
    import torch

    if name == "fp32":
        return ""
    try:
        with torch.no_grad():
            layer = torch.nn.Sequential(torch.nn.Linear(128, 128)).to(device)  # quantize swaps children
            x = torch.randn(2, 128, device=device)
            if FORMATS[name].kind == "dtype":
                dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[name]
                layer.to(dtype)(x.to(dtype))
            else:
                from playground.core.lifecycle.quantize import quantize_model

                quantize_model(layer, FORMATS[name].bits)
                layer(x)
    except Exception as exc:  # any failure means the format cannot run here: say so, do not crash
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
    return ""


def cpu_flags() -> set[str]:
    """The CPU's feature flags (Linux /proc/cpuinfo); empty where they cannot be read."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def speed_note(name: str, device: str) -> str:
    """A caution shown beside a format that runs but slowly on this device ('' when none)."""
    if device.split(":")[0] != "cpu" or name not in ("fp16", "bf16"):
        return ""
    flags = cpu_flags()
    fast = {"fp16": {"avx512_fp16", "amx_fp16"}, "bf16": {"avx512_bf16", "amx_bf16"}}[name]
    if flags and not flags & fast:
        label = FORMATS[name].label
        return (f"This CPU has no {label} arithmetic ({' or '.join(sorted(fast))}): {label} math runs through "
                f"conversions, so long prompts can be slower than FP32 here (one-token decode is limited by "
                f"memory and may still gain); the memory saving holds.")
    return ""


def check_format(name: str, device: str) -> str:
    """Return '' when the device can run the format, else a plain sentence with the alternative."""
    import torch

    base = device.split(":")[0]
    if name == "bf16" and base == "cuda" and not torch.cuda.is_bf16_supported():
        return "This GPU has no BF16 support: use FP16, the GPU's half precision."
    if name == "bf16" and base == "mps":
        return "BF16 is not supported on this Apple GPU: use FP16."
    failure = probe_format(name, device)
    if failure:
        what = {"fp16": "FP16 arithmetic", "bf16": "BF16 arithmetic"}.get(name, f"{FORMATS[name].label} kernels")
        return (f"This {'CPU' if base == 'cpu' else 'device'} cannot run {what} ({failure}): "
                f"{ALTERNATIVE.get(name, 'use FP32')}.")
    return ""


def measured_weight_bytes(model, name: str = "int8") -> int:
    """The weight bytes of ``model`` really converted to a format (for the memory explainer's bar).

    The estimate (parameters x 1 byte at INT8) is lower than this: the input embedding stays FP32
    beside the LM head's INT8 copy, and every row keeps a scale. Converts a copy (seconds; run it off the
    GUI thread).
    """
    converted = convert(model, name)
    try:
        return weight_bytes(converted)
    finally:
        del converted


def tensor_bytes(t) -> int:
    """Bytes a tensor really holds, unwrapping tensor subclasses into their inner tensors."""
    if hasattr(t, "__tensor_flatten__"):
        names, _ = t.__tensor_flatten__()
        return sum(tensor_bytes(getattr(t, n)) for n in names)
    return t.numel() * t.element_size()


def weight_bytes(model) -> int:
    """Bytes of all parameters (tied ones counted once) and the codes and scales of quantized layers."""
    from playground.core.lifecycle.quantize import WeightOnlyLinear

    quantized = sum(tensor_bytes(b) for m in model.modules() if isinstance(m, WeightOnlyLinear)
                    for b in m.buffers(recurse=False))
    return quantized + sum(tensor_bytes(p) for p in model.parameters())


def convert(model, name: str):
    """A copy of ``model`` (FP32 as loaded) in the format ``name``; the original is untouched."""
    import torch

    fmt = FORMATS[name]
    out = copy.deepcopy(model)
    if fmt.kind == "dtype":
        dtype = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}[name]
        return out.to(dtype).eval()
    from playground.core.lifecycle.quantize import quantize_linear, quantize_model

    # The LM head shares its weight with the input embedding: the embedding stays FP32 (a lookup), the
    # head gets its own INT8 copy (a fifth of what a decode step reads; see the module's docstring).
    quantize_model(out, fmt.bits, exclude=("lm_head",))
    head = out.get_output_embeddings() if hasattr(out, "get_output_embeddings") else None
    if isinstance(head, torch.nn.Linear):
        with torch.no_grad():
            out.set_output_embeddings(quantize_linear(head, 8))
    return out.eval()


@dataclass
class PrecisionRow:
    """One format's measured figures."""

    name: str
    label: str
    weight_bytes: int = 0
    perplexity: float = float("nan")
    kl: float = float("nan")
    top1: float = float("nan")
    tokens_per_s: float = float("nan")
    completion: list[str] = field(default_factory=list)  # the decoded pieces
    diverges_at: int = -1
    skipped: str = ""  # why the format did not run on this device
    note: str = ""  # a caution: it runs, but slowly here

    def completion_marked(self) -> str:
        """The completion with the first token that differs from FP32 in [[ ]]."""
        if self.diverges_at < 0:
            return "".join(self.completion)
        i = self.diverges_at
        return "".join(self.completion[:i]) + "[[" + "".join(self.completion[i:i + 1]) + "]]" + \
            "".join(self.completion[i + 1:])


def default_texts(n: int = 20) -> list[str]:
    """The first n reference summaries of the bundled test split."""
    from playground.core.evaluation.datasets import load_split

    return [e.reference for e in load_split("test").head(n)]


DEFAULT_PROMPT = "The three most important things to know about the ocean are"
#: The sweep's phase (formats measured of those chosen; the detail names the format).
MEASURING = "Converting and measuring"


def precision_sweep(model, tokenizer, device: str, formats: Sequence[str], *,
                    texts: Sequence[str] | None = None, prompt: str = DEFAULT_PROMPT,
                    new_tokens: int = 24, handle: TaskHandle | None = None) -> Iterator[PrecisionRow]:
    """Measure the model at each format, yielding one finished row at a time.

    Parameters
    ----------
    model, tokenizer
        A causal LM in FP32 (as the app loads it) and its tokenizer.
    device
        Where the model sits ('cpu', 'cuda', ...).
    formats
        Format names (see FORMATS). The FP32 reference is always computed first, shown or not.
    texts
        What perplexity and KL are measured on (default: 20 bundled test summaries).
    handle
        Progress and Stop; a Stop between formats ends the sweep with the rows already yielded.
    """
    handle = ensure_handle(handle)
    formats = parse_formats(formats)
    texts = list(texts) if texts is not None else default_texts()
    if not texts:
        raise InputError("There is no text to measure perplexity on.", "Give at least one text.")
    import torch

    prompt_ids = tokenizer(prompt, return_tensors="pt").input_ids.to(device)
    if next(model.parameters()).dtype != torch.float32:  # loaded at half precision: widen once
        model = copy.deepcopy(model).float().eval()
    report_step(handle, "Measuring the FP32 reference", 0, len(formats), "FP32")
    reference = text_logits(model, tokenizer, texts, device)
    ref_tokens, ref_speed = greedy_tokens(model, tokenizer, prompt_ids, new_tokens)
    for i, name in enumerate(formats):
        handle.raise_if_cancelled()
        fmt = FORMATS[name]
        row = PrecisionRow(name, fmt.label)
        why = check_format(name, device)
        if why:
            row.skipped = why
            yield row
            continue
        row.note = speed_note(name, device)
        report_step(handle, MEASURING, i, len(formats), fmt.label)
        converted = model if name == "fp32" else convert(model, name)
        row.weight_bytes = weight_bytes(converted)
        logits = reference if name == "fp32" else text_logits(converted, tokenizer, texts, device)
        handle.raise_if_cancelled()
        row.perplexity = perplexity_from_logits(logits)
        row.kl, row.top1 = kl_and_agreement(reference, logits)
        if name == "fp32":
            tokens, row.tokens_per_s = ref_tokens, ref_speed
        else:
            tokens, row.tokens_per_s = greedy_tokens(converted, tokenizer, prompt_ids, new_tokens)
        row.completion = [tokenizer.decode([t]) for t in tokens]
        row.diverges_at = first_divergence(ref_tokens, tokens)
        del converted
        report_step(handle, MEASURING, i + 1, len(formats), fmt.label)
        yield row


def format_table(rows: Sequence[PrecisionRow]) -> str:
    """The rows as a plain-text table, the completions below it."""
    from playground.core.base.units import format_bytes

    lines = [f"{'format':<6} {'weights':>10} {'perplexity':>10} {'KL(nats)':>9} {'top-1':>6} {'tok/s':>7}"]
    for r in rows:
        if r.skipped:
            lines.append(f"{r.label:<6} skipped: {r.skipped}")
            continue
        lines.append(f"{r.label:<6} {format_bytes(r.weight_bytes):>10} {r.perplexity:>10.2f} {r.kl:>9.4f} "
                     f"{r.top1 * 100:>5.1f}% {r.tokens_per_s:>7.1f}")
    lines.append("")
    for r in rows:
        if not r.skipped:
            lines.append(f"{r.label}: {r.completion_marked()!r}")
    lines += [f"note ({r.label}): {r.note}" for r in rows if r.note]
    return "\n".join(lines)


def at_precision(loaded, name: str):
    """A LoadedModel holding a converted copy of ``loaded`` (e.g. for every tab to use); the model
    bar shows the format in its dtype field and the converted weights' bytes."""
    import dataclasses

    from playground.core.models.loading import LoadedModel

    loaded = loaded.extras.get("precision_of", loaded)  # always convert from the model as loaded
    why = check_format(name, loaded.device)
    if why:
        raise InputError(why)
    if name == "fp32" and all(str(p.dtype) == "torch.float32" for p in loaded.model.parameters()):
        return loaded  # back to the model as loaded: a second FP32 copy would double the memory (issue 35)
    model = convert(loaded.model, name)
    label = FORMATS[name].label + (" weights" if FORMATS[name].kind == "int" else "")
    info = dataclasses.replace(loaded.info, dtype=label, memory_bytes=weight_bytes(model))
    return LoadedModel(model=model, tokenizer=loaded.tokenizer, info=info, source=loaded.source,
                       extras={**loaded.extras, "precision": name, "precision_of": loaded})
