"""Chunking: documents cut into windows of the embedding model's tokens, each chunk keeping its
character offsets into its document so a tab can mark the boundaries on the text."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from playground.core.base.errors import Cancelled, InputError
from playground.core.base.progress import report_step

#: The encoder reads at most 512 tokens with its two special tokens ([CLS], [SEP]).
MAX_CHUNK_TOKENS = 510


@dataclass(frozen=True)
class ChunkSettings:
    """How documents are cut into chunks, counted in tokens of the embedding model."""

    size: int = field(default=128, metadata={
        "label": "Chunk size", "suffix": " tokens", "flag": "chunk_size", "range": (8, MAX_CHUNK_TOKENS, 8),
        "help": "How many tokens of the embedding model each chunk holds. Small chunks match a question "
                "precisely but can cut a fact in two; large ones keep facts whole but blur the match and "
                "fill the model's context faster."})
    overlap: int = field(default=32, metadata={
        "label": "Overlap", "suffix": " tokens", "flag": "chunk_overlap", "range": (0, MAX_CHUNK_TOKENS - 1, 8),
        "help": "How many tokens each chunk shares with the one before, so a fact cut at a boundary is "
                "whole in at least one chunk. It must be smaller than the chunk size."})

    def validate(self) -> None:
        if not isinstance(self.size, int) or self.size < 1:
            raise InputError(f"The chunk size must be a whole number of tokens, at least 1 (it is {self.size}).")
        if self.size > MAX_CHUNK_TOKENS:
            raise InputError(f"A chunk of {self.size} tokens is longer than the encoder reads "
                             f"({MAX_CHUNK_TOKENS} tokens).", f"Choose a chunk size of at most {MAX_CHUNK_TOKENS}.")
        if self.overlap < 0:
            raise InputError(f"The overlap cannot be negative (it is {self.overlap}).")
        if self.overlap >= self.size:
            raise InputError(f"The overlap ({self.overlap} tokens) must be smaller than the chunk size "
                             f"({self.size} tokens): each chunk must move on by at least one new token.",
                             "Lower the overlap or raise the chunk size.")

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def describe(self) -> str:
        return f"chunks of {self.size} tokens, {self.overlap} overlapping"


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: ``text == document.text[start_char:end_char]``; ``n_tokens`` encoder tokens."""

    id: str  # "<doc_id>#<index>"
    doc_id: str
    index: int
    text: str
    start_char: int
    end_char: int
    n_tokens: int

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Long texts are tokenized in pieces of about this many characters, cut at whitespace (where the encoder's
#: tokenizer splits anyway, so the tokens are the same), with progress and Stop between pieces.
PIECE_CHARS = 200_000


def _pieces(text: str, limit: int | None = None) -> list[int]:
    """Start offsets of pieces of ``text`` of at most ~``limit`` characters, each cut at whitespace."""
    limit = limit or PIECE_CHARS
    starts, pos = [0], 0
    while len(text) - pos > limit:
        cut = max(text.rfind("\n", pos, pos + limit), text.rfind(" ", pos, pos + limit))
        pos = cut + 1 if cut > pos else pos + limit
        starts.append(pos)
    return starts


def token_offsets(text: str, tokenizer, handle=None, detail: str = "") -> list[tuple[int, int]]:
    """Character spans of the encoder tokens of ``text`` (special tokens left out)."""
    starts = _pieces(text)
    offsets: list[tuple[int, int]] = []
    for i, start in enumerate(starts):
        if handle is not None and handle.cancelled():
            raise Cancelled()
        if len(starts) > 1:
            report_step(handle, "Cutting into chunks", i, len(starts), detail)
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        enc = tokenizer(text[start:end], add_special_tokens=False, return_offsets_mapping=True, verbose=False)
        offsets += [(start + s, start + e) for s, e in enc["offset_mapping"] if e > s]
    return offsets


def chunk_document(doc, tokenizer, settings: ChunkSettings, handle=None) -> list[Chunk]:
    """One document's chunks: windows of ``settings.size`` tokens moving on by ``size - overlap``.

    Token offsets come from the (fast) tokenizer; a chunk's text is the document's text from its first
    token's start to its last token's end, so whitespace between chunks is not in any chunk. A long text
    is tokenized in pieces (``report_step(handle, "Cutting into chunks", …)``, Stop between pieces).
    """
    settings.validate()
    text = doc.text
    offsets = token_offsets(text, tokenizer, handle, getattr(doc, "title", ""))
    if not offsets:
        return []
    step = settings.size - settings.overlap
    out: list[Chunk] = []
    start = 0
    while True:
        window = offsets[start:start + settings.size]
        s, e = window[0][0], window[-1][1]
        out.append(Chunk(f"{doc.id}#{len(out)}", doc.id, len(out), text[s:e], s, e, len(window)))
        if start + settings.size >= len(offsets):
            break
        start += step
    return out


def chunk_documents(documents: Sequence, tokenizer, settings: ChunkSettings, handle=None) -> list[Chunk]:
    """Every document's chunks, in order (see ``chunk_document``).

    Raises
    ------
    InputError
        The overlap is not smaller than the size; no document holds any text.
    """
    settings.validate()
    out: list[Chunk] = []
    for i, doc in enumerate(documents):
        if handle is not None and handle.cancelled():
            raise Cancelled()
        report_step(handle, "Cutting into chunks", i, len(documents), doc.title)
        out += chunk_document(doc, tokenizer, settings, handle)
    if documents and not out:
        raise InputError("The documents hold no text to cut into chunks.")
    return out
