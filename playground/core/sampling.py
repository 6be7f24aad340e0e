"""From logits to the next token: temperature, top-k, top-p, greedy or random sampling.

The order and the rules follow transformers' logits warpers (temperature, then top-k, then
top-p), so what the app shows is what `model.generate` would do with the same settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

MIN_TEMPERATURE = 0.05


def apply_temperature(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """Divide logits by the temperature: below 1 sharpens the distribution, above 1 flattens it."""
    if temperature <= 0:
        raise ValueError("temperature must be positive")
    return logits / temperature


def top_k_mask(logits: torch.Tensor, top_k: int) -> torch.Tensor:
    """True where a token is removed by top-k (ties with the k-th logit are kept). 0 = off."""
    if top_k <= 0 or top_k >= logits.shape[-1]:
        return torch.zeros_like(logits, dtype=torch.bool)
    kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
    return logits < kth


def top_p_mask(logits: torch.Tensor, top_p: float, min_keep: int = 1) -> torch.Tensor:
    """True where a token is removed by nucleus (top-p) filtering. 1.0 = off.

    Keeps the smallest set of most likely tokens whose probabilities add up to more than top_p,
    and always at least ``min_keep`` tokens.
    """
    if top_p >= 1.0:
        return torch.zeros_like(logits, dtype=torch.bool)
    sorted_logits, sorted_idx = torch.sort(logits, descending=False, dim=-1)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cumulative <= (1 - top_p)
    remove_sorted[..., -min_keep:] = False
    return remove_sorted.scatter(-1, sorted_idx, remove_sorted)


def warp_logits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0,
                top_p: float = 1.0) -> torch.Tensor:
    """Logits after temperature, top-k and top-p, with removed tokens at -inf."""
    out = apply_temperature(logits.float(), temperature) if temperature != 1.0 else logits.float()
    k_mask = top_k_mask(out, top_k)
    if k_mask.any():
        out = out.masked_fill(k_mask, float("-inf"))
    p_mask = top_p_mask(out, top_p)
    if p_mask.any():
        out = out.masked_fill(p_mask, float("-inf"))
    return out


@dataclass
class DistributionStages:
    """What each stage did to one next-token distribution (all tensors over the vocabulary)."""

    base: torch.Tensor          # plain softmax of the logits (temperature 1)
    tempered: torch.Tensor      # softmax after temperature
    removed_top_k: torch.Tensor  # bool mask
    removed_top_p: torch.Tensor  # bool mask
    final: torch.Tensor         # probabilities actually sampled from (sums to 1)
    greedy: bool

    @property
    def kept(self) -> int:
        return int((self.final > 0).sum())

    @property
    def entropy_bits(self) -> float:
        p = self.final[self.final > 0]
        return float(-(p * p.log2()).sum())


def next_token_distribution(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int = 0,
                            top_p: float = 1.0, do_sample: bool = True) -> torch.Tensor:
    """The final next-token probabilities over the whole vocabulary (sums to 1).

    Parameters
    ----------
    logits
        A 1-D tensor of logits over the vocabulary.
    temperature, top_k, top_p
        As in transformers (top_k=0 and top_p=1.0 mean off). At least one token always stays.
    do_sample
        False is greedy decoding: all probability on the most likely token.
    """
    return distribution_stages(logits, temperature=temperature, top_k=top_k, top_p=top_p,
                               do_sample=do_sample).final


def distribution_stages(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int = 0,
                        top_p: float = 1.0, do_sample: bool = True) -> DistributionStages:
    """Like :func:`next_token_distribution`, keeping each stage for a chart."""
    logits = logits.float()
    if not torch.isfinite(logits).any() or torch.isnan(logits).any():
        raise ValueError("the model produced invalid numbers (NaN or infinity) for this position")
    base = logits.softmax(-1)
    if not do_sample:
        final = torch.zeros_like(base)
        final[int(torch.argmax(logits))] = 1.0
        none = torch.zeros_like(base, dtype=torch.bool)
        return DistributionStages(base, base, none, final == 0, final, True)
    tempered_logits = apply_temperature(logits, temperature)
    tempered = tempered_logits.softmax(-1)
    k_mask = top_k_mask(tempered_logits, top_k)
    after_k = tempered_logits.masked_fill(k_mask, float("-inf"))
    p_mask = top_p_mask(after_k, top_p) & ~k_mask
    final = after_k.masked_fill(p_mask, float("-inf")).softmax(-1)
    return DistributionStages(base, tempered, k_mask, p_mask, final, False)


def sample_token(probs: torch.Tensor, generator: torch.Generator | None = None) -> int:
    """Draw one token id from a probability vector (seeded when a generator is given)."""
    return int(torch.multinomial(probs, 1, generator=generator))
