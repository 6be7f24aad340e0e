"""Showing a single token so a learner can see it: spaces, newlines and tabs made visible."""

from __future__ import annotations

SPACE = "␣"
NEWLINE = "↵"
TAB = "⇥"


def visible_text(text: str) -> str:
    """Make whitespace visible: ' ' → '␣', newline → '↵', tab → '⇥'; empty → '∅'."""
    if text == "":
        return "∅"
    return (text.replace("\r\n", NEWLINE).replace("\n", NEWLINE).replace("\r", NEWLINE)
            .replace("\t", TAB).replace(" ", SPACE))


def token_text(tokenizer, token_id: int) -> str:
    """The text one token stands for, as the tokenizer decodes it alone.

    A token holding part of a multi-byte character decodes to '\\ufffd'; the tokenizer's own
    spelling of the token (e.g. '<0xE2>' or 'âĢ') is more telling then.
    """
    text = tokenizer.decode([int(token_id)], skip_special_tokens=False)
    if "\ufffd" in text:
        raw = tokenizer.convert_ids_to_tokens(int(token_id))
        if isinstance(raw, str) and raw:
            return raw
    return text


def token_label(tokenizer, token_id: int, max_len: int = 14) -> str:
    """A short visible label for a token, for chart ticks and token strips."""
    label = visible_text(token_text(tokenizer, token_id))
    if len(label) > max_len:
        label = label[: max_len - 1] + "…"
    return label
