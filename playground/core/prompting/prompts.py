"""Prompt engineering for dialogue summarization: templates, shots, assembly, token accounting.

A *template* is the text around the conversation, with ``{dialogue}`` where it goes and,
optionally, ``{summary}`` where a worked example's answer goes (otherwise the answer follows
the template). *Shots* are worked examples shown before the conversation: zero-shot shows
none, one-shot one, few-shot k. Every example takes room in the context window.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from playground.core.base.errors import InputError

# One default for every tab and the CLI: the bundled model is instruction-tuned, so a prompt wrapped
# in its chat template is what it was trained to answer. Raw continuations turn it off.
USE_CHAT_TEMPLATE = True
CHAT_TEMPLATE_LABEL = "Chat template (on by default in every tab)"


@dataclass(frozen=True)
class Template:
    name: str
    label: str
    text: str
    description: str = ""


TEMPLATES: dict[str, Template] = {t.name: t for t in (
    Template("instruction", "Plain instruction",
             "Summarize the following conversation.\n\n{dialogue}\n\nSummary: {summary}",
             "An instruction, the conversation, then 'Summary:'."),
    Template("flan", "FLAN: What was going on?",
             "Dialogue:\n{dialogue}\n\nWhat was going on?\n{summary}",
             "FLAN-style: the dialogue, then a question the model was instruction-tuned on."),
    Template("flan-brief", "FLAN: Briefly summarize",
             "Dialogue:\n{dialogue}\n\nBriefly summarize that dialogue.\n{summary}",
             "FLAN-style, asking for a brief summary."),
    Template("tldr", "TL;DR", "{dialogue}\n\nTL;DR: {summary}",
             "The conversation, then 'TL;DR:' as on web forums."),
)}
DEFAULT_TEMPLATE = "instruction"


class ShotLike(Protocol):
    id: str
    input: str
    reference: str


@dataclass(frozen=True)
class Shot:
    """A worked example: a dialogue and its reference summary."""

    id: str
    input: str
    reference: str


def resolve_template(name_or_text: str) -> str:
    """A template's text from its name, or a free template checked for ``{dialogue}``."""
    if name_or_text in TEMPLATES:
        return TEMPLATES[name_or_text].text
    text = name_or_text or ""
    if "{dialogue}" not in text:
        raise InputError("The template has no {dialogue} placeholder, so the conversation would not appear.",
                         "Add {dialogue} where the conversation should go (and optionally {summary}).")
    try:
        text.format(dialogue="", summary="")
    except (KeyError, IndexError, ValueError) as exc:
        raise InputError(f"The template has a placeholder or brace the app does not know ({exc}).",
                         "Use only {dialogue} and {summary}; write {{ and }} for literal braces.") from None
    return text


def _split(template: str) -> tuple[str, str, str]:
    """(before dialogue, between dialogue and summary, after summary), braces unescaped."""
    text = resolve_template(template)
    if "{summary}" not in text:
        text = text + "{summary}"
    before, _, rest = text.partition("{dialogue}")
    middle, _, after = rest.partition("{summary}")
    un = lambda s: s.replace("{{", "{").replace("}}", "}")
    return un(before), un(middle), un(after)


def completion_text(summary: str, template: str = DEFAULT_TEMPLATE, *, chat: bool = False) -> str:
    """What follows ``assemble``'s zero-shot prompt in a training example: the summary, and the
    template's text after ``{summary}``.

    ``assemble`` ends a plain prompt at the cue without its trailing space ("Summary:"), since
    word-piece tokenizers write a space together with the next word; the completion starts with
    that space instead. With a chat template the completion is the assistant's summary alone.
    """
    _, middle, after = _split(template)
    summary = summary.strip()
    if chat:
        return summary
    return middle[len(middle.rstrip(" ")):] + summary + after


@dataclass
class Section:
    kind: str  # "instruction", "example" or "dialogue"
    start: int
    end: int


@dataclass
class AssembledPrompt:
    """The full prompt text and which characters are instruction, examples and dialogue."""

    text: str
    sections: list[Section] = field(default_factory=list)
    shots: int = 0
    chat: bool = False


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.sections: list[Section] = []
        self.pos = 0

    def add(self, text: str, kind: str) -> None:
        if not text:
            return
        self.parts.append(text)
        self.sections.append(Section(kind, self.pos, self.pos + len(text)))
        self.pos += len(text)

    def result(self, **kw) -> AssembledPrompt:
        return AssembledPrompt("".join(self.parts), _merge(self.sections), **kw)


def _merge(sections: list[Section]) -> list[Section]:
    out: list[Section] = []
    for s in sections:
        if out and out[-1].kind == s.kind and out[-1].end == s.start:
            out[-1].end = s.end
        else:
            out.append(Section(s.kind, s.start, s.end))
    return out


def assemble(dialogue: str, shots: Sequence[ShotLike] = (), template: str = DEFAULT_TEMPLATE, *,
             tokenizer=None, use_chat_template: bool = False) -> AssembledPrompt:
    """Build the prompt asking for a summary of ``dialogue`` after ``shots`` worked examples.

    Parameters
    ----------
    dialogue
        The conversation to summarize.
    shots
        Worked examples (``.input`` dialogue, ``.reference`` summary); zero-shot when empty.
    template
        A name from TEMPLATES or a free template text containing ``{dialogue}``.
    tokenizer, use_chat_template
        With a chat template, each example becomes a user turn (the template around its dialogue)
        and an assistant turn (its summary); the conversation is the last user turn.

    Returns
    -------
    AssembledPrompt
        The text, with character spans of instruction, examples and the dialogue.
    """
    if not dialogue or not dialogue.strip():
        raise InputError("The dialogue to summarize is empty.", "Pick or paste a conversation first.")
    before, middle, after = _split(template)
    dialogue = dialogue.strip()
    if use_chat_template and tokenizer is not None and getattr(tokenizer, "chat_template", None):
        return _assemble_chat(dialogue, shots, before, middle, tokenizer)
    b = _Builder()
    for shot in shots:
        b.add(before + shot.input.strip() + middle + shot.reference.strip() + after + "\n\n", "example")
    b.add(before, "instruction")
    b.add(dialogue, "dialogue")
    b.add(middle.rstrip(" "), "instruction")
    return b.result(shots=len(shots), chat=False)


def _assemble_chat(dialogue, shots, before, middle, tokenizer) -> AssembledPrompt:
    ask = lambda d: before + d + middle.rstrip()
    messages = []
    for s in shots:
        messages += [{"role": "user", "content": ask(s.input.strip())},
                     {"role": "assistant", "content": s.reference.strip()}]
    messages.append({"role": "user", "content": ask(dialogue)})
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    # Find each message's content in order; everything between is chat scaffolding (instruction).
    b = _Builder()
    pos = 0
    for i, m in enumerate(messages):
        idx = text.find(m["content"], pos)
        if idx < 0:  # a template that rewrites content: count the whole prompt as one piece
            return AssembledPrompt(text, [Section("instruction", 0, len(text))], len(shots), True)
        b.add(text[pos:idx], "instruction" if i >= 2 * len(shots) else "example")
        content = m["content"]
        if i < 2 * len(shots):
            b.add(content, "example")
        else:
            b.add(before, "instruction")
            b.add(dialogue, "dialogue")
            b.add(content[len(before) + len(dialogue):], "instruction")
        pos = idx + len(content)
    b.add(text[pos:], "instruction")
    return b.result(shots=len(shots), chat=True)


@dataclass
class TokenCount:
    instruction: int
    examples: int
    dialogue: int

    @property
    def total(self) -> int:
        return self.instruction + self.examples + self.dialogue


def count_prompt_tokens(tokenizer, prompt: AssembledPrompt) -> TokenCount:
    """Tokens of the prompt split by section; the total equals the tokenizer's own count.

    A token is counted in the section where it starts (special tokens added by the tokenizer
    count as instruction).
    """
    enc = tokenizer(prompt.text, add_special_tokens=not prompt.chat, return_offsets_mapping=True)
    counts = {"instruction": 0, "example": 0, "dialogue": 0}
    secs = prompt.sections
    j = 0
    for start, end in enc["offset_mapping"]:
        if end == 0 and start == 0:
            counts["instruction"] += 1
            continue
        while j + 1 < len(secs) and start >= secs[j].end:
            j += 1
        kind = secs[j].kind if secs and secs[j].start <= start < secs[j].end else "instruction"
        counts[kind] += 1
    return TokenCount(counts["instruction"], counts["example"], counts["dialogue"])


def select_shots(pool: Sequence[ShotLike], k: int, *, exclude_id: str = "", exclude_text: str = "",
                 seed: int = 0, chosen_ids: Sequence[str] = ()) -> list[ShotLike]:
    """Pick ``k`` worked examples from ``pool``, by hand (``chosen_ids``) or at random with a seed.

    The example being summarized (same id or same dialogue) is never among them.
    """
    if k < 0:
        raise InputError("The number of shots cannot be negative.")
    if k == 0:
        return []
    allowed = [s for s in pool if s.id != exclude_id and s.input.strip() != exclude_text.strip()]
    if chosen_ids:
        by_id = {s.id: s for s in allowed}
        picked = [by_id[i] for i in chosen_ids if i in by_id][:k]
    else:
        order = list(allowed)
        random.Random(seed).shuffle(order)
        picked = order[:k]
    if len(picked) < k:
        raise InputError(f"{k} examples were asked for but only {len(picked)} are available.",
                         "Use fewer shots, or choose other examples.")
    return picked


def max_shots_that_fit(tokenizer, dialogue: str, shots: Sequence[ShotLike], template: str, window: int,
                       reserve: int, use_chat_template: bool = False) -> int:
    """The largest number of the given shots (taken in order) whose prompt leaves ``reserve``
    tokens of the ``window`` free for the answer."""
    best = 0
    for n in range(len(shots) + 1):
        p = assemble(dialogue, shots[:n], template, tokenizer=tokenizer, use_chat_template=use_chat_template)
        if count_prompt_tokens(tokenizer, p).total + reserve <= window:
            best = n
        else:
            break
    return best


def clean_summary(text: str) -> str:
    """The summary in a completion: trimmed, a leading 'Summary:' dropped, cut at a blank line
    (after which a plain-text model tends to invent the next example)."""
    text = text.strip()
    for lead in ("summary:", "tl;dr:"):
        if text.lower().startswith(lead):
            text = text[len(lead):].strip()
    return text.split("\n\n", 1)[0].strip()
