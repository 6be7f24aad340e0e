"""The prompt the model reads: the retrieved chunks as numbered passages, then the question; with the
character span of every passage (to highlight) and the prompt's share of the context window."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from playground.core.base.errors import InputError

INSTRUCTION = ("Answer the question using only the passages below. Answer in a few words. If the passages "
               "do not hold the answer, say: The documents do not say.")
NO_RETRIEVAL_INSTRUCTION = "Answer the question in a few words."
DEFAULT_CONTEXT_WINDOW = 2048


@dataclass
class RagPrompt:
    """The prompt exactly as the model reads it.

    ``context_spans``: (start, end, chunk_id) of each retrieved passage in ``text``; ``n_tokens``: the
    prompt's tokens as generation reads them; ``context_tokens``: those inside the passages;
    ``context_window``: the model's window.
    """

    text: str
    context_spans: list[tuple[int, int, str]] = field(default_factory=list)
    n_tokens: int = 0
    context_window: int = DEFAULT_CONTEXT_WINDOW
    context_tokens: int = 0
    chunk_ids: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        """The prompt's share of the context window (0..1 and above when it does not fit)."""
        return self.n_tokens / self.context_window if self.context_window else 0.0

    @property
    def context_share(self) -> float:
        """The retrieved passages' share of the context window."""
        return self.context_tokens / self.context_window if self.context_window else 0.0

    def describe(self) -> str:
        return (f"{self.n_tokens:,} tokens of {self.context_window:,} ({self.share:.0%} of the context window); "
                f"retrieved passages {self.context_tokens:,} tokens ({self.context_share:.0%})")


def user_message(question: str, passages: Sequence[str]) -> str:
    """The user turn: instruction, numbered passages, question (without passages: a short instruction)."""
    if not passages:
        return f"{NO_RETRIEVAL_INSTRUCTION}\n\nQuestion: {question.strip()}"
    body = "\n\n".join(f"[{i}] {p.strip()}" for i, p in enumerate(passages, start=1))
    return f"{INSTRUCTION}\n\n{body}\n\nQuestion: {question.strip()}"


def build_prompt(question: str, hits: Sequence, tokenizer, use_chat_template: bool | None = None,
                 context_window: int | None = None) -> RagPrompt:
    """The prompt for ``question`` with the retrieved ``hits`` (an empty list: the prompt without retrieval).

    Parameters
    ----------
    tokenizer
        The generating model's tokenizer, or its LoadedModel (then its context window is used too).
    use_chat_template
        Wrap the message in the model's chat template (default: the app's one default,
        ``prompts.USE_CHAT_TEMPLATE``, when the tokenizer has a template).
    context_window
        The model's window (default: the LoadedModel's, else the tokenizer's ``model_max_length``
        when sensible, else 2,048).
    """
    from playground.core.decoding.generation import prompt_token_ids
    from playground.core.prompting.prompts import USE_CHAT_TEMPLATE

    if not question or not question.strip():
        raise InputError("The question is empty.", "Type a question about the documents.")
    loaded = tokenizer if hasattr(tokenizer, "tokenizer") and hasattr(tokenizer, "info") else None
    tok = loaded.tokenizer if loaded is not None else tokenizer
    if context_window is None:
        if loaded is not None:
            context_window = int(loaded.info.context_window)
        else:
            limit = int(getattr(tok, "model_max_length", 0) or 0)
            context_window = limit if 0 < limit < 10_000_000 else DEFAULT_CONTEXT_WINDOW
    if use_chat_template is None:
        use_chat_template = USE_CHAT_TEMPLATE
    chat = bool(use_chat_template and getattr(tok, "chat_template", None)
                and not (loaded is not None and loaded.is_encoder_decoder))
    chunks = [getattr(h, "chunk", h) for h in hits]
    passages = [c.text for c in chunks]
    message = user_message(question, passages)
    text = (tok.apply_chat_template([{"role": "user", "content": message}], tokenize=False, add_generation_prompt=True)
            if chat else message + "\nAnswer:")
    spans: list[tuple[int, int, str]] = []
    pos = 0
    for c, p in zip(chunks, passages):
        p = p.strip()
        start = text.find(p, pos)
        if start < 0:
            continue
        spans.append((start, start + len(p), c.id))
        pos = start + len(p)
    ids = prompt_token_ids(tok, text)
    context_tokens = _tokens_in_spans(tok, text, spans) if spans else 0
    return RagPrompt(text, spans, len(ids), int(context_window), context_tokens, [c.id for c in chunks])


def _tokens_in_spans(tok, text: str, spans) -> int:
    """Tokens that start inside a passage span (the same rule as the Prompt tab's section counts)."""
    try:
        enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    except (NotImplementedError, TypeError, ValueError):  # a slow tokenizer has no offsets: count each span alone
        return sum(len(tok(text[s:e], add_special_tokens=False)["input_ids"]) for s, e, _ in spans)
    n = 0
    j = 0
    for start, end in enc["offset_mapping"]:
        if end <= start:
            continue
        while j < len(spans) and start >= spans[j][1]:
            j += 1
        if j < len(spans) and spans[j][0] <= start < spans[j][1]:
            n += 1
    return n
