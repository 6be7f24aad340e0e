"""The arena's settings, declared once with each field's label, range and help (the page's form rows
and their tooltips are made from them; ``playground arena`` reads the same defaults)."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.evaluation.arena_run import DEFAULT_NEW_TOKENS, DEFAULT_TEMPERATURE, DIALOGUE, TEMPLATE, TYPED

SOURCE_CHOICES = [("A bundled dialogue", DIALOGUE), ("A dialogue in a Prompt-tab template", TEMPLATE),
                  ("Typed text", TYPED)]


def _template_choices() -> list[tuple[str, str]]:
    from playground.core.prompting.prompts import TEMPLATES

    return [(t.label, t.name) for t in TEMPLATES.values()]


@dataclass(frozen=True)
class ArenaSettings:
    source: str = field(default=DIALOGUE, metadata={
        "label": "Prompt", "choices": SOURCE_CHOICES,
        "help": "What both systems answer: a bundled test dialogue to summarize (as the Summaries section asks), "
                "the same dialogue in one of the Prompt tab's templates, or your own text (answered as a chat "
                "message; k-shot and files of outputs need a dialogue)."})
    dialogue: int = field(default=1, metadata={
        "label": "Dialogue", "range": (1, 60),
        "help": "Which of the 60 bundled test dialogues; 'Next prompt' moves to the next one."})
    template: str = field(default="instruction", metadata={
        "label": "Template", "choices": _template_choices(),
        "help": "The Prompt tab's template the dialogue is put in (for 'A dialogue in a Prompt-tab template')."})
    temperature: float = field(default=DEFAULT_TEMPERATURE, metadata={
        "label": "Temperature", "range": (0.0, 2.0, 0.1), "decimals": 2,
        "help": "0 picks the most likely token every time (greedy: one system gives one answer); above 0 samples, "
                "so a system compared with itself answers in two ways."})
    max_new_tokens: int = field(default=DEFAULT_NEW_TOKENS, metadata={
        "label": "Max new tokens", "range": (4, 256),
        "help": "The longest answer each system may write."})
