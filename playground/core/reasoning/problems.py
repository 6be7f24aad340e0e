"""The bundled word problems (``resources/reasoning/problems.jsonl``) and the learner's own.

A problem is graded against a numeric gold answer; one without a number is refused in plain words.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.base.paths import resources_dir

KINDS = ("arithmetic", "word", "knowledge")


@dataclass(frozen=True)
class Problem:
    """One problem: ``answer`` is the numeric gold (None for a typed question with no gold yet)."""

    id: str
    question: str
    answer: float | None = None
    kind: str = "word"
    solution: str = ""
    passage_ids: tuple[str, ...] = field(default=())

    @property
    def passage_id(self) -> str:
        return self.passage_ids[0] if self.passage_ids else ""

    @property
    def graded(self) -> bool:
        return self.answer is not None

    def label(self) -> str:
        """'w04 · Tom reads 15 pages a day…' for a list."""
        text = self.question if len(self.question) <= 70 else self.question[:69] + "…"
        return f"{self.id} · {text}"


def problems_path() -> Path:
    return resources_dir() / "reasoning" / "problems.jsonl"


def check_question(question: str) -> str:
    """The question, trimmed; an empty one is an ``InputError``."""
    text = (question or "").strip()
    if not text:
        raise InputError("The question is empty.", "Pick a bundled problem or type a word problem.")
    return text


def parse_gold(value) -> float:
    """A numeric gold answer from a number or text such as '1,200' or '7.5'; anything else is refused."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("$", "")
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None and math.isfinite(number):
            return number
    raise InputError(f"The gold answer {value!r} is not a number, so answers cannot be graded against it.",
                     "Give the gold answer as a number (12, 7.5, -3), or leave it empty to see the answers ungraded.")


def own_problem(question: str, gold: str | float | None = None) -> Problem:
    """A problem the learner typed; ``gold`` empty means ungraded."""
    text = check_question(question)
    answer = None if gold is None or (isinstance(gold, str) and not gold.strip()) else parse_gold(gold)
    return Problem(id="own", question=text, answer=answer, kind="own")


def problem_from_dict(raw: dict, where: str = "") -> Problem:
    """One problem from its JSON object (the format in ``resources/reasoning/README.md``)."""
    if not isinstance(raw, dict):
        raise InputError(f"{where}: each line must be a JSON object.", "See resources/reasoning/README.md.")
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise InputError(f"{where}: the problem has no question.", "Give each line a 'question' text.")
    if "answer" not in raw or raw["answer"] is None:
        raise InputError(f"{where}: the problem has no numeric gold answer.",
                         "Give each line an 'answer' number, so the strategies can be graded.")
    try:
        gold = parse_gold(raw["answer"])
    except InputError as err:
        raise InputError(f"{where}: {err.message}", err.hint) from None
    passages = raw.get("passage_ids") or ([raw["passage_id"]] if raw.get("passage_id") else [])
    return Problem(id=str(raw.get("id") or where), question=question.strip(), answer=gold,
                   kind=str(raw.get("kind", "word")), solution=str(raw.get("solution", "")),
                   passage_ids=tuple(str(p) for p in passages))


def load_problems(path: str | Path | None = None, kinds: tuple[str, ...] | None = None) -> list[Problem]:
    """Problems from a JSONL file (the bundled set when ``path`` is None), optionally of some kinds only."""
    path = Path(path) if path else problems_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"Cannot read the problem file {path}: {exc.strerror or exc}.",
                         "Choose a .jsonl file with one problem per line.") from None
    out: list[Problem] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except ValueError:
            raise InputError(f"{path.name} line {number} is not valid JSON.",
                             "Each line must be one JSON object such as {\"question\": ..., \"answer\": 12}.") from None
        out.append(problem_from_dict(raw, f"{path.name} line {number}"))
    if kinds:
        out = [p for p in out if p.kind in kinds]
    if not out:
        raise InputError(f"{path.name} holds no problems.", "Add one JSON object per line.")
    return out


def bundled_problems(kinds: tuple[str, ...] | None = ("arithmetic", "word")) -> list[Problem]:
    """The bundled set: arithmetic and word problems by default (``kinds=None``: the knowledge ones too)."""
    return load_problems(None, kinds)


def select(problems: list[Problem], limit: int | None) -> list[Problem]:
    """The first ``limit`` problems (all when None); a limit below 1 is refused."""
    if limit is None:
        return list(problems)
    if int(limit) < 1:
        raise InputError(f"The limit must be at least 1 problem (it is {limit}).", "Leave it empty to run them all.")
    return list(problems)[: int(limit)]
