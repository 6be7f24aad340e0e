"""Prune and measure: the same figures as the Precision section (perplexity, KL from the dense model,
top-1 agreement, greedy text with the first changed token), plus parameters, dense and sparse-stored
bytes and decode speed, for each method and sparsity. The measuring functions are the Precision
section's own (``precision.text_logits`` and friends)."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.lifecycle import precision as P
from playground.core.lifecycle.pruning import (
    METHODS,
    SWEEP_SPARSITIES,
    check_method,
    check_sparsity,
    magnitude_sample,
    mask_picture,
    parameter_count,
    prunable_linears,
    prune_unstructured,
    sparse_stored_bytes,
    zero_share,
)

MEASURING = "Pruning and measuring"
SWEEP_METHODS = ("global", "heads", "layers")


@dataclass
class PruningRow(P.PrecisionRow):
    """One pruned model's figures (the dense reference has method 'dense')."""

    method: str = ""
    sparsity: float = 0.0
    params: int = 0
    sparse_bytes: int = 0
    zeros: float = 0.0  # share of exact zeros in the prunable weights
    removed: str = ""  # what structured pruning removed, in words
    cut: float = 0.0  # the magnitude at the cut (unstructured)
    picture: list = field(default_factory=list)  # a 2-d grid: a matrix's mask, or heads / layers kept
    picture_title: str = ""
    plan: dict | list = field(default_factory=list)  # heads removed {layer: [heads]} or layers dropped [i]


@dataclass
class Magnitudes:
    """A sample of the dense model's prunable weight magnitudes (for the histogram)."""

    values: list
    matrix: str  # the matrix whose mask the heatmap shows


def importance_texts(n: int = 8) -> list[str]:
    """The first n bundled training dialogues (what heads and layers are ranked on)."""
    from playground.core.evaluation.datasets import load_split

    return [f"{e.input}\n{e.reference}" for e in load_split("train").head(n)]


def parse_runs(runs: Sequence) -> list[tuple[str, float]]:
    """[(method, sparsity)] checked: a known method, a sparsity 0-99%."""
    checked = [(check_method(m), check_sparsity(s)) for m, s in runs]
    if not checked:
        raise InputError("There is nothing to prune.", "Pick a method and a sparsity.")
    return checked


def sweep_runs(methods: Sequence[str] = SWEEP_METHODS, sparsities: Sequence[float] = SWEEP_SPARSITIES):
    """Every method at every sparsity above 0 (0% is the dense model, measured once)."""
    return [(m, s) for m in methods for s in sparsities if s > 0]


def picture_matrix(model) -> str:
    """The matrix whose mask the heatmap shows: the first block's query projection (else the first one)."""
    names = [n for n, _ in prunable_linears(model)]
    return next((n for n in names if n.endswith("q_proj")), names[0])


def short_name(module_name: str) -> str:
    """'model.layers.0.self_attn.q_proj' -> 'layer 1 q_proj' (for a chart title)."""
    parts = module_name.split(".")
    if "layers" in parts and parts.index("layers") + 1 < len(parts):
        i = parts.index("layers")
        return f"layer {int(parts[i + 1]) + 1} {parts[-1]}"
    return parts[-1]


def prune(model, method: str, sparsity: float, importance=None):
    """A pruned copy of ``model``: (copy, row with its what-was-removed fields filled).

    Structured methods need ``importance`` (``pruning_structure.score_importance``).
    """
    method, sparsity = check_method(method), check_sparsity(sparsity)
    row = PruningRow(f"{method}@{sparsity:.2f}", f"{METHODS[method].label} {sparsity:.0%}", method=method,
                     sparsity=sparsity)
    if not METHODS[method].structured:
        pruned, row.cut = prune_unstructured(model, sparsity, method)
        name = picture_matrix(pruned)
        row.picture = mask_picture(dict(pruned.named_modules())[name].weight).tolist()
        row.picture_title = short_name(name) + ": share kept (yellow: all)"
        row.removed = f"{sparsity:.0%} of the linear weights zeroed (cut at |w| = {row.cut:.4g})"
        return pruned, row
    if importance is None:
        raise InputError("Heads and layers are removed by importance, which has not been measured.",
                         "Rank them first (score_importance).")
    from playground.core.lifecycle.pruning_structure import prune_structured

    pruned, row.plan, row.removed, row.note = prune_structured(model, method, sparsity, importance)
    if method == "heads":
        width = max(len(r) for r in importance.heads)
        row.picture = [[0.0 if h in row.plan.get(i, ()) else 1.0 for h in range(width)]
                       for i in range(len(importance.heads))]
        row.picture_title = "heads kept (yellow; rows: layers)"
    else:
        row.picture = [[0.0 if i in row.plan else 1.0 for i in range(len(importance.layers))]]
        row.picture_title = "layers kept (yellow)"
    return pruned, row


def measure(row: PruningRow, model, tokenizer, texts, device, reference, ref_tokens, prompt_ids,
            new_tokens: int, logits=None, timed=None) -> PruningRow:
    """Fill ``row`` with the model's figures against the dense ``reference`` logits and tokens
    (``logits`` and ``timed`` = (tokens, tok/s): the model's own, when already computed)."""
    logits = logits if logits is not None else P.text_logits(model, tokenizer, texts, device)
    row.weight_bytes = P.weight_bytes(model)
    row.params = parameter_count(model)
    row.sparse_bytes = sparse_stored_bytes(model)
    row.zeros = zero_share(model)
    row.perplexity = P.perplexity_from_logits(logits)
    row.kl, row.top1 = P.kl_and_agreement(reference, logits)
    tokens, row.tokens_per_s = timed or P.greedy_tokens(model, tokenizer, prompt_ids, new_tokens)
    row.completion = [tokenizer.decode([t]) for t in tokens]
    row.diverges_at = P.first_divergence(ref_tokens, tokens)
    return row


def pruning_sweep(model, tokenizer, device: str, runs: Sequence, *, texts: Sequence[str] | None = None,
                  prompt: str = P.DEFAULT_PROMPT, new_tokens: int = 24, importance=None,
                  rank_texts: Sequence[str] | None = None, exact: bool = False,
                  handle: TaskHandle | None = None) -> Iterator:
    """Prune the model each way asked and measure it, yielding as it goes.

    Yields, in order: a :class:`Magnitudes` sample (for the histogram), the structured methods'
    :class:`~playground.core.lifecycle.pruning_structure.Importance` when one is asked and none was given,
    the dense model's :class:`PruningRow` (method 'dense'), then one row per (method, sparsity) in ``runs``.

    Parameters
    ----------
    runs
        [(method, sparsity)]: methods from ``METHODS`` (or 'magnitude'), sparsity 0-0.99.
    texts
        What perplexity and KL are measured on (default: 20 bundled test summaries, as in Precision).
    importance, rank_texts, exact
        Head and layer importance given, or measured on ``rank_texts`` (default: 8 bundled dialogues).
    handle
        Progress and Stop; a Stop between runs ends the sweep with the rows already yielded.
    """
    import torch

    handle = ensure_handle(handle)
    runs = parse_runs(runs)
    texts = list(texts) if texts is not None else P.default_texts()
    if not texts:
        raise InputError("There is no text to measure perplexity on.", "Give at least one text.")
    if next(model.parameters()).dtype != torch.float32:  # loaded at half precision: widen once
        model = copy.deepcopy(model).float().eval()
    yield Magnitudes(magnitude_sample(model), picture_matrix(model))
    if importance is None and any(METHODS[m].structured for m, _ in runs):
        from playground.core.lifecycle.pruning_structure import SCORING, score_importance

        report_step(handle, SCORING, 0, 1)
        importance = score_importance(model, tokenizer, rank_texts or importance_texts(), device, exact=exact,
                                      handle=handle)
        yield importance
    total = len(runs) + 1
    report_step(handle, "Measuring the dense model", 0, total, "dense")
    prompt_ids = tokenizer(prompt, return_tensors="pt").input_ids.to(device)
    reference = P.text_logits(model, tokenizer, texts, device)
    timed = P.greedy_tokens(model, tokenizer, prompt_ids, new_tokens)
    ref_tokens = timed[0]
    dense = measure(PruningRow("dense", "Dense", method="dense"), model, tokenizer, texts, device, reference,
                    ref_tokens, prompt_ids, new_tokens, logits=reference, timed=timed)
    yield dense
    for i, (method, sparsity) in enumerate(runs):
        handle.raise_if_cancelled()
        report_step(handle, MEASURING, i + 1, total, f"{METHODS[method].label} {sparsity:.0%}")
        pruned, row = prune(model, method, sparsity, importance)
        yield measure(row, pruned, tokenizer, texts, device, reference, ref_tokens, prompt_ids, new_tokens)
        del pruned
    report_step(handle, MEASURING, total, total)


def format_table(rows: Sequence[PruningRow]) -> str:
    """The rows as a plain-text table, what was removed and the completions below it."""
    from playground.core.base.units import format_bytes

    lines = [f"{'model':<30} {'params':>8} {'weights':>10} {'stored sparse':>13} {'perplexity':>10} "
             f"{'KL(nats)':>9} {'top-1':>6} {'tok/s':>7}"]
    for r in rows:
        lines.append(f"{r.label:<30} {r.params / 1e6:>7.1f}M {format_bytes(r.weight_bytes):>10} "
                     f"{format_bytes(r.sparse_bytes):>13} {r.perplexity:>10.2f} {r.kl:>9.4f} {r.top1 * 100:>5.1f}% "
                     f"{r.tokens_per_s:>7.1f}")
    lines.append("")
    lines += [f"{r.label}: {r.removed}" for r in rows if r.removed]
    lines += [f"note ({r.label}): {r.note}" for r in rows if r.note]
    lines.append("")
    lines += [f"{r.label}: {r.completion_marked()!r}" for r in rows]
    return "\n".join(lines)


def as_loaded(loaded):
    """The model as loaded, under any precision or pruning the app put on it."""
    return loaded.extras.get("precision_of", loaded)


def at_pruned(loaded, method: str, sparsity: float, importance=None, handle: TaskHandle | None = None):
    """A LoadedModel holding a pruned copy of the model as loaded (for every tab to use); the model bar
    shows its name with the pruning, its parameters and weight bytes."""
    import dataclasses

    from playground.core.models.loading import LoadedModel

    base = as_loaded(loaded)
    method, sparsity = check_method(method), check_sparsity(sparsity)
    if METHODS[method].structured and importance is None:
        from playground.core.lifecycle.pruning_structure import score_importance

        importance = score_importance(base.model, base.tokenizer, importance_texts(), base.device, handle=handle)
    pruned, row = prune(base.model, method, sparsity, importance)
    info = dataclasses.replace(base.info, name=f"{base.info.name} · {row.label.lower()} pruned",
                               parameters=parameter_count(pruned), memory_bytes=P.weight_bytes(pruned),
                               num_layers=len(getattr(getattr(pruned, "model", None), "layers", [])) or
                               base.info.num_layers)
    return LoadedModel(model=pruned, tokenizer=base.tokenizer, info=info, source=base.source,
                       extras={**base.extras, "precision_of": base,
                               "pruning": {"method": method, "sparsity": sparsity, "removed": row.removed}})
