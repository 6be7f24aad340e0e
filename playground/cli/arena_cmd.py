"""`playground arena export|leaderboard|pairs`: the Evaluate tab's arena votes, headless.

The votes are the ones the app keeps (``<user data>/arena/votes.jsonl``) unless ``--votes FILE`` names
another vote file (a FastChat battle log is migrated as it is read).
"""

from __future__ import annotations

import json


def add_parser(sub) -> None:
    from playground.core.evaluation.arena_fit import BOOTSTRAP_ROUNDS

    p = sub.add_parser("arena", help="the arena's votes: export them, print the leaderboard, make preference pairs",
                       description="Work with the votes cast in the Evaluate tab's Arena (blind A/B comparisons "
                                   "of two systems).")
    asub = p.add_subparsers(dest="arena_command", metavar="WHAT", required=True)

    def votes_option(q) -> None:
        q.add_argument("--votes", metavar="FILE", default=None,
                       help="a vote file (JSONL) instead of the app's own votes")

    e = asub.add_parser("export", help="write every vote as JSONL (one vote a line, each with its version)")
    e.add_argument("output", help="the JSONL file to write")
    votes_option(e)
    e.set_defaults(run=run_export)
    b = asub.add_parser("leaderboard", help="Bradley-Terry ratings with bootstrap 95%% intervals, and position bias")
    b.add_argument("--rounds", type=int, default=BOOTSTRAP_ROUNDS, help="bootstrap refits (default %(default)s)")
    b.add_argument("--seed", type=int, default=0, help="the bootstrap's seed")
    b.add_argument("--json", action="store_true", help="print the leaderboard as one JSON object")
    votes_option(b)
    b.set_defaults(run=run_leaderboard)
    q = asub.add_parser("pairs", help="the decisive votes as preference pairs in trl's format (prompt, chosen, "
                                      "rejected)")
    q.add_argument("output", nargs="?", default=None, help="a JSONL file to write the pairs to")
    q.add_argument("--to-align", action="store_true",
                   help="add them to the Align tab's labels instead (marked 'arena'; never twice)")
    votes_option(q)
    q.set_defaults(run=run_pairs)


def _votes(args):
    import sys

    from playground.core.evaluation.arena import read_votes, votes_path

    path = args.votes or votes_path()
    got = read_votes(path)
    if got.note:
        print(got.note, file=sys.stderr)
    return got.votes, path


def run_export(args) -> int:
    from playground.core.base.errors import InputError
    from playground.core.evaluation.arena import write_votes

    votes, source = _votes(args)
    if not votes:
        raise InputError(f"{source} holds no votes.", "Vote in the Evaluate tab's Arena first.")
    out = write_votes(votes, args.output)
    print(f"{len(votes)} votes written to {out}")
    return 0


def run_leaderboard(args) -> int:
    import time

    from playground.core.base.errors import InputError
    from playground.core.evaluation.arena_fit import leaderboard

    if args.rounds < 1:
        raise InputError("--rounds must be at least 1.", "Use 200 (the app's) or more for steadier intervals.")
    votes, _ = _votes(args)
    began = time.perf_counter()
    board = leaderboard(votes, rounds=args.rounds, seed=args.seed)
    seconds = time.perf_counter() - began
    if args.json:
        print(json.dumps(board.as_dict(), ensure_ascii=False))
        return 0
    width = max(len("system"), *(len(s.system) for s in board.standings))
    print(f"{'system':<{width}}  rating  95% interval   votes  won-lost-tied")
    for s in board.standings:
        print(f"{s.system:<{width}}  {s.rating:6.0f}  {s.low:5.0f} - {s.high:<5.0f}  {s.votes:6d}  "
              f"{s.wins}-{s.losses}-{s.ties}")
    print(board.position.sentence())
    for note in board.notes:
        print(note)
    print(f"{board.votes} votes, {board.rounds} bootstrap refits in {seconds:.2f} s")
    return 0


def run_pairs(args) -> int:
    from playground.core.base.errors import InputError
    from playground.core.evaluation.arena_pairs import pair_rows, send_to_align, vote_pairs

    votes, _ = _votes(args)
    if args.to_align:
        print(send_to_align(votes).sentence())
        return 0
    if not args.output:
        raise InputError("Name a JSONL file to write the pairs to, or add --to-align.")
    pairs = vote_pairs(votes)
    if not pairs:
        raise InputError("No vote picks a winner, so there is no pair to write.",
                         "Ties and 'both bad' make no preference pair.")
    from pathlib import Path

    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in pair_rows(pairs)), encoding="utf-8")
    print(f"{len(pairs)} preference pairs written to {out} ({len(votes) - len(pairs)} ties or both-bad left out)")
    return 0
