"""Closing the loop: arena votes become preference pairs for the Align tab's reward model.

Every decisive vote (A or B, not a tie nor "both bad") is a pair in trl's format: ``prompt``,
``chosen`` (the winner's answer), ``rejected`` (the loser's). Each pair is marked with its source:
``reason`` "arena" (the Align tab's own labels say "learner") and ``id`` "arena-<vote id>", so
sending the votes twice adds nothing twice.

``arena_agreement`` answers the question the loop asks: a reward model trained on some of your arena
votes, does it agree with the others?
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Sequence

from playground.core.align.preferences import PreferencePair
from playground.core.base.errors import InputError
from playground.core.evaluation.arena import Vote

ARENA_SOURCE = "arena"


def vote_pairs(votes: Sequence[Vote]) -> list[PreferencePair]:
    """The decisive votes as preference pairs (ties, "both bad" and identical answers are left out:
    they say nothing about which answer is better)."""
    pairs = []
    for v in votes:
        if not v.decisive:
            continue
        chosen, rejected = (v.a_text, v.b_text) if v.verdict == "a" else (v.b_text, v.a_text)
        if chosen.strip() == rejected.strip():
            continue
        pairs.append(PreferencePair(v.prompt, chosen, rejected, ARENA_SOURCE, f"{ARENA_SOURCE}-{v.id}"))
    return pairs


def pair_rows(pairs: Sequence[PreferencePair]) -> list[dict]:
    """The pairs as trl's rows: prompt, chosen, rejected (and the source, which trl ignores)."""
    return [{"prompt": p.prompt, "chosen": p.chosen, "rejected": p.rejected, "source": p.reason, "id": p.id}
            for p in pairs]


@dataclass
class SentPairs:
    added: int      # new pairs written to the Align tab's labels
    already: int    # pairs of these votes already there
    skipped: int    # votes that make no pair (ties, both bad, identical answers)
    total: int      # the labels now, all sources

    def sentence(self) -> str:
        parts = [f"{self.added} new preference pair{'s' if self.added != 1 else ''} sent to the Align tab"]
        if self.already:
            parts.append(f"{self.already} already there")
        if self.skipped:
            parts.append(f"{self.skipped} tie{'s' if self.skipped != 1 else ''} or both-bad left out")
        return "; ".join(parts) + f". The Align tab now has {self.total} labelled pairs."


def send_to_align(votes: Sequence[Vote], path=None) -> SentPairs:
    """Add the votes' pairs to the Align tab's labels (``learner_labels_path()`` unless ``path``),
    keeping every label already there; pairs already sent are not added again."""
    from playground.core.align.preferences import learner_labels_path, load_preferences, save_preferences

    pairs = vote_pairs(votes)
    if not pairs:
        raise InputError("No vote picks a winner yet, so there is no pair to send.",
                         "Vote A or B on a few prompts: ties and 'both bad' make no pair.")
    path = path or learner_labels_path()
    try:
        labels = load_preferences(path) if path.is_file() else []
    except InputError:
        labels = _raw_labels(path)  # fewer than two so far: keep them as they are
    have = {p.id for p in labels if p.id} | {(p.prompt, p.chosen, p.rejected) for p in labels}
    new = [p for p in pairs if p.id not in have and (p.prompt, p.chosen, p.rejected) not in have]
    if new:
        save_preferences(labels + new, path)
    return SentPairs(len(new), len(pairs) - len(new), len(votes) - len(pairs), len(labels) + len(new))


def _raw_labels(path) -> list[PreferencePair]:
    from playground.core.evaluation.datasets import read_jsonl

    try:
        rows = read_jsonl(path)
    except InputError:
        return []
    keys = ("prompt", "chosen", "rejected", "reason", "id")
    return [PreferencePair(*(str(r.get(k, "")) for k in keys)) for r in rows if isinstance(r, dict)]


def split_votes(votes: Sequence[Vote], held_out: float = 0.25) -> tuple[list[Vote], list[Vote]]:
    """(train, held-out) by a hash of each vote's id: the same vote stays on the same side as more come."""
    if not 0 < held_out < 1:
        raise InputError("The held-out share must be between 0 and 1.")
    train, test = [], []
    for v in votes:
        h = int(hashlib.sha256((v.id or v.prompt + v.a_text).encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        (test if h < held_out else train).append(v)
    return train, test


@dataclass
class Agreement:
    """How often a reward model trained on some arena votes ranks the held-out votes' winner first."""

    agree: int
    held_out: int
    train_pairs: int
    train_accuracy: float
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.agree / self.held_out if self.held_out else 0.0

    def sentence(self) -> str:
        return (f"The reward model trained on {self.train_pairs} arena pairs agrees with {self.agree} of "
                f"{self.held_out} held-out votes ({100 * self.rate:.0f}%, 95% interval "
                f"{100 * self.low:.0f}-{100 * self.high:.0f}%; chance is 50%).")


def arena_agreement(votes: Sequence[Vote], reward_model=None, held_out: float = 0.25,
                    steps: int = 300) -> Agreement:
    """Train a quick reward model (a linear head on the bundled encoder's features, as the Align tab's
    default) on the arena pairs of the training votes, and count how many held-out pairs it ranks as the
    voter did.

    ``reward_model``: a fresh ``RewardModel`` to train (tests pass one on a tiny backbone); None uses the
    bundled encoder.
    """
    from playground.core.evaluation.arena_fit import wilson

    train_votes, test_votes = split_votes(votes, held_out)
    train, test = vote_pairs(train_votes), vote_pairs(test_votes)
    if len(train) < 2 or not test:
        raise InputError(f"{len(vote_pairs(votes))} vote(s) pick a winner: too few to train on some and "
                         "hold out others.", "Vote A or B on about twenty prompts, then measure again.")
    if reward_model is None:
        from playground.core.align.reward_model import RewardModel, load_encoder_backbone

        encoder, tokenizer = load_encoder_backbone()
        reward_model = RewardModel(encoder, tokenizer, "quick", "encoder")
    report = reward_model.train_quick(train, test, steps=steps)
    chosen, rejected = report.chosen_scores, report.rejected_scores
    agree = sum(c > r for c, r in zip(chosen, rejected))
    low, high = wilson(agree, len(test))
    return Agreement(agree, len(test), len(train), float(report.train_accuracy), low, high)
