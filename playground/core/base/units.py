"""One formatter per kind of number, for every tab, report, notebook and the command line.

- Sizes: binary units, written as such (KiB, MiB, GiB: powers of 1024, as memory is counted), so
  the same weights read the same on every screen.
- Scores: ROUGE and BLEU on one scale, 0 to 100 with one decimal (sacrebleu's BLEU scale, and how
  summarization papers print ROUGE). Embedding similarity stays a cosine, -1 to 1, two decimals.
- Changes: computed from the rounded values shown, so "14.1 -> 15.5" reads "+1.4", never "+1.3",
  and a change that rounds to nothing reads "±0.0", never "-0.0".
"""

from __future__ import annotations

import math

_SIZES = (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10))


def format_bytes(n: float) -> str:
    """A size in binary units: '513 MiB', '1.27 GiB', '12.5 KiB', '980 B'.

    Three significant digits at most (below 10 one decimal more), enough to compare two screens.
    """
    if n is None or not math.isfinite(n):
        return "–"
    for unit, size in _SIZES:
        if abs(n) >= size:
            value = n / size
            if abs(value) >= 100:
                return f"{value:,.0f} {unit}"
            return f"{value:.1f} {unit}" if abs(value) >= 10 else f"{value:.2f} {unit}"
    return f"{int(n)} B"


#: Scores shown on the 0-100 scale (their raw values are fractions 0..1, as rouge-score returns them).
PERCENT_SCORES = ("rouge1", "rouge2", "rougeL", "rougeLsum", "rouge_l", "bleu_fraction")


def score_value(value: float, metric: str = "rouge1") -> float:
    """A raw score on the app's scale: ROUGE fractions times 100; BLEU (already 0-100) as it is."""
    if metric.lower().startswith("rouge") or metric == "bleu_fraction":
        return value * 100.0
    return value


def format_score(value: float | None, metric: str = "rouge1") -> str:
    """'31.2' for ROUGE-1 0.312 and for BLEU 31.2; '0.61' for a similarity; '–' when missing."""
    if value is None or not math.isfinite(value):
        return "–"
    if metric in ("similarity", "emb_sim", "cosine"):
        return f"{value:.2f}"
    return f"{score_value(value, metric):.1f}"


def format_delta(before: float, after: float, digits: int = 1) -> str:
    """The change between two shown values, from their rounded forms: '+1.4', '-0.3', '±0.0'."""
    if before is None or after is None or not (math.isfinite(before) and math.isfinite(after)):
        return "–"
    change = round(round(after, digits) - round(before, digits), digits)
    if change == 0:
        return f"±{0:.{digits}f}"
    return f"{change:+.{digits}f}"


def format_score_change(before: float, after: float, metric: str = "rouge1") -> str:
    """'14.1 -> 15.5 (+1.4)' on the score's scale."""
    a, b = score_value(before, metric), score_value(after, metric)
    return f"{a:.1f} -> {b:.1f} ({format_delta(a, b)})"
