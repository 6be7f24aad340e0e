"""Why a pair got its ROUGE score: the matching n-grams and the longest common subsequence,
as character spans in both texts, so a panel or a report can highlight them.

The counting follows rouge-score exactly: an n-gram that appears twice in the reference and
once in the output matches once (clipped counts), and the LCS is read out of the same dynamic
programming table with the same tie-breaking.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from playground.core.evaluation.text_tokens import DEFAULT, TokenSpan, token_spans

Span = tuple[int, int]


@dataclass(frozen=True)
class NgramMatch:
    """One matched n-gram occurrence: its tokens and where it is in each text."""

    ngram: tuple[str, ...]
    reference: Span
    prediction: Span


@dataclass
class PairExplanation:
    """Matches of one (prediction, reference) pair.

    ``lcs`` holds (reference token index, prediction token index) pairs of one longest common
    subsequence; ``*_spans`` give the character spans to highlight.
    """

    prediction: str
    reference: str
    tokenizer: str
    prediction_tokens: list[TokenSpan]
    reference_tokens: list[TokenSpan]
    unigrams: list[NgramMatch] = field(default_factory=list)
    bigrams: list[NgramMatch] = field(default_factory=list)
    lcs: list[tuple[int, int]] = field(default_factory=list)

    def matches(self, kind: str) -> list[NgramMatch]:
        """'unigrams', 'bigrams' or 'lcs' as a list of matches (LCS tokens as 1-grams)."""
        if kind == "unigrams":
            return self.unigrams
        if kind == "bigrams":
            return self.bigrams
        if kind == "lcs":
            out = []
            for i, j in self.lcs:
                r, p = self.reference_tokens[i], self.prediction_tokens[j]
                out.append(NgramMatch((r.token,), (r.start, r.end), (p.start, p.end)))
            return out
        raise ValueError(f"unknown kind {kind!r}")

    def spans(self, kind: str, side: str) -> list[Span]:
        """Character spans of the ``kind`` matches in the 'reference' or 'prediction' text."""
        return [getattr(m, side) for m in self.matches(kind)]

    def recall(self, kind: str) -> float:
        """Matches over the reference's count (what ROUGE's recall measures)."""
        n = 2 if kind == "bigrams" else 1
        total = max(len(self.reference_tokens) - n + 1, 0)
        return len(self.matches(kind)) / total if total else 0.0


def _ngram_matches(ref: list[TokenSpan], pred: list[TokenSpan], n: int) -> list[NgramMatch]:
    def occurrences(tokens):
        occ: dict[tuple[str, ...], list[Span]] = defaultdict(list)
        for i in range(len(tokens) - n + 1):
            gram = tuple(t.token for t in tokens[i:i + n])
            occ[gram].append((tokens[i].start, tokens[i + n - 1].end))
        return occ

    ref_occ, pred_occ = occurrences(ref), occurrences(pred)
    out = []
    for gram, ref_spans in ref_occ.items():
        pred_spans = pred_occ.get(gram)
        if not pred_spans:
            continue
        # Clipped counts, as ROUGE-N: the k-th occurrence in one text pairs with the k-th in the other.
        for r, p in zip(ref_spans, pred_spans):
            out.append(NgramMatch(gram, r, p))
    out.sort(key=lambda m: m.reference)
    return out


def lcs_pairs(ref: list[str], pred: list[str]) -> list[tuple[int, int]]:
    """One longest common subsequence as (reference index, prediction index) pairs.

    Same table and tie-breaking as rouge-score's ``_backtrack_norec``.
    """
    rows, cols = len(ref), len(pred)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for i in range(1, rows + 1):
        ri, prev, cur = ref[i - 1], table[i - 1], table[i]
        for j in range(1, cols + 1):
            cur[j] = prev[j - 1] + 1 if ri == pred[j - 1] else max(prev[j], cur[j - 1])
    pairs = []
    i, j = rows, cols
    while i > 0 and j > 0:
        if ref[i - 1] == pred[j - 1]:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif table[i][j - 1] > table[i - 1][j]:
            j -= 1
        else:
            i -= 1
    pairs.reverse()
    return pairs


def explain_pair(prediction: str, reference: str, *, tokenizer: str = DEFAULT,
                 use_stemmer: bool = True) -> PairExplanation:
    """The matching unigrams, bigrams and LCS tokens of one pair, as character spans.

    Parameters
    ----------
    prediction, reference
        The two texts.
    tokenizer, use_stemmer
        As for :func:`playground.core.evaluation.metrics.rouge`, so the matches are the ones scored.

    Returns
    -------
    PairExplanation
        ``len(unigrams)`` / reference tokens is ROUGE-1 recall; the same for bigrams and
        ROUGE-2; ``len(lcs)`` / reference tokens is ROUGE-L recall.
    """
    ref = token_spans(reference, tokenizer, use_stemmer)
    pred = token_spans(prediction, tokenizer, use_stemmer)
    return PairExplanation(
        prediction=prediction, reference=reference, tokenizer=tokenizer,
        prediction_tokens=pred, reference_tokens=ref,
        unigrams=_ngram_matches(ref, pred, 1), bigrams=_ngram_matches(ref, pred, 2),
        lcs=lcs_pairs([t.token for t in ref], [t.token for t in pred]),
    )


def merge_spans(spans: list[Span]) -> list[Span]:
    """Sorted, non-overlapping spans (overlapping bigrams become one highlighted run)."""
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def segments(text: str, spans: list[Span]) -> list[tuple[str, bool]]:
    """Cut ``text`` into (piece, highlighted) runs, for HTML or rich text."""
    out: list[tuple[str, bool]] = []
    pos = 0
    for s, e in merge_spans(spans):
        if s > pos:
            out.append((text[pos:s], False))
        out.append((text[s:e], True))
        pos = e
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def highlight_html(text: str, spans: list[Span], colour: str = "#ffe08a") -> str:
    """``text`` as HTML with the spans on a coloured background (everything else escaped)."""
    import html

    parts = []
    for piece, on in segments(text, spans):
        esc = html.escape(piece).replace("\n", "<br>")
        parts.append(f'<span style="background-color:{colour}">{esc}</span>' if on else esc)
    return "".join(parts)
