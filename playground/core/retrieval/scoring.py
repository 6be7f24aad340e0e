"""An answer scored against its gold answer: exact match and token F1 the SQuAD way (lower case, no
punctuation, no articles), ROUGE-L through the evaluation core (rouge-score), and whether the gold
answer appears in the answer at all (what a generative model's accuracy is counted by here)."""

from __future__ import annotations

import re
import string
from collections import Counter
from dataclasses import dataclass

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, punctuation and articles (a, an, the) removed, spaces collapsed."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(answer: str, gold: str) -> float:
    return float(normalize_answer(answer) == normalize_answer(gold))


def token_f1(answer: str, gold: str) -> float:
    """SQuAD's token F1: the harmonic mean of precision and recall of shared (normalised) words."""
    pred, ref = normalize_answer(answer).split(), normalize_answer(gold).split()
    if not pred or not ref:
        return float(pred == ref)
    common = Counter(pred) & Counter(ref)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}


def _digits(text: str) -> str:
    return " ".join(_NUMBER_WORDS.get(w, w) for w in text.split())


def contains_gold(answer: str, gold: str) -> bool:
    """The normalised gold answer appears, word for word, inside the normalised answer (number words up to
    twenty read as digits on both sides, so "thirteen stops" holds the gold answer "13")."""
    g = _digits(normalize_answer(gold))
    return bool(g) and f" {g} " in f" {_digits(normalize_answer(answer))} "


@dataclass(frozen=True)
class AnswerScore:
    """Exact match and token F1 (0 or 1, and 0..1), ROUGE-L F1 (0..1), and ``contains``: the gold answer
    is in the answer. Shown, F1 and ROUGE-L are on the app's 0-100 scale (``units.format_score``)."""

    exact_match: float
    token_f1: float
    rouge_l: float
    contains: bool = False

    def describe(self) -> str:
        from playground.core.base.units import format_score

        return (f"exact match {'yes' if self.exact_match else 'no'} · token F1 {self.token_f1 * 100:.1f} · "
                f"ROUGE-L {format_score(self.rouge_l, 'rougeL')} · gold answer "
                f"{'found' if self.contains else 'not found'} in the answer")


def score_answer(answer: str, gold: str) -> AnswerScore:
    """Score ``answer`` against ``gold`` (see the module's note)."""
    from playground.core.evaluation.metrics import make_rouge_scorer, score_pair

    rouge_l = score_pair(make_rouge_scorer(), answer or "", gold)["rougeL"].fmeasure if gold.strip() else 0.0
    return AnswerScore(exact_match(answer, gold), token_f1(answer, gold), float(rouge_l), contains_gold(answer, gold))
