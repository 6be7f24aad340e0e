"""Named prompt templates for dialogue summarization.

A template is a format string with ``{dialogue}`` where the conversation goes. It is the *prompt*:
what the model reads before it writes the summary. For training, the reference summary is the
*completion* that follows the prompt (``{summary}`` may mark where it goes; by default it comes
right after the prompt). The same template must be used for training and for inference, or the
fine-tuned model sees a prompt it was never trained on.
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.core.errors import InputError

DIALOGUE = "{dialogue}"
SUMMARY = "{summary}"

#: name -> prompt template. Prompts end with text the summary naturally follows.
TEMPLATES: dict[str, str] = {
    "instruction": "Summarize the following conversation.\n\n{dialogue}\n\nSummary: ",
    "flan": "Dialogue:\n{dialogue}\n\nWhat was going on in this conversation? Briefly summarize it.\n",
    "tldr": "{dialogue}\n\nTL;DR: ",
    "minimal": "{dialogue}\nSummary: ",
}

#: One-line descriptions a picker can show beside the names.
TEMPLATE_DESCRIPTIONS: dict[str, str] = {
    "instruction": "An instruction, the conversation, then 'Summary:'.",
    "flan": "FLAN-style: the dialogue first, then a question asking for a summary.",
    "tldr": "The conversation, then 'TL;DR:' as on web forums.",
    "minimal": "Only the conversation and the word 'Summary:'.",
}

DEFAULT_TEMPLATE = "instruction"


@dataclass(frozen=True)
class PromptParts:
    """A template cut around ``{dialogue}``: text before it, text after it, text after the summary."""

    before: str
    after: str
    tail: str = ""  # text that follows the summary in training examples (rarely used)


def resolve_template(name_or_text: str) -> str:
    """A template by name (see TEMPLATES) or a custom template string, checked.

    Raises
    ------
    InputError
        When the text has no ``{dialogue}`` or unknown ``{fields}``.
    """
    text = TEMPLATES.get(name_or_text, name_or_text)
    if DIALOGUE not in text:
        known = ", ".join(TEMPLATES)
        raise InputError(f"The template {name_or_text!r} is neither a known name nor a text with {{dialogue}} in it.",
                         f"Use one of: {known}; or write your own text containing {{dialogue}}.")
    try:
        text.format(dialogue="", summary="")
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(f"The template has a field or brace the app does not know ({exc}).",
                         "Use only {dialogue} and {summary}; write {{ and }} for literal braces.") from None
    return text


def split_template(template: str) -> PromptParts:
    """Cut a template into the text before and after the dialogue (the prompt) and after the summary."""
    template = resolve_template(template)
    prompt, _, tail = template.partition(SUMMARY)
    before, _, after = prompt.partition(DIALOGUE)
    unescape = lambda s: s.replace("{{", "{").replace("}}", "}")  # noqa: E731
    return PromptParts(unescape(before), unescape(after), unescape(tail))


def render_prompt(template: str, dialogue: str) -> str:
    """The prompt for one dialogue (what the model sees at inference time).

    Trailing spaces are dropped: word-piece tokenizers write the space together with the next
    word (' He'), so a prompt ending in a lone space is one the model rarely saw.
    """
    parts = split_template(template)
    return parts.before + dialogue + parts.after.rstrip(" ")


def render_example(template: str, dialogue: str, summary: str) -> tuple[str, str]:
    """(prompt, completion) for a training example; the prompt is ``render_prompt``'s.

    When the template's prompt ends with a space, the completion starts with it instead.
    """
    parts = split_template(template)
    moved = parts.after != parts.after.rstrip(" ")
    completion = (" " if moved else "") + summary.lstrip(" " if moved else "") + parts.tail
    return render_prompt(template, dialogue), completion
