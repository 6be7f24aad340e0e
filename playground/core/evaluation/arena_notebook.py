"""The arena's notebook section: the leaderboard refitted from the votes with choix, as the app fits it."""

from __future__ import annotations

import json

from playground.core.base.errors import InputError


def arena_cells(p: dict) -> list[tuple[str, str]]:
    """``votes``: [{"a", "b", "verdict"}] (the arena's votes, A shown on the left); ``prior``: the virtual ties
    per pair of systems."""
    votes = [v for v in p.get("votes", []) if isinstance(v, dict) and {"a", "b", "verdict"} <= set(v)]
    if not votes:
        raise InputError("There are no arena votes to export.", "Vote in the Evaluate tab's Arena first.")
    prior = float(p.get("prior", 1.0))
    return [("markdown", "## The arena's leaderboard (Bradley-Terry)\n\nEach vote compared two systems shown "
             "blind as A (left) and B (right). Bradley-Terry gives each system a strength s, and says i beats j "
             "with probability 1 / (1 + exp(-(s_i - s_j))). A decisive vote is one win for its winner, a tie or "
             "'both bad' half a win each way, and every pair of systems starts with one virtual tie (so a system "
             "that never lost keeps a finite strength); `choix.ilsr_pairwise_dense` finds the maximum-likelihood "
             "strengths of that win matrix. Ratings are on the Elo scale (1000 + 400 s / ln 10). The last line "
             "checks position bias: how often the left answer won."),
            ("code", f"""import math

import choix
import numpy as np

votes = {json.dumps(votes, ensure_ascii=False)}
prior = {prior!r}  # virtual ties per pair of systems
pairs = [v for v in votes if v["a"] != v["b"]]
systems = sorted({{v["a"] for v in pairs}} | {{v["b"] for v in pairs}})
n = len(systems)
wins = np.full((n, n), prior / 2) - np.eye(n) * prior / 2
for v in pairs:
    a, b = systems.index(v["a"]), systems.index(v["b"])
    if v["verdict"] == "a":
        wins[a, b] += 1
    elif v["verdict"] == "b":
        wins[b, a] += 1
    else:
        wins[a, b] += 0.5
        wins[b, a] += 0.5
strengths = np.asarray(choix.ilsr_pairwise_dense(wins, alpha=0.0, tol=1e-10, max_iter=1000))
strengths -= strengths.mean()
ratings = {{name: 1000 + 400 / math.log(10) * s for name, s in zip(systems, strengths)}}
for name, rating in sorted(ratings.items(), key=lambda kv: -kv[1]):
    print(f"{{rating:7.0f}}  {{name}}")
decisive = [v for v in votes if v["verdict"] in ("a", "b")]
left = sum(v["verdict"] == "a" for v in decisive)
print(f"the left answer won {{left}} of {{len(decisive)}} decisive votes")
results["arena"] = {{"ratings": ratings, "left_wins": left, "decisive": len(decisive)}}""")]
