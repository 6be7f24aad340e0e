"""Arena figures: the reward model trained on arena votes (held-out agreement), the leaderboard's fit
time, and the position-bias check on a voter who leans left.

The votes are SIMULATED, not cast by a person: each bundled preference pair (resources/datasets/
preferences, train + test: 300 pairs, chosen = the reference summary, rejected = a flawed one) becomes
one arena round between the systems "reference" and "flawed", shown in a random order; a simulated
voter picks the bundled label's chosen answer, except a share ``--noise`` of the time (flipped), and
calls a tie ``--ties`` of the time. With ``--votes FILE`` the script uses a real vote file instead
(for instance the app's own, exported from the Arena) and says so.

Run: nice python bench/arena_reward.py [--votes FILE] [--noise 0.1] [--ties 0.05] [--rounds 200]
The machine is shared: the load average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def simulated_votes(noise: float, ties: float, seed: int = 0, left_lean: float = 0.0) -> list:
    from playground.core.align.preferences import bundled_preferences
    from playground.core.evaluation.arena import Vote

    rng = random.Random(seed)
    votes = []
    for i, p in enumerate(bundled_preferences("train") + bundled_preferences("test")):
        left_is_chosen = rng.random() < 0.5
        a, b = ("reference", "flawed") if left_is_chosen else ("flawed", "reference")
        a_text, b_text = (p.chosen, p.rejected) if left_is_chosen else (p.rejected, p.chosen)
        if rng.random() < ties:
            verdict = "tie"
        elif rng.random() < left_lean:
            verdict = "a"  # a voter who, this often, picks the left answer whatever it says
        else:
            picks_chosen = rng.random() >= noise
            verdict = "a" if picks_chosen == left_is_chosen else "b"
        votes.append(Vote(p.prompt, a, b, a_text, b_text, verdict, {"kind": "bundled-pair", "id": p.id},
                          id=f"sim{i:03d}"))
    return votes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--votes", default=None, help="a real vote file instead of simulated votes")
    parser.add_argument("--noise", type=float, default=0.1, help="share of simulated votes flipped")
    parser.add_argument("--ties", type=float, default=0.05, help="share of simulated votes called a tie")
    parser.add_argument("--rounds", type=int, default=200, help="bootstrap refits of the leaderboard")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    from _common import quiet_torch

    quiet_torch(args.threads)
    from playground.core.evaluation.arena import read_votes
    from playground.core.evaluation.arena_fit import leaderboard
    from playground.core.evaluation.arena_pairs import arena_agreement, vote_pairs

    print(load())
    if args.votes:
        votes = read_votes(args.votes).votes
        print(f"votes: {len(votes)} REAL votes from {args.votes}")
    else:
        votes = simulated_votes(args.noise, args.ties)
        print(f"votes: {len(votes)} SIMULATED votes (bundled preference pairs; simulated voter: {args.noise:.0%} "
              f"flipped, {args.ties:.0%} ties, positions random)")
    print(f"preference pairs from them: {len(vote_pairs(votes))}")

    for n in (20, 60, len(votes)):
        part = votes[:n]
        began = time.perf_counter()
        board = leaderboard(part, rounds=args.rounds)
        seconds = time.perf_counter() - began
        top = board.standings[0]
        print(f"leaderboard fit, {n:3d} votes, {args.rounds} bootstrap refits: {seconds:6.2f} s  "
              f"(top: {top.system} {top.rating:.0f} [{top.low:.0f}, {top.high:.0f}]; "
              f"left won {board.position.left_wins}/{board.position.decisive})")

    if not args.votes:
        lean = leaderboard(simulated_votes(args.noise, args.ties, seed=1, left_lean=0.3), rounds=20)
        print(f"left-leaning voter (30% of votes 'A' whatever the answers): {lean.position.sentence()}")

    began = time.perf_counter()
    agreement = arena_agreement(votes)
    seconds = time.perf_counter() - began
    print(f"reward model on arena votes (quick: linear head on the bundled encoder, 300 steps): "
          f"train accuracy {agreement.train_accuracy:.1%}; {agreement.sentence()} [{seconds:.1f} s]")
    print(load())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
