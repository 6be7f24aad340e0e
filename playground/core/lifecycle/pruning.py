"""Pruning: fewer weights instead of fewer bits. Unstructured magnitude pruning (this module) and
structured pruning of heads and layers (``pruning_structure.py``); ``pruning_run.py`` measures them.

Unstructured pruning zeroes the weights of smallest magnitude in the linear layers of the decoder
blocks (the query / key / value / output projections and the MLP), either with one cut over all of
them (*global*) or with each matrix cut at its own threshold (*per layer*). The tied embedding / LM
head is left whole: it is one matrix shared by input and output.

The masks count exactly: with ``k = round(sparsity · n)`` the k smallest magnitudes go, ties broken
by position, as ``torch.nn.utils.prune`` does with ``L1Unstructured`` (tested equal to it).
A zero is still a number in a dense matrix: the same bytes are stored and the same multiplications
run, which is why unstructured pruning alone does not decode faster.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence
from dataclasses import dataclass

from playground.core.base.errors import InputError


@dataclass(frozen=True)
class PruningMethod:
    """One kind of pruning the section can run."""

    name: str
    label: str
    structured: bool
    lesson: str


METHODS: dict[str, PruningMethod] = {m.name: m for m in (
    PruningMethod("global", "Unstructured, global", False,
                  "Zero the weights of smallest magnitude, with one cut over every linear layer of the decoder: a "
                  "layer whose weights are small loses more of them."),
    PruningMethod("layer", "Unstructured, per layer", False,
                  "Zero the same share of every weight matrix, each cut at its own magnitude threshold."),
    PruningMethod("heads", "Attention heads", True,
                  "Remove whole attention heads (their query rows and output columns), the least important first: "
                  "importance is the loss change when the head is masked, estimated on a few bundled dialogues."),
    PruningMethod("layers", "Whole layers", True,
                  "Remove whole decoder layers (attention and MLP), the least important first, ranked the same way."),
)}
MAX_SPARSITY = 0.99  # what the core accepts; the section's slider stops at 90%
SWEEP_SPARSITIES = (0.0, 0.3, 0.5, 0.7, 0.9)
SCOPE_NOTE = ("Unstructured pruning cuts the linear layers of the decoder blocks (attention and MLP); the tied "
              "embedding / LM head stays whole (pruning it would cut the input embedding it shares).")


def check_method(name: str) -> str:
    """The method's name, or a plain refusal naming the ones that exist."""
    key = (name or "").strip().lower()
    key = {"magnitude": "global", "unstructured": "global", "per-layer": "layer", "head": "heads",
           "layer-drop": "layers"}.get(key, key)
    if key not in METHODS:
        raise InputError(f"Unknown pruning method '{name}'.", f"Use one of: {', '.join(METHODS)}.")
    return key


def check_sparsity(value) -> float:
    """The share of weights to remove as a fraction 0-0.99; refused in plain words outside 0-99%.

    Pages and the command line take percentages and divide by 100 before calling this; NaN, text and
    values outside the range are refused with the range to use.
    """
    hint = "Give the share to remove between 0 and 99% (100% would remove the whole model)."
    try:
        s = float(value)
    except (TypeError, ValueError):
        raise InputError(f"The sparsity '{value}' is not a number.", hint) from None
    if math.isnan(s):
        raise InputError("The sparsity is not a number.", hint)
    if not 0 <= s <= MAX_SPARSITY:
        raise InputError(f"A sparsity of {s * 100:g}% is outside 0-99%.", hint)
    return s


def prunable_linears(model) -> list[tuple[str, object]]:
    """(name, module) of every nn.Linear inside the decoder blocks: not the LM head, not the embedding."""
    import torch

    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    found = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear) and m is not head
             and not n.endswith("lm_head")]
    if not found:
        raise InputError("This model has no linear layers to prune.", "Load a transformer language model.")
    return found


def _keep_mask(magnitudes, k: int):
    """True for the entries kept when the k smallest go (ties broken by position, first ones go first)."""
    import torch

    flat = magnitudes.reshape(-1)
    keep = torch.ones(flat.numel(), dtype=torch.bool)
    if k <= 0:
        return keep.view_as(magnitudes)
    if k >= flat.numel():
        return torch.zeros_like(keep).view_as(magnitudes)
    threshold = flat.kthvalue(k).values
    below = flat < threshold
    keep[below] = False
    ties = torch.nonzero(flat == threshold).flatten()
    keep[ties[: k - int(below.sum())]] = False
    return keep.view_as(magnitudes)


def magnitude_masks(weights: Sequence, sparsity: float, scope: str = "global") -> list:
    """Boolean masks (True = kept) removing the share ``sparsity`` of smallest |w|.

    Parameters
    ----------
    weights
        The weight tensors (any shapes).
    sparsity
        Fraction 0-0.99 to remove (see :func:`check_sparsity`).
    scope
        ``"global"``: one cut over all the tensors together (a tensor of small weights loses more);
        ``"layer"``: each tensor loses the same share.
    """
    import torch

    sparsity = check_sparsity(sparsity)
    if scope == "layer":
        return [_keep_mask(w.detach().abs().float(), round(sparsity * w.numel())) for w in weights]
    if scope != "global":
        raise InputError(f"Unknown scope '{scope}'.", "Use 'global' or 'layer'.")
    flat = torch.cat([w.detach().abs().float().reshape(-1) for w in weights])
    keep = _keep_mask(flat, round(sparsity * flat.numel()))
    masks, start = [], 0
    for w in weights:
        masks.append(keep[start:start + w.numel()].view(w.shape))
        start += w.numel()
    return masks


def cut_threshold(weights: Sequence, masks: Sequence) -> float:
    """The magnitude at the cut: the largest |w| that was removed (0 when nothing was)."""
    removed = [w.detach().abs()[~m] for w, m in zip(weights, masks)]
    values = [r.max().item() for r in removed if r.numel()]
    return max(values) if values else 0.0


def prune_unstructured(model, sparsity: float, scope: str = "global"):
    """A copy of ``model`` whose prunable weights are zeroed by magnitude; returns (copy, cut magnitude).

    The zeros are written into the dense weights (no masks left behind): the copy is an ordinary model of
    exactly the same size and speed, which is the lesson.
    """
    import torch

    out = copy.deepcopy(model).eval()
    layers = prunable_linears(out)
    weights = [m.weight for _, m in layers]
    masks = magnitude_masks(weights, sparsity, scope)
    cut = cut_threshold(weights, masks)
    with torch.no_grad():
        for w, m in zip(weights, masks):
            w.mul_(m.to(w.dtype))
    return out, cut


def zero_share(model) -> float:
    """The share of exact zeros among the prunable weights (what unstructured pruning set)."""
    layers = prunable_linears(model)
    zeros = sum(int((m.weight == 0).sum()) for _, m in layers)
    return zeros / max(sum(m.weight.numel() for _, m in layers), 1)


def parameter_count(model) -> int:
    """Parameters, tied ones counted once."""
    return sum(p.numel() for p in model.parameters())


def sparse_stored_bytes(model, index_bytes: int = 4) -> int:
    """Bytes if every prunable matrix were stored sparse (CSR: the non-zero values, one column index each
    and a row pointer per row, ``index_bytes`` wide) and everything else dense.

    With 4-byte values and 4-byte indices a matrix stored this way is smaller only past 50% zeros.
    """
    from playground.core.lifecycle.precision import weight_bytes

    total = weight_bytes(model)
    for _, m in prunable_linears(model):
        w = m.weight
        nnz = int((w != 0).sum())
        dense = w.numel() * w.element_size()
        total += nnz * (w.element_size() + index_bytes) + (w.shape[0] + 1) * index_bytes - dense
    return total


def magnitude_sample(model, limit: int = 200_000, seed: int = 0) -> list[float]:
    """Up to ``limit`` weight magnitudes drawn evenly from every prunable matrix (for the histogram)."""
    import torch

    layers = prunable_linears(model)
    total = sum(m.weight.numel() for _, m in layers)
    gen = torch.Generator().manual_seed(seed)
    picked = []
    for _, m in layers:
        w = m.weight.detach().reshape(-1)
        n = max(1, round(limit * w.numel() / total))
        idx = torch.randint(0, w.numel(), (min(n, w.numel()),), generator=gen)
        picked.append(w[idx].abs().float())
    return torch.cat(picked).tolist()


def mask_picture(weight, size: int = 64):
    """A [size, size] grid of the share of weights kept in each block of the matrix (1 = all kept),
    for the heatmap of one matrix's mask."""
    import torch

    kept = (weight.detach() != 0).float()[None, None]
    rows, cols = kept.shape[-2:]
    return torch.nn.functional.adaptive_avg_pool2d(kept, (min(size, rows), min(size, cols)))[0, 0]
