"""The parse success rate of JSON answers over a problem set, free and constrained (issue 31 §2)."""

from __future__ import annotations

from dataclasses import dataclass

from playground.core.reasoning.constrained import MAX_JSON_TOKENS, decode_structured, structured_prompt


@dataclass
class ParseOutcome:
    problem_id: str
    text: str
    parsed: bool
    right: bool
    error: str | None
    tokens: int
    seconds: float


@dataclass
class ParseReport:
    constrained: bool
    outcomes: list[ParseOutcome]

    @property
    def parse_rate(self) -> float:
        return sum(o.parsed for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    @property
    def accuracy(self) -> float:
        return sum(o.right for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0


def parse_rate(loaded, problems, constrained: bool, schema=None, max_new_tokens: int = MAX_JSON_TOKENS,
               handle=None) -> ParseReport:
    """Each problem answered as JSON (greedy); parsed = valid JSON matching the schema."""
    from playground.core.base.handle import ensure_handle
    from playground.core.base.progress import report_step
    from playground.core.reasoning.answers import is_right

    handle = ensure_handle(handle)
    outcomes = []
    for i, p in enumerate(problems):
        handle.raise_if_cancelled()
        report_step(handle, "JSON answers " + ("constrained" if constrained else "free"), i, len(problems), p.id)
        r = decode_structured(loaded, structured_prompt(loaded, p.question), schema, constrained, max_new_tokens,
                              handle.cancelled, record=False)
        answer = r.value.get("answer") if r.value else None
        right = bool(isinstance(answer, (int, float)) and is_right(float(answer), p.answer))
        outcomes.append(ParseOutcome(p.id, r.text, r.parsed, right, r.error, r.n_tokens, r.seconds))
    return ParseReport(constrained, outcomes)
