"""From logits to the next token: temperature, top-k, top-p, greedy or random sampling.

The order and the rules follow transformers' logits warpers (temperature, then top-k, then
top-p), so what the app shows is what `model.generate` would do with the same settings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from playground.core.base.errors import PlaygroundError

# The settings are declared (with their help and defaults) in a torch-free module; re-exported here.
from playground.core.decoding.settings import (  # noqa: F401
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    SamplingSettings,
)


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


def sort_order(logits: torch.Tensor) -> torch.Tensor:
    """The ascending order of the logits, to reuse while only the settings change.

    Sorting 49k logits is the slowest part of top-p (milliseconds). Temperature and top-k keep
    this order (dividing by a positive number is monotonic; top-k removes the lowest tokens),
    so one sort per model step serves every slider position.
    """
    return torch.sort(logits.float(), descending=False, dim=-1).indices


def top_p_mask(logits: torch.Tensor, top_p: float, min_keep: int = 1,
               order: torch.Tensor | None = None) -> torch.Tensor:
    """True where a token is removed by nucleus (top-p) filtering. 1.0 = off.

    Keeps the smallest set of most likely tokens whose probabilities add up to more than top_p,
    and always at least ``min_keep`` tokens. ``order`` (from :func:`sort_order`) skips the sort;
    the sorted values are then the same, only tokens with exactly equal logits may swap places.
    """
    if top_p >= 1.0:
        return torch.zeros_like(logits, dtype=torch.bool)
    if order is None:
        sorted_logits, sorted_idx = torch.sort(logits, descending=False, dim=-1)
    else:
        sorted_idx = order
        sorted_logits = logits.gather(-1, order)
    cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
    remove_sorted = cumulative <= (1 - top_p)
    remove_sorted[..., -min_keep:] = False
    return remove_sorted.scatter(-1, sorted_idx, remove_sorted)


def check_logits(logits: torch.Tensor) -> None:
    """Refuse logits a broken model produced (NaN, +inf, or every token at -inf).

    -inf alone is fine: some models mask tokens that way.

    Raises
    ------
    PlaygroundError
        With a plain message and what to try.
    """
    # One pass: the max is NaN if any value is, +inf if any is, and -inf only if all are.
    top = float(logits.max())
    if math.isnan(top) or math.isinf(top):
        raise PlaygroundError(
            "The model produced invalid numbers (NaN or infinity) for the next token, so there is "
            "no distribution to show.",
            "The model may be broken, or its precision too low: reload it in float32.",
        )


@dataclass
class DistributionStages:
    """What each stage did to one next-token distribution (all tensors over the vocabulary)."""

    base: torch.Tensor           # plain softmax of the logits (temperature 1)
    tempered: torch.Tensor       # softmax after temperature
    after_top_k: torch.Tensor    # tempered, renormalized over what top-k kept: what top-p sums up
    removed_top_k: torch.Tensor  # bool mask: cut by top-k
    removed_top_p: torch.Tensor  # bool mask: cut by top-p (among what top-k kept)
    final: torch.Tensor          # probabilities actually sampled from (sums to 1)
    greedy: bool
    notes: list[str] = field(default_factory=list)  # plain-words remarks for the learner

    @property
    def kept(self) -> int:
        """How many tokens top-k and top-p leave in play (1 when greedy).

        A token whose probability underflowed to 0 at a low temperature was not removed by any
        setting: it still counts, as transformers' warpers would keep it."""
        if self.greedy:
            return 1
        return int(self.final.numel() - (self.removed_top_k | self.removed_top_p).sum())

    @property
    def entropy_bits(self) -> float:
        """Uncertainty of the final distribution: 0 bits = one sure token, n bits ≈ 2^n equal choices."""
        # xlogy(0, 0) is 0: no masking pass needed.
        # max(): one sure token gives -0.0, which would print as "-0.00 bits".
        return max(0.0, float(-torch.special.xlogy(self.final, self.final).sum()) / math.log(2))

    @property
    def removed(self) -> torch.Tensor:
        """True for every token that cannot be picked."""
        return self.final <= 0


def next_token_distribution(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int = 0,
                            top_p: float = 1.0, do_sample: bool = True) -> torch.Tensor:
    """The final next-token probabilities over the whole vocabulary (sums to 1).

    Parameters
    ----------
    logits
        A 1-D tensor of logits over the vocabulary.
    temperature, top_k, top_p
        As in transformers (top_k=0 and top_p=1.0 mean off). At least one token always stays.
        A temperature of 0 or below is the limit transformers describes: greedy.
    do_sample
        False is greedy decoding: all probability on the most likely token.

    Returns
    -------
    torch.Tensor
        float32, same length as ``logits``.

    Raises
    ------
    PlaygroundError
        When the logits hold NaN or +infinity.
    """
    return distribution_stages(logits, temperature=temperature, top_k=top_k, top_p=top_p,
                               do_sample=do_sample).final


def distribution_stages(logits: torch.Tensor, *, temperature: float = 1.0, top_k: int = 0,
                        top_p: float = 1.0, do_sample: bool = True,
                        order: torch.Tensor | None = None) -> DistributionStages:
    """Like :func:`next_token_distribution`, keeping each stage for a chart.

    ``order`` is :func:`sort_order` of these logits, when the caller keeps it between calls.

    Returns
    -------
    DistributionStages
        The distribution after temperature, the tokens top-k and top-p removed, the final
        probabilities, and notes such as "top-k is larger than the vocabulary".
    """
    logits = logits.float()
    check_logits(logits)
    vocab = logits.shape[-1]
    base = logits.softmax(-1)
    notes: list[str] = []
    none = torch.zeros_like(base, dtype=torch.bool)
    if not do_sample or temperature <= 0:
        if do_sample:
            notes.append("A temperature of 0 is greedy decoding: the most likely token gets all the probability.")
        final = torch.zeros_like(base)
        final[int(torch.argmax(logits))] = 1.0
        return DistributionStages(base, base, base, none, none, final, True, notes)
    if top_k >= vocab:
        notes.append(f"Top-k {top_k:,} is not smaller than the vocabulary ({vocab:,} tokens): it keeps every token.")
    tempered_logits = apply_temperature(logits, temperature) if temperature != 1.0 else logits
    tempered = tempered_logits.softmax(-1)
    k_mask = top_k_mask(tempered_logits, top_k)
    if k_mask.any():
        after_k_logits = tempered_logits.masked_fill(k_mask, float("-inf"))
        after_k = after_k_logits.softmax(-1)
    else:
        after_k_logits, after_k = tempered_logits, tempered
    if k_mask.any() and top_p < 1.0:
        p_mask = _top_p_among_kept(after_k_logits, top_p, ~k_mask)
    else:
        p_mask = top_p_mask(after_k_logits, top_p, order=order) & ~k_mask
    if p_mask.any():
        final = after_k_logits.masked_fill(p_mask, float("-inf")).softmax(-1)
    else:
        final = after_k
    return DistributionStages(base, tempered, after_k, k_mask, p_mask, final, False, notes)


def _top_p_among_kept(logits: torch.Tensor, top_p: float, kept: torch.Tensor) -> torch.Tensor:
    """:func:`top_p_mask` once top-k has cut all but ``kept``: the tokens top-k removed hold no
    probability, so only the k kept ones are sorted (top-k 50 of 49,152: about 4 ms less per token)."""
    index = kept.nonzero().squeeze(-1)
    mask = torch.zeros_like(kept)
    mask[index] = top_p_mask(logits[index], top_p)
    return mask


def sample_token(probs: torch.Tensor, generator: torch.Generator | None = None) -> int:
    """Draw one token id from a probability vector (seeded when a generator is given)."""
    return int(torch.multinomial(probs, 1, generator=generator))


def make_generator(seed: int | None) -> torch.Generator:
    """A CPU random generator, seeded when a seed is given (same seed → same draws)."""
    gen = torch.Generator(device="cpu")
    if seed is not None:
        gen.manual_seed(int(seed))
    else:
        gen.seed()
    return gen


def stages_for(settings: SamplingSettings, logits: torch.Tensor,
               order: torch.Tensor | None = None) -> DistributionStages:
    """The distribution ``settings`` give for ``logits``, with notes for the learner.

    ``order``: :func:`sort_order` of ``logits``, kept by a caller that redraws often. The
    minimum temperature works as greedy (``SamplingSettings.greedy_by_temperature``).
    """
    settings.validate()
    if settings.greedy_by_temperature:
        stages = distribution_stages(logits, do_sample=False)
        stages.notes.append(f"Temperature {settings.temperature:.2f} is the minimum: it works as greedy "
                            "decoding (the most likely token gets all the probability).")
        return stages
    return distribution_stages(logits, temperature=settings.temperature, top_k=settings.top_k,
                               top_p=settings.top_p, do_sample=settings.do_sample, order=order)


def pick_token(settings: SamplingSettings, logits: torch.Tensor,
               generator: torch.Generator | None = None) -> tuple[int, DistributionStages]:
    """The next token under ``settings`` (greedy, or one seeded draw) and the stages it came from.

    The one way every tab and the command line choose a token: through :func:`stages_for`, so
    what is picked is what the Sampling tab shows (``stages.final[token]`` is its probability).
    """
    stages = stages_for(settings, logits)
    token = int(torch.argmax(stages.final)) if stages.greedy else sample_token(stages.final, generator)
    return token, stages
