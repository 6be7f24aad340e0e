"""Reading a number out of a model's text, grading it, and voting over several answers.

Extraction follows the convention of the chain-of-thought papers: the number after the last "The answer
is" when the text has one, else the last number in the text. Numbers may carry thousands separators
("1,200"), a sign, decimals, a currency sign or a trailing percent sign.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

NUMBER = r"[-−]?\$?\s?\d[\d,]*(?:\.\d+)?|[-−]?\$?\.\d+"
_NUMBER_RE = re.compile(NUMBER)
_ANSWER_IS_RE = re.compile(r"answer\s*(?:is|:|=)\s*[:\s]*\**\s*(" + NUMBER + ")", re.IGNORECASE)
ABS_TOLERANCE = 0.01
REL_TOLERANCE = 1e-6


def _to_float(text: str) -> float | None:
    cleaned = text.replace("−", "-").replace("$", "").replace(" ", "")
    if "," in cleaned:
        head, *groups = cleaned.split(",")
        # "1,200" is a thousands separator; "3,4" (a list) keeps the last part as its own number
        if all(len(g.split(".")[0]) == 3 for g in groups) and head.lstrip("-"):
            cleaned = cleaned.replace(",", "")
        else:
            cleaned = groups[-1]
    cleaned = cleaned.rstrip(".")
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def extract_answer(text: str) -> float | None:
    """The answer a text gives: the number after the last 'The answer is', else the last number; None if none."""
    if not text:
        return None
    stated = _ANSWER_IS_RE.findall(text)
    if stated:
        return _to_float(stated[-1])
    numbers = _NUMBER_RE.findall(text)
    for candidate in reversed(numbers):
        value = _to_float(candidate)
        if value is not None:
            return value
    return None


def answer_stated(text: str) -> bool:
    """Whether the text already says 'The answer is N' (generation can stop there)."""
    return bool(_ANSWER_IS_RE.search(text or ""))


def is_right(predicted: float | None, gold: float | None) -> bool | None:
    """Right within the tolerance (0.01 absolute or 1e-6 relative); None when there is no gold to grade by."""
    if gold is None:
        return None
    if predicted is None:
        return False
    return math.isclose(predicted, gold, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)


def format_number(value) -> str:
    """12.0 -> '12', 0.7000000001 -> '0.7', None -> '—' (no number found)."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:,.6g}"


@dataclass(frozen=True)
class Vote:
    """Self-consistency's vote: how many paths gave each answer, and the winner.

    ``counts`` is ordered by votes (most first), ties by the answer seen first; paths with no number do
    not vote (``abstained``). The winner is the most common answer; a tie goes to the one seen first.
    """

    counts: tuple[tuple[float, int], ...]
    abstained: int = 0

    @property
    def winner(self) -> float | None:
        return self.counts[0][0] if self.counts else None

    @property
    def share(self) -> float:
        """The winner's share of all the paths (abstentions included)."""
        total = sum(n for _, n in self.counts) + self.abstained
        return self.counts[0][1] / total if self.counts and total else 0.0

    @property
    def tied(self) -> bool:
        return len(self.counts) > 1 and self.counts[0][1] == self.counts[1][1]

    def describe(self) -> str:
        if not self.counts:
            return f"no path gave a number ({self.abstained} without one)"
        parts = [f"{format_number(a)} ×{n}" for a, n in self.counts]
        if self.abstained:
            parts.append(f"no number ×{self.abstained}")
        return ", ".join(parts)


def _key(value: float) -> float:
    # answers equal within the grading tolerance vote together (7 and 7.0 and 7.000001)
    return round(value, 2)


def vote(answers: list[float | None]) -> Vote:
    """The vote over the paths' answers (None: a path that gave no number)."""
    first_seen: dict[float, int] = {}
    counter: Counter = Counter()
    for i, answer in enumerate(answers):
        if answer is None:
            continue
        key = _key(answer)
        first_seen.setdefault(key, i)
        counter[key] += 1
    order = sorted(counter, key=lambda k: (-counter[k], first_seen[k]))
    return Vote(tuple((k, counter[k]) for k in order), abstained=sum(a is None for a in answers))


_FENCE_RE = re.compile(r"```(?:python|py)?\s*\n(.*?)(?:```|$)", re.DOTALL | re.IGNORECASE)


def extract_program(text: str) -> str:
    """The program in a model's PAL reply: the first fenced block (```python ... ```), else the text itself
    up to a closing fence, with the lines that cannot be Python (chatter after the code) left out."""
    if not text:
        return ""
    before = text.split("```")[0]
    if before.strip() and "=" in before:  # the reply began inside the code (the prompt opened the fence)
        body = before
    else:
        match = _FENCE_RE.search(text)
        body = match.group(1) if match else before
    lines = body.rstrip().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines).strip("\n")
