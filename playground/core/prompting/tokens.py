"""Text to tokens: the pieces a tokenizer cuts a text into, with ids, character offsets and words."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from playground.core.base.errors import InputError

# Visible stand-ins for characters that would be invisible in a plot label.
_WORD = re.compile(r"\w+(?:['’-]\w+)*")
_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


@dataclass
class TokenPiece:
    """One token of a text.

    ``text`` is the slice of the input this token covers (empty for a special token the
    tokenizer added, or for the later bytes of a character split over several tokens);
    ``label`` is a short readable form for plots and tables.
    """

    index: int
    id: int
    piece: str          # the tokenizer's own spelling, e.g. 'Ġworld'
    text: str
    start: int
    end: int
    special: bool
    word: int | None    # which word of the text it belongs to; None for special tokens,
                        # spaces and punctuation
    label: str


@dataclass
class WordSplit:
    """A word of the text and the tokens it was cut into."""

    word: str
    pieces: list[str]
    token_indices: list[int]


def visible(text: str) -> str:
    """Spaces, newlines and tabs made visible (␣ ↵ ⇥) so a label never looks empty."""
    return "".join(_VISIBLE.get(ch, ch) for ch in text.replace("\r\n", "\n"))


def token_text(tokenizer, token_id: int) -> str:
    """The text one token stands for, decoded alone (special tokens by name).

    A token that decodes to nothing or to '\ufffd' on its own (a part of a multi-byte
    character) is shown by its vocabulary entry instead.
    """
    text = tokenizer.decode([int(token_id)], skip_special_tokens=False, clean_up_tokenization_spaces=False)
    if not text or "\ufffd" in text:
        pieces = tokenizer.convert_ids_to_tokens([int(token_id)])
        text = pieces[0] if pieces and pieces[0] else f"#{token_id}"
    return text


def token_label(tokenizer, token_id: int) -> str:
    """A short readable label for one token id: its text with whitespace made visible."""
    return visible(token_text(tokenizer, token_id))


def token_labels(tokenizer, ids) -> list[str]:
    """Readable labels for a list of token ids."""
    return [token_label(tokenizer, i) for i in ids]


def special_ids(tokenizer) -> set[int]:
    ids = {int(i) for i in (getattr(tokenizer, "all_special_ids", None) or [])}
    for tid, added in (getattr(tokenizer, "added_tokens_decoder", None) or {}).items():
        if getattr(added, "special", False):
            ids.add(int(tid))
    return ids


def tokenize_text(tokenizer, text: str, add_special_tokens: bool = True) -> list[TokenPiece]:
    """Cut a text into tokens with their ids, character offsets and words.

    Parameters
    ----------
    tokenizer
        A Hugging Face tokenizer (fast tokenizers give offsets and words; slow ones give ids
        and labels only).
    text
        The text to tokenize.
    add_special_tokens
        Add the model's own special tokens (beginning/end of text) as the model would see them.

    Returns
    -------
    list of TokenPiece
        In order. Special tokens are marked ``special=True``.

    Raises
    ------
    InputError
        When the text is empty.
    """
    if not text or not text.strip():
        raise InputError("The text is empty.", "Type some text first.")
    specials = special_ids(tokenizer)
    try:
        enc = tokenizer(text, add_special_tokens=add_special_tokens, return_offsets_mapping=True)
        offsets = enc["offset_mapping"]
        has_offsets = True
    except (NotImplementedError, ValueError, TypeError):
        # A slow tokenizer knows no offsets: ids and labels still teach the idea.
        enc = tokenizer(text, add_special_tokens=add_special_tokens)
        offsets = [(0, 0)] * len(enc["input_ids"])
        has_offsets = False
    # Words as a reader sees them (letters and digits, with inner apostrophes and hyphens), not
    # the tokenizer's own pre-split, which would call "didn't" two words and hide the cut.
    word_spans = [m.span() for m in _WORD.finditer(text)] if has_offsets else []
    word_starts = [s for s, _ in word_spans]
    ids = [int(i) for i in enc["input_ids"]]
    raw = tokenizer.convert_ids_to_tokens(ids)
    pieces: list[TokenPiece] = []
    covered = 0  # the text up to here belongs to earlier tokens
    for i, (tid, (start, end)) in enumerate(zip(ids, offsets)):
        special = tid in specials
        if special and start == end:
            span = ""
        else:
            # Tokens split from one character share its offsets: the first one shows it.
            span = text[max(start, covered):end] if end > covered else ""
            covered = max(covered, end)
        pieces.append(TokenPiece(
            index=i, id=tid, piece=str(raw[i]), text=span, start=int(start), end=int(end),
            special=special, word=None if special else _word_of(text, start, end, word_spans, word_starts),
            label=token_label(tokenizer, tid),
        ))
    return pieces


def _word_of(text: str, start: int, end: int, spans: list[tuple[int, int]], starts: list[int]) -> int | None:
    """The index of the first word that text[start:end] touches (None: spaces or punctuation only).

    A token with no characters of its own (later bytes of a split character) uses its offsets."""
    if not spans:
        return None
    for pos in range(start, max(end, start + 1)):
        k = bisect.bisect_right(starts, pos) - 1
        if k >= 0 and spans[k][0] <= pos < spans[k][1]:
            return k
    return None


def word_splits(pieces: list[TokenPiece], text: str) -> list[WordSplit]:
    """The words of the text with the tokens each was cut into, in order."""
    groups: dict[int, list[TokenPiece]] = {}
    for p in pieces:
        if p.word is not None:
            groups.setdefault(p.word, []).append(p)
    out = []
    for _, group in sorted(groups.items()):
        start = min(p.start for p in group)
        end = max(p.end for p in group)
        out.append(WordSplit(word=text[start:end].strip(), pieces=[p.label for p in group if p.text or not p.special],
                             token_indices=[p.index for p in group]))
    return out
