"""ROUGE and BLEU, computed by the reference packages, with bootstrap confidence intervals.

- ROUGE comes from Google's ``rouge-score`` package, so the numbers are identical to it.
- BLEU is sacrebleu's corpus BLEU (0-100).
- Each aggregate gets a 95% percentile-bootstrap confidence interval over the examples.
- ``explain_pair`` (from :mod:`playground.core.evaluation.rouge_explain`) shows which words matched.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from playground.core.base.errors import InputError
from playground.core.evaluation.text_tokens import (
    DEFAULT,
    TOKENIZERS,
    UnicodeTokenizer,
    check_tokenizer,
)

ROUGE_KEYS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
METRIC_KEYS = ROUGE_KEYS + ("bleu",)
METRIC_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L",
                 "rougeLsum": "ROUGE-Lsum", "bleu": "BLEU"}


class PRF(NamedTuple):
    """Precision, recall and F1 of one pair for one ROUGE type (rouge-score's Score)."""

    precision: float
    recall: float
    fmeasure: float


class RougeScores(dict):
    """Mean F1 per ROUGE type: keys ``rouge1``, ``rouge2``, ``rougeL``, ``rougeLsum`` (0 to 1).

    Attributes say how the numbers were made: ``tokenizer`` ("default" is rouge-score's own),
    ``use_stemmer``, and ``per_pair`` (one dict of PRF per pair, in order).
    """

    def __init__(self, means: dict, per_pair: list[dict[str, PRF]], tokenizer: str, use_stemmer: bool):
        super().__init__(means)
        self.per_pair = per_pair
        self.tokenizer = tokenizer
        self.use_stemmer = use_stemmer

    def f1(self, key: str) -> list[float]:
        """The per-pair F1 of one ROUGE type, in order."""
        return [p[key].fmeasure for p in self.per_pair]


def check_pairs(predictions: Sequence[str], references: Sequence[str]) -> None:
    """Refuse inputs that cannot be scored, in plain words."""
    if isinstance(predictions, str) or isinstance(references, str):
        raise InputError("Predictions and references must be lists of texts, not one text.")
    if len(predictions) == 0:
        raise InputError("There are no predictions to score.", "Give at least one prediction.")
    if len(references) == 0:
        raise InputError("There are no references to score against.", "Give at least one reference.")
    if len(predictions) != len(references):
        raise InputError(
            f"There are {len(predictions)} predictions but {len(references)} references.",
            "Each prediction needs exactly one reference, in the same order.")
    for name, texts in (("prediction", predictions), ("reference", references)):
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InputError(f"The {name} at position {i + 1} is not text ({type(t).__name__}).")
    if not any(r.strip() for r in references):
        raise InputError("Every reference is empty.", "Check that the reference column holds the summaries.")
    blank = [i + 1 for i, r in enumerate(references) if not r.strip()]
    if blank:
        # Scored, a blank reference counts 0 and pulls the mean down: refuse it, by position.
        where = ", ".join(str(i) for i in blank[:10]) + (" ..." if len(blank) > 10 else "")
        raise InputError(f"{len(blank)} of the {len(references)} references {'is' if len(blank) == 1 else 'are'} "
                         f"blank (position {where}); a blank reference would be scored 0 and averaged in.",
                         "Fill in those references, or remove those pairs from both files.")


def make_rouge_scorer(use_stemmer: bool = True, tokenizer: str = DEFAULT):
    """A rouge-score ``RougeScorer`` for the four ROUGE types, with the chosen tokenizer."""
    from rouge_score import rouge_scorer

    check_tokenizer(tokenizer)
    custom = None if tokenizer == DEFAULT else UnicodeTokenizer(use_stemmer)
    return rouge_scorer.RougeScorer(list(ROUGE_KEYS), use_stemmer=use_stemmer, tokenizer=custom)


def score_pair(scorer, prediction: str, reference: str) -> dict[str, PRF]:
    """One pair's precision, recall and F1 per ROUGE type (rouge-score takes the reference first)."""
    return {k: PRF(*s) for k, s in scorer.score(reference, prediction).items()}


def rouge(predictions: Sequence[str], references: Sequence[str], *, use_stemmer: bool = True,
          tokenizer: str = DEFAULT) -> RougeScores:
    """ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum: the mean F1 over the pairs.

    Parameters
    ----------
    predictions, references
        Texts in the same order, one reference per prediction.
    use_stemmer
        Porter-stem words so "talked" matches "talks" (rouge-score's option).
    tokenizer
        ``"default"``: rouge-score's own (ASCII only, comparable with published numbers);
        ``"unicode"``: keeps accented, Cyrillic, CJK... text.

    Returns
    -------
    RougeScores
        A dict ``{"rouge1": f, "rouge2": f, "rougeL": f, "rougeLsum": f}`` with attributes
        ``per_pair`` (precision, recall, F1 of each pair), ``tokenizer`` and ``use_stemmer``.
        ROUGE-Lsum splits summaries into sentences at newlines, as rouge-score does.

    Raises
    ------
    InputError
        Empty lists, different lengths, non-text items, or only empty references.
    """
    import numpy as np

    check_pairs(predictions, references)
    scorer = make_rouge_scorer(use_stemmer, tokenizer)
    per_pair = []
    for pred, ref in zip(predictions, references):
        per_pair.append({k: PRF(*s) for k, s in scorer.score(ref, pred).items()})
    means = {k: float(np.mean([p[k].fmeasure for p in per_pair])) for k in ROUGE_KEYS}
    return RougeScores(means, per_pair, tokenizer, use_stemmer)


def _bleu_metric():
    from sacrebleu.metrics import BLEU

    return BLEU()


def bleu(predictions: Sequence[str], references: Sequence[str]) -> float:
    """sacrebleu's corpus BLEU (0-100, default 13a tokenizer, one reference per prediction)."""
    check_pairs(predictions, references)
    return float(_bleu_metric().corpus_score(list(predictions), [list(references)]).score)


def bootstrap_ci(values: Sequence[float], n_resamples: int = 1000, confidence: float = 0.95,
                 seed: int = 0) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of the mean of ``values``.

    Resamples the examples with replacement ``n_resamples`` times; the interval holds the
    middle ``confidence`` share of the resampled means. One value gives a zero-width interval.
    """
    import numpy as np

    arr = np.asarray(values, dtype=float)
    if arr.size == 0:
        raise InputError("There are no scores to compute a confidence interval from.")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, arr.size, size=(n_resamples, arr.size))
    means = arr[idx].mean(axis=1)
    alpha = (1.0 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1.0 - alpha])
    return float(low), float(high)


def bleu_with_ci(predictions: Sequence[str], references: Sequence[str], n_resamples: int = 1000,
                 confidence: float = 0.95, seed: int = 0) -> tuple[float, tuple[float, float]]:
    """Corpus BLEU and its percentile-bootstrap interval.

    BLEU is not a mean of per-sentence scores, so each resample sums the resampled sentences'
    n-gram statistics and recomputes corpus BLEU from them (as sacrebleu's own bootstrap does).
    """
    import numpy as np

    check_pairs(predictions, references)
    metric = _bleu_metric()
    score = float(metric.corpus_score(list(predictions), [list(references)]).score)
    stats = np.asarray(metric._extract_corpus_statistics(list(predictions), [list(references)]), dtype=float)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(stats), size=(n_resamples, len(stats)))
    sums = stats[idx].sum(axis=1)
    samples = np.array([metric._compute_score_from_stats(s).score for s in sums])
    alpha = (1.0 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1.0 - alpha])
    return score, (float(low), float(high))


@dataclass
class ScoreReport:
    """Every aggregate for one system: ROUGE means (0-1), BLEU (0-100), and their 95% intervals."""

    n: int
    rouge: RougeScores
    bleu: float
    ci: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Mean embedding similarity (cosine, -1..1) with the references; None when not computed.
    similarity: float | None = None

    @property
    def tokenizer(self) -> str:
        return self.rouge.tokenizer

    def value(self, key: str) -> float:
        """One metric on a 0-100 scale (ROUGE is scaled so every metric reads the same way)."""
        if key == SIMILARITY_KEY:
            return float("nan") if self.similarity is None else 100.0 * self.similarity
        return self.bleu if key == "bleu" else 100.0 * self.rouge[key]

    def interval(self, key: str) -> tuple[float, float]:
        low, high = self.ci[key]
        scale = 1.0 if key == "bleu" else 100.0
        return low * scale, high * scale


def score_predictions(predictions: Sequence[str], references: Sequence[str], *,
                      tokenizer: str = DEFAULT, use_stemmer: bool = True, n_resamples: int = 1000,
                      seed: int = 0) -> ScoreReport:
    """ROUGE, BLEU and a bootstrap interval for each: the full table row for one system."""
    scores = rouge(predictions, references, use_stemmer=use_stemmer, tokenizer=tokenizer)
    ci = {k: bootstrap_ci(scores.f1(k), n_resamples, seed=seed) for k in ROUGE_KEYS}
    value, ci["bleu"] = bleu_with_ci(predictions, references, n_resamples, seed=seed)
    return ScoreReport(n=len(predictions), rouge=scores, bleu=value, ci=ci)


SIMILARITY_KEY = "similarity"
METRIC_LABELS_SIMILARITY = "Emb. sim."


def raw_value(rep: ScoreReport, key: str) -> float | None:
    """A report's metric as computed (ROUGE a fraction, BLEU 0-100, similarity a cosine), for ``format_score``."""
    if key == SIMILARITY_KEY:
        return rep.similarity
    return rep.bleu if key == "bleu" else float(rep.rouge[key])


def score_text(rep: ScoreReport, key: str, with_ci: bool = True, sep: str = " ") -> str:
    """One table cell on the app's one scale (``units.format_score``): '31.2 [28.0-34.1]' for ROUGE-1,
    BLEU on the same 0-100 scale, '0.61 [0.55-0.67]' for the embedding similarity (a cosine)."""
    from playground.core.base.units import format_score

    metric = "similarity" if key == SIMILARITY_KEY else key
    cell = format_score(raw_value(rep, key), metric)
    if with_ci and key in rep.ci:
        low, high = rep.ci[key]
        cell += f"{sep}[{format_score(low, metric)}–{format_score(high, metric)}]"
    return cell


def format_table(reports: dict[str, ScoreReport], with_ci: bool = True) -> str:
    """A plain-text table, one row per system, every metric on a 0-100 scale."""
    head = ["system", "n"] + [METRIC_LABELS[k] for k in METRIC_KEYS]
    rows = [head]
    for label, rep in reports.items():
        cells = [label, str(rep.n)]
        cells += [score_text(rep, k, with_ci) for k in METRIC_KEYS]
        if any(r.similarity is not None for r in reports.values()):
            cells.append("–" if rep.similarity is None else score_text(rep, SIMILARITY_KEY, with_ci))
        rows.append(cells)
    if any(r.similarity is not None for r in reports.values()):
        head.append(METRIC_LABELS_SIMILARITY)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    tokenizers = {rep.tokenizer for rep in reports.values()}
    note = "; ".join(f"tokenizer {t}: {TOKENIZERS[t]}" for t in sorted(tokenizers))
    lines.append("")
    lines.append("ROUGE and BLEU on one 0-100 scale; [low–high] is the 95% bootstrap interval. ROUGE " + note + ".")
    if any(r.similarity is not None for r in reports.values()):
        from playground.core.models.encoder import SIMILARITY_NOTE

        lines.append(SIMILARITY_NOTE)
    return "\n".join(lines)


def explain_pair(prediction: str, reference: str, *, tokenizer: str = DEFAULT, use_stemmer: bool = True):
    """Which unigrams, bigrams and LCS tokens of one pair matched, as character spans.

    See :func:`playground.core.evaluation.rouge_explain.explain_pair`.
    """
    from playground.core.evaluation.rouge_explain import explain_pair as _explain

    return _explain(prediction, reference, tokenizer=tokenizer, use_stemmer=use_stemmer)
