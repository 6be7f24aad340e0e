"""The Prompt tab's settings, declared once: template, chat template, shots, seed and generation."""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.decoding.settings import GenerationSettings
from playground.core.prompting.prompts import DEFAULT_TEMPLATE, USE_CHAT_TEMPLATE

#: The room kept for a summary of a dialogue (the Prompt and Evaluate tabs, ``playground evaluate``).
SUMMARY_MAX_NEW_TOKENS = 60
FREE_TEMPLATE = "__free__"


def summary_generation() -> GenerationSettings:
    """Greedy, 60 new tokens: summaries are scored against references, so runs must repeat."""
    return GenerationSettings(max_new_tokens=SUMMARY_MAX_NEW_TOKENS, top_n=0)


@dataclass(frozen=True)
class PromptSettings:
    """``prompt`` in the settings file: how the Prompt tab builds and runs a prompt."""

    template: str = field(default=DEFAULT_TEMPLATE, metadata={
        "label": "Template",
        "help": "How the request is worded. Instruction-tuned models answer best to wordings like those they "
                "were trained on."})
    free_template: str = field(default="Conversation:\\n{dialogue}\\nIn short: {summary}", metadata={
        "label": "Free template",
        "help": "Your own template: {dialogue} marks the conversation, {summary} where an example's answer "
                "goes. \\n is a new line."})
    use_chat_template: bool = field(default=USE_CHAT_TEMPLATE, metadata={
        "label": "", "help": "Chat models were trained on turns wrapped in special tokens; each example becomes a "
                             "user turn and an assistant answer."})
    shots: int = field(default=0, metadata={
        "label": "Shots", "range": (0, 8),
        "help": "How many worked examples to show before the dialogue: 0 = zero-shot, 1 = one-shot, more = "
                "few-shot."})
    seed: int = field(default=0, metadata={
        "label": "Seed", "range": (0, 99999),
        "help": "Examples are drawn from the train split at random with this seed."})
    generation: GenerationSettings = field(default_factory=summary_generation, metadata={"label": "Generation"})

    def template_text(self) -> str:
        """The template to use: a bundled template's name, or the free one with its \\n made new lines."""
        return self.free_template.replace("\\n", "\n") if self.template == FREE_TEMPLATE else self.template
