"""The arena's notebook section: the leaderboard refitted from the votes with choix, as the app fits it."""

from __future__ import annotations

import json

from playground.core.base.errors import InputError


def arena_cells(p: dict) -> list[tuple[str, str]]:
    """``votes``: [{"a", "b", "verdict"}] (the arena's votes, A shown on the left); ``alpha``: the prior."""
    votes = [v for v in p.get("votes", []) if isinstance(v, dict) and {"a", "b", "verdict"} <= set(v)]
    if not votes:
        raise InputError("There are no arena votes to export.", "Vote in the Evaluate tab's Arena first.")
    alpha = float(p.get("alpha", 0.01))
    return [("markdown", "## The arena's leaderboard (Bradley-Terry)\n\nEach vote compared two systems shown "
             "blind as A (left) and B (right). Bradley-Terry gives each system a strength s, and says i beats j "
             "with probability 1 / (1 + exp(-(s_i - s_j))). `choix.opt_pairwise` finds the strengths (a weak "
             "Gaussian prior `alpha` keeps a system that never lost finite); a decisive vote counts twice for "
             "its winner, a tie or 'both bad' once each way. Ratings are on the Elo scale (1000 + 400 s / ln 10)."
             " The last line checks position bias: how often the left answer won."),
            ("code", f"""import math

import choix
import numpy as np

votes = {json.dumps(votes, ensure_ascii=False)}
alpha = {alpha!r}
pairs = [v for v in votes if v["a"] != v["b"]]
systems = sorted({{v["a"] for v in pairs}} | {{v["b"] for v in pairs}})
index = {{name: i for i, name in enumerate(systems)}}
data = []
for v in pairs:
    a, b = index[v["a"]], index[v["b"]]
    data += {{"a": [(a, b), (a, b)], "b": [(b, a), (b, a)]}}.get(v["verdict"], [(a, b), (b, a)])
strengths = np.asarray(choix.opt_pairwise(len(systems), data, alpha=alpha, method="Newton-CG"))
strengths -= strengths.mean()
ratings = {{name: 1000 + 400 / math.log(10) * s for name, s in zip(systems, strengths)}}
for name, rating in sorted(ratings.items(), key=lambda kv: -kv[1]):
    print(f"{{rating:7.0f}}  {{name}}")
decisive = [v for v in votes if v["verdict"] in ("a", "b")]
left = sum(v["verdict"] == "a" for v in decisive)
print(f"the left answer won {{left}} of {{len(decisive)}} decisive votes")
results["arena"] = {{"ratings": ratings, "left_wins": left, "decisive": len(decisive)}}""")]
