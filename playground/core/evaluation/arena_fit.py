"""The arena's leaderboard: Bradley-Terry strengths fitted to the votes, with bootstrap intervals,
the number of votes, and a check of position bias.

Bradley-Terry says system i beats system j with probability sigmoid(s_i - s_j). A decisive vote counts as
one win for its winner; a tie or "both bad" as half a win each way (FastChat counts ties so too). Every
pair of systems also starts with one virtual tie (``PRIOR_TIES``): without it a system that never lost
would have an infinite strength; with it the fit is the maximum-likelihood estimate of the votes plus
that tie, which ``choix.ilsr_pairwise_dense`` computes from the matrix of win counts (fast enough to
refit 200 times for the bootstrap after every vote). Strengths are shown on the Elo scale FastChat uses
(1000 + 400 * s / ln 10): 400 points more means 10:1 odds of winning.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

from playground.core.base.errors import InputError
from playground.core.evaluation.arena import Vote

#: Virtual ties added between every pair of systems (a weak prior: 20 votes already dominate it).
PRIOR_TIES = 1.0
ELO_BASE, ELO_SCALE = 1000.0, 400.0 / math.log(10)
BOOTSTRAP_ROUNDS = 200


@dataclass
class Standing:
    """One system's row: strength (Elo scale) with its bootstrap 95% interval, and its record."""

    system: str
    rating: float
    low: float
    high: float
    votes: int
    wins: int
    losses: int
    ties: int   # ties and "both bad"


@dataclass
class PositionBias:
    """How often the left answer (A) won among decisive votes, with a Wilson 95% interval.

    With the order randomised, a fair voter's left answer wins about half the time; an interval
    that excludes 50% says the voter (or the layout) favours a side.
    """

    left_wins: int
    decisive: int
    low: float
    high: float

    @property
    def rate(self) -> float | None:
        return self.left_wins / self.decisive if self.decisive else None

    @property
    def biased(self) -> bool:
        return self.decisive > 0 and not (self.low <= 0.5 <= self.high)

    def sentence(self) -> str:
        if not self.decisive:
            return "Position bias: no decisive vote yet."
        verdict = ("the left answer wins more often than chance: check the order is random and read both"
                   if self.biased and self.rate > 0.5 else
                   "the right answer wins more often than chance" if self.biased else
                   "consistent with no position bias")
        return (f"Position bias: the left answer (A) won {self.left_wins} of {self.decisive} decisive votes "
                f"({100 * self.rate:.0f}%, 95% interval {100 * self.low:.0f}-{100 * self.high:.0f}%): {verdict}.")


@dataclass
class Leaderboard:
    standings: list[Standing]
    votes: int                  # every vote between two different systems
    position: PositionBias
    rounds: int
    seed: int
    skipped: int = 0            # votes of a system against itself (no information on strengths)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"votes": self.votes, "skipped": self.skipped, "rounds": self.rounds, "seed": self.seed,
                "standings": [vars(s) for s in self.standings],
                "position": {"left_wins": self.position.left_wins, "decisive": self.position.decisive,
                             "low": self.position.low, "high": self.position.high},
                "notes": list(self.notes)}


def win_counts(votes: Sequence[Vote], systems: Sequence[str]):
    """(n, n) matrix: entry [i, j] is how many times system i beat system j (a tie: half each way)."""
    import numpy as np

    index = {name: i for i, name in enumerate(systems)}
    counts = np.zeros((len(systems), len(systems)))
    for v in votes:
        a, b = index[v.a], index[v.b]
        if v.verdict == "a":
            counts[a, b] += 1
        elif v.verdict == "b":
            counts[b, a] += 1
        else:
            counts[a, b] += 0.5
            counts[b, a] += 0.5
    return counts


def _vote_cells(votes: Sequence[Vote], systems: Sequence[str]):
    """Each vote as (cell indices, amounts) into the flattened count matrix (for fast resampling)."""
    import numpy as np

    n = len(systems)
    index = {name: i for i, name in enumerate(systems)}
    cells = np.zeros((len(votes), 2), dtype=int)
    amounts = np.zeros((len(votes), 2))
    for k, v in enumerate(votes):
        a, b = index[v.a], index[v.b]
        cells[k] = (a * n + b, b * n + a)
        amounts[k] = {"a": (1.0, 0.0), "b": (0.0, 1.0)}.get(v.verdict, (0.5, 0.5))
    return cells, amounts


def strengths_from_counts(counts, prior: float = PRIOR_TIES) -> list[float]:
    """Bradley-Terry log-strengths (mean zero) from a win-count matrix plus ``prior`` virtual ties per pair."""
    import choix
    import numpy as np

    n = counts.shape[0]
    if n == 1:
        return [0.0]
    augmented = counts + (prior / 2) * (np.ones((n, n)) - np.eye(n))
    params = np.asarray(choix.ilsr_pairwise_dense(augmented, alpha=0.0, tol=1e-10, max_iter=1000), dtype=float)
    return list(params - params.mean())


def fit_strengths(votes: Sequence[Vote], systems: Sequence[str], prior: float = PRIOR_TIES) -> list[float]:
    """Bradley-Terry log-strengths (mean zero) of ``systems`` from ``votes`` (see the module)."""
    return strengths_from_counts(win_counts(votes, systems), prior)


def to_elo(strength: float) -> float:
    return ELO_BASE + ELO_SCALE * strength


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score 95% interval of a proportion k / n."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def position_bias(votes: Sequence[Vote]) -> PositionBias:
    decisive = [v for v in votes if v.decisive]
    left = sum(v.verdict == "a" for v in decisive)
    low, high = wilson(left, len(decisive))
    return PositionBias(left, len(decisive), low, high)


def leaderboard(votes: Sequence[Vote], rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0,
                prior: float = PRIOR_TIES) -> Leaderboard:
    """Strengths, 95% bootstrap intervals (votes resampled with replacement, ``rounds`` refits,
    the 2.5th and 97.5th percentiles), each system's record, and the position-bias check.

    Raises
    ------
    InputError
        No vote yet, or only votes of a system against itself.
    """
    import numpy as np

    if not votes:
        raise InputError("There are no votes yet.", "Vote in the arena: each vote compares two systems.")
    same = [v for v in votes if v.a == v.b]
    useful = [v for v in votes if v.a != v.b]
    if not useful:
        raise InputError("Every vote compares a system with itself, so there is nothing to rank.",
                         "Choose two different systems to compare.")
    systems = sorted({v.a for v in useful} | {v.b for v in useful})
    n = len(systems)
    point = fit_strengths(useful, systems, prior)
    cells, amounts = _vote_cells(useful, systems)
    rng = np.random.default_rng(seed)
    samples = np.empty((rounds, n))
    for r in range(rounds):
        pick = rng.integers(0, len(useful), len(useful))
        counts = np.zeros(n * n)
        np.add.at(counts, cells[pick].ravel(), amounts[pick].ravel())
        samples[r] = strengths_from_counts(counts.reshape(n, n), prior)
    lows, highs = np.percentile(samples, 2.5, axis=0), np.percentile(samples, 97.5, axis=0)
    rows = []
    for i, name in enumerate(systems):
        mine = [v for v in useful if name in (v.a, v.b)]
        wins = sum(v.winner == name for v in mine)
        losses = sum(v.loser == name for v in mine)
        rows.append(Standing(name, to_elo(point[i]), to_elo(lows[i]), to_elo(highs[i]),
                             len(mine), wins, losses, len(mine) - wins - losses))
    rows.sort(key=lambda s: -s.rating)
    notes = []
    if same:
        notes.append(f"{len(same)} vote{'s' if len(same) != 1 else ''} of a system against itself "
                     "(one system, or two identical ones) count for position bias, not for strengths.")
    if len(useful) < 20:
        notes.append(f"Only {len(useful)} vote{'s' if len(useful) != 1 else ''}: too few to resample, so the "
                     "intervals cannot be trusted yet; about 20 or more make a ranking.")
    return Leaderboard(rows, len(useful), position_bias(votes), rounds, seed, len(same), notes)
