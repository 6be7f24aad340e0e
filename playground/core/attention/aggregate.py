"""Summaries of attention weights: mean over heads, rollout across layers, and pooling to a
smaller size (every row still sums to 1: rows are averaged, columns are added up)."""

from __future__ import annotations

import math

import numpy as np


def group_spans(length: int, factor: int) -> list[tuple[int, int]]:
    """[start, end) token ranges of consecutive groups of ``factor`` tokens."""
    factor = max(1, int(factor))
    return [(s, min(s + factor, length)) for s in range(0, length, factor)]


def factor_for(length: int, max_side: int) -> int:
    """The smallest pooling factor that brings ``length`` down to at most ``max_side``."""
    return max(1, math.ceil(length / max(1, int(max_side))))


def pool_attention(weights, row_factor: int, col_factor: int):
    """Pool a torch attention tensor (..., Tq, Tk) by groups of tokens.

    Rows (queries) in a group are averaged and columns (keys) in a group are added, so a pooled
    row is still a probability distribution: the share of attention each group of keys gets.
    """
    import torch

    if row_factor <= 1 and col_factor <= 1:
        return weights
    tq, tk = weights.shape[-2], weights.shape[-1]
    out = weights
    if col_factor > 1:
        idx = torch.arange(tk, device=weights.device) // col_factor
        groups = int(idx[-1]) + 1
        summed = torch.zeros(*out.shape[:-1], groups, dtype=out.dtype, device=out.device)
        out = summed.index_add_(out.dim() - 1, idx, out)
    if row_factor > 1:
        idx = torch.arange(tq, device=weights.device) // row_factor
        groups = int(idx[-1]) + 1
        summed = torch.zeros(*out.shape[:-2], groups, out.shape[-1], dtype=out.dtype, device=out.device)
        summed.index_add_(out.dim() - 2, idx, out)
        counts = torch.bincount(idx, minlength=groups).to(out.dtype)
        out = summed / counts[:, None]
    return out


def pool_matrix(matrix: np.ndarray, max_side: int) -> np.ndarray:
    """A (Tq, Tk) numpy attention matrix pooled so neither side exceeds ``max_side`` (for
    thumbnails and overviews). Rows are averaged, columns added, as in :func:`pool_attention`."""
    tq, tk = matrix.shape
    fr, fc = factor_for(tq, max_side), factor_for(tk, max_side)
    out = matrix
    if fc > 1:
        out = np.add.reduceat(out, np.arange(0, tk, fc), axis=1)
    if fr > 1:
        starts = np.arange(0, tq, fr)
        counts = np.diff(np.append(starts, tq)).astype(out.dtype)
        out = np.add.reduceat(out, starts, axis=0) / counts[:, None]
    return out


def mean_over_heads(weights: np.ndarray) -> np.ndarray:
    """The average of all heads: (heads, Tq, Tk) -> (Tq, Tk), or (layers, heads, Tq, Tk) ->
    (layers, Tq, Tk). Rows still sum to 1."""
    return weights.mean(axis=-3)


def attention_rollout(weights: np.ndarray, residual: bool = True) -> np.ndarray:
    """Attention rollout (Abnar & Zuidema, 2020): how much each token draws, through all the
    layers so far, on each input token.

    Parameters
    ----------
    weights
        (layers, heads, T, T) self-attention weights of one stack.
    residual
        Account for the residual connection: each layer's mixing is half attention, half the
        token itself (identity), rows renormalised.

    Returns
    -------
    numpy.ndarray
        (layers, T, T): entry ``l`` is the rollout up to and including layer ``l``; every row
        sums to 1.
    """
    if weights.ndim != 4 or weights.shape[-1] != weights.shape[-2]:
        raise ValueError("rollout needs square self-attention maps (layers, heads, T, T)")
    layers, _, t, _ = weights.shape
    eye = np.eye(t, dtype=np.float32)
    out = np.empty((layers, t, t), dtype=np.float32)
    current = eye
    for layer in range(layers):
        mix = weights[layer].mean(axis=0).astype(np.float32)
        if residual:
            mix = 0.5 * mix + 0.5 * eye
            mix /= mix.sum(axis=-1, keepdims=True)
        current = mix @ current
        out[layer] = current
    return out
