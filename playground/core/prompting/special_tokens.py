"""Special tokens typed into a prompt: find them, say so, or have the tokenizer read them as plain text.

A tokenizer matches its special tokens anywhere in a text: ``<|im_end|>`` typed into a prompt becomes
the one control token that ends a chat turn, not the ten characters the user typed. To read them as
text instead, this module uses transformers' own escape (the mechanism behind
``apply_chat_template(..., sanitize_control_tokens=True)``): each special token in the user's text is
wrapped in two private-use markers, and ``tokenizer(text, sanitize_control_tokens=True)`` encodes a
marked token as ordinary characters while the chat template's own tokens stay control tokens. Plain
``split_special_tokens=True`` cannot tell the template's tokens from the user's, so it is used only
as the fallback for a transformers without that option.

A marked text is still a ``str`` and flows through every function that takes a prompt; ``encode``
is the one place it is tokenized, and ``readable`` drops the markers for display.
"""

from __future__ import annotations

import re

# transformers' markers (transformers.utils.chat_template_utils._CONTROL_TOKEN_START / _END; a test
# checks they are the same): private-use characters no tokenizer has in its vocabulary.
MARK_START = "\U000f0000"
MARK_END = "\U000f0001"
_MARKED = re.compile(f"{MARK_START}(.*?){MARK_END}", re.DOTALL)


def special_tokens(tokenizer) -> list[str]:
    """The tokenizer's special tokens (its named ones and every added token marked special), longest first."""
    found = {str(t) for t in (getattr(tokenizer, "all_special_tokens", None) or [])}
    for added in (getattr(tokenizer, "added_tokens_decoder", None) or {}).values():
        if getattr(added, "special", False):
            found.add(str(added.content))
    return sorted((t for t in found if t), key=lambda t: (-len(t), t))


def _pattern(tokenizer) -> re.Pattern | None:
    tokens = special_tokens(tokenizer)
    return re.compile("|".join(map(re.escape, tokens))) if tokens else None


def special_tokens_in(tokenizer, text: str) -> list[str]:
    """The special tokens that appear in ``text``, each once, in the order they first appear.

    Parameters
    ----------
    tokenizer
        A Hugging Face tokenizer.
    text
        What the user typed (before any chat template).

    Returns
    -------
    list of str
        E.g. ``['<|im_end|>', '<|im_start|>']``; empty when the text holds none.
    """
    pattern = _pattern(tokenizer)
    if pattern is None or not text:
        return []
    return list(dict.fromkeys(m.group(0) for m in pattern.finditer(readable(text))))


def as_plain_text(tokenizer, text: str) -> str:
    """``text`` with each special token escaped, so ``encode`` reads it as ordinary characters.

    Markers already in the text are dropped first (they cannot be typed to forge an escape). Put the
    result through a chat template like any text: the template's own special tokens stay control tokens.
    """
    text = readable(text)
    pattern = _pattern(tokenizer)
    if pattern is None:
        return text
    return pattern.sub(lambda m: f"{MARK_START}{m.group(0)}{MARK_END}", text)


def readable(text: str) -> str:
    """The text as the user typed it: the escape markers removed (for display and saving)."""
    return text.replace(MARK_START, "").replace(MARK_END, "")


def encode(tokenizer, text: str, add_special_tokens: bool = True) -> list[int]:
    """Token ids of ``text``, escaped special tokens (``as_plain_text``) read as ordinary text.

    A text without escapes is tokenized exactly as ``tokenizer(text)`` would.
    """
    if MARK_START not in text and MARK_END not in text:
        return list(tokenizer(text, add_special_tokens=add_special_tokens)["input_ids"])
    if _has_sanitize(tokenizer):
        try:
            return list(tokenizer(text, add_special_tokens=add_special_tokens,
                                  sanitize_control_tokens=True)["input_ids"])
        except NotImplementedError:
            # transformers refuses when the tokenizer adds tokens of its own (BERT's [CLS] … [SEP],
            # T5's </s>): encode bare, then put the tokenizer's own tokens around it.
            bare = list(tokenizer(text, add_special_tokens=False, sanitize_control_tokens=True)["input_ids"])
    else:
        bare = _encode_split(tokenizer, text)
    return _with_own_tokens(tokenizer, bare) if add_special_tokens else bare


def _has_sanitize(tokenizer) -> bool:
    import inspect

    method = getattr(tokenizer, "apply_chat_template", None)
    try:
        return method is not None and "sanitize_control_tokens" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        return False


def _encode_split(tokenizer, text: str) -> list[int]:
    """The fallback: escaped pieces with ``split_special_tokens=True``, the rest as usual."""
    ids: list[int] = []
    for i, piece in enumerate(_MARKED.split(text)):
        piece = readable(piece)
        if piece:
            ids += tokenizer(piece, add_special_tokens=False, split_special_tokens=bool(i % 2))["input_ids"]
    return ids


def _with_own_tokens(tokenizer, ids: list[int]) -> list[int]:
    """``ids`` with the tokens the tokenizer adds around any text (found by encoding one word both ways)."""
    probe = "a"
    bare = list(tokenizer(probe, add_special_tokens=False)["input_ids"])
    full = list(tokenizer(probe, add_special_tokens=True)["input_ids"])
    for start in range(len(full) - len(bare) + 1):
        if full[start:start + len(bare)] == bare:
            return full[:start] + ids + full[start + len(bare):]
    return ids


def special_tokens_note(found: list[str], plain: bool) -> str:
    """One sentence for beside the prompt (or the CLI's standard error); empty when nothing was found."""
    if not found:
        return ""
    names = ", ".join(found)
    one = len(found) == 1
    if plain:
        return (f"Special token{'' if one else 's'} in your text: {names}. Read as plain text, character by "
                "character, not as control tokens.")
    return (f"Special token{'' if one else 's'} in your text: {names}. The model reads "
            f"{'it' if one else 'each'} as one control token (like the end of a chat turn), not as the "
            "characters you typed.")
