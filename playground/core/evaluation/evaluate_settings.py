"""The Evaluate tab's settings, declared once: dataset, examples, prompt, max new tokens, ROUGE options.

``EvaluateSettings`` is the ``evaluate`` section of the settings file and the draft the tab's form
is bound to; each field carries its row's label, range or choices, and help (``playground.qt.binding``).
It holds the options of an evaluation run as ``playground evaluate`` names them (split, examples,
template, chat template, max new tokens, ROUGE tokenizer) plus the tab's systems, as plain records.

Max new tokens is ``GenerationSettings``' own field (its label, range and help, one declaration);
Evaluate always decodes greedily, so the same systems score the same again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

from playground.core.decoding.settings import GenerationSettings
from playground.core.evaluation.datasets import SPLITS
from playground.core.evaluation.text_tokens import DEFAULT, UNICODE
from playground.core.prompting.prompt_settings import SUMMARY_MAX_NEW_TOKENS, summary_generation
from playground.core.prompting.prompts import CHAT_TEMPLATE_LABEL, DEFAULT_TEMPLATE, TEMPLATES, USE_CHAT_TEMPLATE

GREEDY_NOTE = ("Evaluate decodes greedily (always the most likely token), so the same systems give the same "
               "summaries and scores again.")


def _generation_field(name: str) -> dict:
    """The metadata (label, range, help) of one ``GenerationSettings`` field: declared there, once."""
    return dict(next(f for f in fields(GenerationSettings) if f.name == name).metadata)


@dataclass(frozen=True)
class EvaluateSettings:
    """``evaluate`` in the settings file: what the Evaluate tab runs and how it scores.

    ``systems`` are the tab's rows as records ``{"kind", "enabled", "shots", "path"}`` (a predictions
    file's column is read from the file again). A file of one's own as the dataset is not
    remembered: ``data`` falls back to the test split at the next start.
    """

    data: str = field(default="test", metadata={
        "label": "Data", "choices": tuple((f"Bundled dialogues: {s}", s) for s in SPLITS),
        "help": "The bundled dataset: short everyday conversations, each with a summary written by a person. "
                "Or a CSV, JSONL or Parquet file of your own."})
    count: int = field(default=10, metadata={
        "label": "Examples", "range": (1, 100000),
        "help": "How many examples to evaluate, from the top of the split. Generation takes seconds per "
                "example on a CPU."})
    max_new_tokens: int = field(default=SUMMARY_MAX_NEW_TOKENS, metadata=_generation_field("max_new_tokens"))
    tokenizer: str = field(default=DEFAULT, metadata={
        "label": "ROUGE tokenizer",
        "choices": (("rouge-score (ASCII, comparable)", DEFAULT), ("Unicode-aware", UNICODE)),
        "help": "How ROUGE splits text into words. rouge-score's own tokenizer keeps only ASCII letters and "
                "digits (accents, Cyrillic, CJK vanish, scoring 0) so scores compare with published ones; "
                "Unicode-aware keeps every script."})
    use_stemmer: bool = field(default=True, metadata={
        "label": "", "text": "Stem words (talked = talks)",
        "help": "Porter stemming: words are cut to their stem before matching, as rouge-score's use_stemmer."})
    # The Prompt tab's defaults (one template, one chat-template default for every tab), so the same
    # dialogue at 0 shots is asked the same prompt, and scores the same, in Prompt and in Evaluate.
    template: str = field(default=DEFAULT_TEMPLATE, metadata={
        "label": "Prompt",
        "choices": (("Summarization prompt (chat form where the model has one)", ""),
                    *((f"{t.label} ({name})", name) for name, t in TEMPLATES.items())),
        "help": "How every system's prompt is built. Score an adapter with the template it was trained with "
                "(chosen for you when you pick a Fine-tune run's adapter): on a prompt it never saw, it may "
                "score like the base model."})
    use_chat_template: bool = field(default=USE_CHAT_TEMPLATE, metadata={
        "label": "", "text": CHAT_TEMPLATE_LABEL,
        "help": "Put the template's prompt in the model's chat format (a user turn), as the Prompt tab does. "
                "An adapter is scored with the setting it was trained with (chosen for you when you pick a "
                "Fine-tune run's adapter)."})
    systems: list = field(default_factory=list, metadata={"items": dict})

    def generation(self) -> GenerationSettings:
        """Greedy decoding with this many new tokens (see ``GREEDY_NOTE``)."""
        return replace(summary_generation(), max_new_tokens=self.max_new_tokens)
