"""One formatter per kind of number (issue 28): sizes, scores and changes read the same everywhere."""

import math

from playground.core.base.units import format_bytes, format_delta, format_score, format_score_change


def test_sizes_are_binary_and_say_so():
    assert format_bytes(513 * 2**20) == "513 MiB"
    assert format_bytes(1.27 * 2**30) == "1.27 GiB"
    assert format_bytes(12.5 * 2**10) == "12.5 KiB"
    assert format_bytes(980) == "980 B"
    assert format_bytes(float("nan")) == "–"


def test_one_scale_per_score():
    assert format_score(0.312, "rouge1") == "31.2"
    assert format_score(31.2, "bleu") == "31.2"          # sacrebleu's scale already
    assert format_score(0.61, "similarity") == "0.61"
    assert format_score(None) == "–"


def test_changes_come_from_the_rounded_values_shown():
    # 14.14 -> 15.46 shows as 14.1 -> 15.5: the change a reader computes is +1.4 (not +1.3)
    assert format_delta(14.14, 15.46) == "+1.4"
    assert format_delta(0.50, 0.46) == "±0.0" and not format_delta(0.04, 0.01).startswith("-0.0")
    assert format_delta(2.0, 1.7) == "-0.3"
    assert format_score_change(0.1414, 0.1546) == "14.1 -> 15.5 (+1.4)"
    assert format_delta(1.0, math.inf) == "–"
