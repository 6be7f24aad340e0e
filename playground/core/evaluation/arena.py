"""The blind arena's votes: what a person said when two systems answered the same prompt.

A vote keeps the prompt, both answers in the order they were shown (``a`` on the left, ``b`` on the
right), which system wrote each (hidden from the voter until the vote) and the verdict: ``a``,
``b``, ``tie`` or ``both_bad``. Votes live in one JSONL file under the user data folder
(``votes_path()``), one vote per line, each line carrying ``version``; they survive restarts and
export as the same JSONL.

Other formats are handled plainly: a line without ``version`` in FastChat's battle format
(``model_a``, ``model_b``, ``winner``) is migrated; a line with another version is refused,
naming it.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Sequence

from playground.core.base.errors import InputError

#: The vote format written by this version of the app (bump it and add a migration when it changes).
ARENA_VERSION = 1
VERDICTS = ("a", "b", "tie", "both_bad")
VERDICT_WORDS = {"a": "A is better", "b": "B is better", "tie": "Tie", "both_bad": "Both are bad"}
#: FastChat's battle log verdicts -> ours (a line without ``version`` in that format is migrated).
_FASTCHAT = {"model_a": "a", "model_b": "b", "tie": "tie", "tie (bothbad)": "both_bad"}


@dataclass(frozen=True)
class Vote:
    """One verdict on two answers to the same prompt, shown as A (left) and B (right)."""

    prompt: str                 # the prompt text both systems answered (as a preference pair's prompt)
    a: str                      # the system shown on the left
    b: str                      # the system shown on the right
    a_text: str
    b_text: str
    verdict: str                # "a", "b", "tie" or "both_bad"
    source: dict = field(default_factory=dict)    # where the prompt came from: {"kind", "id", "template"}
    settings: dict = field(default_factory=dict)  # how the answers were generated, and each system's model
    id: str = ""
    time: float = 0.0
    version: int = ARENA_VERSION

    @property
    def winner(self) -> str | None:
        """The winning system's name; None for a tie or both bad."""
        return {"a": self.a, "b": self.b}.get(self.verdict)

    @property
    def loser(self) -> str | None:
        return {"a": self.b, "b": self.a}.get(self.verdict)

    @property
    def decisive(self) -> bool:
        return self.verdict in ("a", "b")

    def as_dict(self) -> dict:
        return asdict(self)


def make_vote(prompt: str, a: str, b: str, a_text: str, b_text: str, verdict: str, *,
              source: dict | None = None, settings: dict | None = None) -> Vote:
    """A new vote with a fresh id and the time now; an unknown verdict is refused."""
    if verdict not in VERDICTS:
        raise InputError(f"'{verdict}' is not a vote.", f"Vote one of: {', '.join(VERDICTS)}.")
    return Vote(prompt, a, b, a_text, b_text, verdict, dict(source or {}), dict(settings or {}),
                uuid.uuid4().hex[:12], time.time())


def votes_path() -> Path:
    """Where the arena's votes are kept: ``<user data>/arena/votes.jsonl``."""
    from playground.core.base.paths import user_dirs

    return user_dirs().data / "arena" / "votes.jsonl"


def _vote_from(row: dict, line: int, name: str) -> tuple[Vote, bool]:
    """(the vote of one row, whether it was migrated); refuses another version in plain words."""
    if not isinstance(row, dict):
        raise InputError(f"Line {line} of {name} is not a JSON object.", "Each line must be one vote.")
    version = row.get("version")
    if version is None and {"model_a", "model_b", "winner"} <= set(row):
        return _from_fastchat(row, line, name), True
    if version != ARENA_VERSION:
        said = "has no version" if version is None else f"is version {version!r}"
        raise InputError(f"Line {line} of {name} {said}; this app reads arena votes of version {ARENA_VERSION} "
                         "(and FastChat battle logs).",
                         "Export the votes again from the app that made them, or start a new vote file.")
    missing = [k for k in ("prompt", "a", "b", "a_text", "b_text", "verdict") if not isinstance(row.get(k), str)]
    if missing:
        raise InputError(f"Line {line} of {name} lacks {', '.join(missing)} (or they are not text).",
                         "A vote needs prompt, a, b, a_text, b_text and verdict.")
    if row["verdict"] not in VERDICTS:
        raise InputError(f"Line {line} of {name} has the verdict '{row['verdict']}'.",
                         f"Use one of: {', '.join(VERDICTS)}.")
    return Vote(row["prompt"], row["a"], row["b"], row["a_text"], row["b_text"], row["verdict"],
                dict(row.get("source") or {}), dict(row.get("settings") or {}), str(row.get("id", "")),
                float(row.get("time", 0.0) or 0.0)), False


def _from_fastchat(row: dict, line: int, name: str) -> Vote:
    winner = row["winner"]
    if winner not in _FASTCHAT:
        raise InputError(f"Line {line} of {name} has the FastChat winner '{winner}'.",
                         f"FastChat winners are: {', '.join(_FASTCHAT)}.")
    turns = row.get("conversation_a") or []
    prompt = str(row.get("prompt") or next((t.get("content", "") for t in turns if isinstance(t, dict)
                                            and t.get("role") == "user"), ""))
    answer = lambda key: next((t.get("content", "") for t in reversed(row.get(key) or [])
                               if isinstance(t, dict) and t.get("role") == "assistant"), "")
    return Vote(prompt, str(row["model_a"]), str(row["model_b"]), answer("conversation_a"), answer("conversation_b"),
                _FASTCHAT[winner], {"kind": "fastchat"}, {}, str(row.get("question_id", f"fastchat-{line}")),
                float(row.get("tstamp", 0.0) or 0.0))


@dataclass
class VoteFile:
    """Votes read from a file, and how many of them were migrated from another format."""

    votes: list[Vote]
    migrated: int = 0

    @property
    def note(self) -> str:
        if not self.migrated:
            return ""
        return (f"{self.migrated} vote{'s were' if self.migrated != 1 else ' was'} migrated from FastChat's "
                f"battle format to arena votes version {ARENA_VERSION}.")


def read_votes(path: str | Path) -> VoteFile:
    """Every vote in a JSONL vote file (migrated where the format allows it; see the module)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"There is no vote file at {path}.", "Vote in the arena first, or pick another file.")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name} cannot be read as text ({exc}).", "Pick a JSONL vote file.") from None
    votes, migrated = [], 0
    for i, raw in enumerate(text.splitlines(), 1):
        if not raw.strip():
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"Line {i} of {path.name} is not JSON ({exc.msg}).",
                             "Each line must be one vote as a JSON object.") from None
        vote, was = _vote_from(row, i, path.name)
        votes.append(vote)
        migrated += was
    return VoteFile(votes, migrated)


def write_votes(votes: Sequence[Vote], path: str | Path) -> Path:
    """All ``votes`` as JSONL (each line with its version), atomically (temp file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("".join(json.dumps(v.as_dict(), ensure_ascii=False) + "\n" for v in votes), encoding="utf-8")
    tmp.replace(path)
    return path


class VoteStore:
    """The arena's votes on disk (``votes_path()`` unless given a path): read once, rewritten on each vote."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path is not None else votes_path()
        self.note = ""
        if self.path.is_file():
            got = read_votes(self.path)  # another version: refused here, the file is left as it is
            self.votes, self.note = got.votes, got.note
            if got.migrated:
                write_votes(self.votes, self.path)  # kept in this version's format from now on
        else:
            self.votes = []

    def add(self, vote: Vote) -> Vote:
        self.votes.append(vote)
        write_votes(self.votes, self.path)
        return vote

    def undo(self) -> Vote | None:
        """Remove the last vote (a slip of the key)."""
        if not self.votes:
            return None
        last = self.votes.pop()
        write_votes(self.votes, self.path)
        return last

    def export(self, path: str | Path) -> Path:
        """The votes as JSONL somewhere else (the same format this store reads)."""
        if not self.votes:
            raise InputError("There are no votes to export yet.", "Vote in the arena first.")
        return write_votes(self.votes, path)

    def __len__(self) -> int:
        return len(self.votes)
