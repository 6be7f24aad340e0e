"""The numbers a next-token chart shows for its few most likely tokens (no plotting here)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from playground.core.decoding.sampling import DistributionStages

KEPT, CUT_BY_TOP_K, CUT_BY_TOP_P = 0, 1, 2


def top_token_ids(logits: torch.Tensor, n: int, include: int | None = None) -> list[int]:
    """The ``n`` most likely token ids, most likely first.

    ``include`` (e.g. a token that was sampled or forced although unlikely) takes the last
    place when it is not among them, so the chart can always show the chosen token.
    """
    n = min(n, logits.shape[-1])
    ids = torch.topk(logits.float(), n).indices.tolist()
    if include is not None and int(include) not in ids:
        ids[-1] = int(include)
    return ids


@dataclass
class DistributionView:
    """Probabilities of the shown tokens before and after the settings, and what was cut."""

    token_ids: list[int]
    plain: np.ndarray        # model softmax (temperature 1)
    final: np.ndarray        # after the settings, renormalized over the kept tokens
    cut: np.ndarray          # KEPT, CUT_BY_TOP_K (also greedy) or CUT_BY_TOP_P
    cumulative: np.ndarray | None  # running mass that top-p compares with top_p; None when greedy
    top_p: float | None      # where top-p cuts; None when it is off or greedy


def view_of(stages: DistributionStages, token_ids: list[int], top_p: float = 1.0) -> DistributionView:
    """Pick the shown tokens' numbers out of full-vocabulary stages.

    The cumulative value of a token is the mass (after temperature and top-k) of every token at
    least as likely as it: top-p keeps tokens until that sum passes ``top_p``.
    """
    idx = torch.tensor(token_ids, dtype=torch.long)
    plain = stages.base[idx].numpy()
    final = stages.final[idx].numpy()
    if stages.greedy:
        cut = np.where(final > 0, KEPT, CUT_BY_TOP_K)
        return DistributionView(list(token_ids), plain, final, cut, None, None)
    cut = np.full(len(token_ids), KEPT)
    cut[stages.removed_top_k[idx].numpy()] = CUT_BY_TOP_K
    cut[stages.removed_top_p[idx].numpy()] = CUT_BY_TOP_P
    # A token the slider set removed entirely (probability underflow) is out of play too.
    cut[(final <= 0) & (cut == KEPT)] = CUT_BY_TOP_K
    mass = stages.after_top_k[idx]
    cumulative = torch.cumsum(mass, 0).numpy()
    if len(token_ids):
        # The last bar may be an unlikely chosen token put in at the end (see top_token_ids):
        # sum for it over the whole vocabulary.
        cumulative[-1] = float(stages.after_top_k[stages.after_top_k >= mass[-1]].sum())
    return DistributionView(list(token_ids), plain, final, cut, cumulative,
                            top_p if top_p < 1.0 else None)
