"""Word tokenizers for ROUGE that also say where each token sits in the original text.

Two tokenizers:

- ``default`` reproduces rouge-score's own: lowercase, keep runs of ASCII letters and digits,
  Porter-stem words longer than 3 letters. Anything else (accents, Cyrillic, CJK) is dropped, so
  scores stay comparable with published ROUGE numbers, but non-English text scores 0.
- ``unicode`` keeps letters and digits of every script (case-folded, NFC-normalised), splits
  Chinese/Japanese characters one by one (those scripts write no spaces), and stems only ASCII
  words as ``default`` does.

Both return ``TokenSpan``s so a panel can highlight matches at the right characters.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

DEFAULT = "default"
UNICODE = "unicode"
TOKENIZERS = {
    DEFAULT: "rouge-score's tokenizer: lowercase ASCII letters and digits only "
             "(comparable with published ROUGE numbers; drops accents and non-Latin scripts)",
    UNICODE: "Unicode-aware: letters and digits of every script, Chinese/Japanese split per "
             "character (not comparable with published ROUGE numbers)",
}

_ASCII_RUN = re.compile(r"[a-z0-9]+")
_VALID = re.compile(r"^[a-z0-9]+$")


@dataclass(frozen=True)
class TokenSpan:
    """One token as ROUGE compares it, and the characters [start, end) it came from."""

    token: str
    start: int
    end: int


def check_tokenizer(name: str) -> str:
    from playground.core.base.errors import InputError

    if name not in TOKENIZERS:
        raise InputError(f"Unknown tokenizer '{name}'.", f"Choose one of: {', '.join(TOKENIZERS)}.")
    return name


@lru_cache(maxsize=1)
def _porter():
    from nltk.stem import porter

    return porter.PorterStemmer()  # the same stemmer, same mode, as rouge-score's


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _porter().stem(word)


def _default_spans(text: str, use_stemmer: bool) -> list[TokenSpan]:
    if text.isascii():
        lowered, owner = text.lower(), None
    else:
        # Lowercasing can change a character's length (e.g. 'İ' -> 'i̇'): keep a map back to the
        # original character. Per-character lowering equals str.lower() except for the final
        # sigma rule, which only affects non-ASCII letters that this tokenizer drops anyway.
        parts: list[str] = []
        owner = []
        for i, ch in enumerate(text):
            low = ch.lower()
            parts.append(low)
            owner.extend([i] * len(low))
        lowered = "".join(parts)
    out: list[TokenSpan] = []
    for m in _ASCII_RUN.finditer(lowered):
        token = m.group()
        if use_stemmer and len(token) > 3:
            token = _stem(token)
            if not _VALID.match(token):
                continue
        if owner is None:
            out.append(TokenSpan(token, m.start(), m.end()))
        else:
            out.append(TokenSpan(token, owner[m.start()], owner[m.end() - 1] + 1))
    return out


def _is_ideograph(ch: str) -> bool:
    """Scripts written without spaces: each character is its own token."""
    cp = ord(ch)
    return (0x3040 <= cp <= 0x30FF or 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF
            or 0xF900 <= cp <= 0xFAFF or 0x20000 <= cp <= 0x3134F)


def _unicode_spans(text: str, use_stemmer: bool) -> list[TokenSpan]:
    out: list[TokenSpan] = []
    start = None

    def close(end: int) -> None:
        token = unicodedata.normalize("NFC", text[start:end]).casefold()
        if use_stemmer and len(token) > 3 and token.isascii():
            token = _stem(token)
        out.append(TokenSpan(token, start, end))

    for i, ch in enumerate(text):
        if _is_ideograph(ch):
            if start is not None:
                close(i)
                start = None
            out.append(TokenSpan(unicodedata.normalize("NFC", ch).casefold(), i, i + 1))
        elif ch.isalnum() or (start is not None and unicodedata.category(ch).startswith("M")):
            # Combining marks (a decomposed accent) stay inside the word they follow.
            if start is None:
                start = i
        elif start is not None:
            close(i)
            start = None
    if start is not None:
        close(len(text))
    return out


def token_spans(text: str, tokenizer: str = DEFAULT, use_stemmer: bool = True) -> list[TokenSpan]:
    """Tokens of ``text`` as ROUGE compares them, each with its character span.

    Parameters
    ----------
    text
        Any text.
    tokenizer
        ``"default"`` (rouge-score's) or ``"unicode"``.
    use_stemmer
        Porter-stem (ASCII) words longer than 3 characters, as rouge-score does.
    """
    if check_tokenizer(tokenizer) == DEFAULT:
        return _default_spans(text, use_stemmer)
    return _unicode_spans(text, use_stemmer)


class UnicodeTokenizer:
    """A rouge-score tokenizer object (it only needs ``tokenize``) for the Unicode option."""

    def __init__(self, use_stemmer: bool = True) -> None:
        self.use_stemmer = use_stemmer

    def tokenize(self, text: str) -> list[str]:
        return [t.token for t in _unicode_spans(text, self.use_stemmer)]
