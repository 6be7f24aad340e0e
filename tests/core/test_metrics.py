import random

import numpy as np
import pytest
from rouge_score import rouge_scorer, tokenizers

from playground.core.base.errors import InputError
from playground.core.evaluation.metrics import (
    ROUGE_KEYS,
    bleu,
    bleu_with_ci,
    bootstrap_ci,
    explain_pair,
    format_table,
    rouge,
    score_predictions,
)
from playground.core.evaluation.text_tokens import token_spans

WORDS = ["the", "meeting", "was", "moved", "to", "Friday", "because", "Tom", "is", "travelling", "and", "Anna", "booked", "a", "table", "at", "restaurant", "near", "station", "tickets", "cost", "twenty", "dollars", "she", "agreed", "he", "refused", "they", "talked", "running", "runs", "ran", "quickly-arranged", "3pm", "2024", "O'Brien's", "e-mail"]


def make_pairs(n, seed):
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        ref = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 25)))
        # Predictions share some words with the reference, in a shuffled order, plus noise.
        pred_words = [w for w in ref.split() if rng.random() < 0.6] + [rng.choice(WORDS) for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.5:
            rng.shuffle(pred_words)
        pred = " ".join(pred_words)
        if rng.random() < 0.2:
            pred = pred.replace(" and ", ".\nAnd ")  # multi-line text exercises ROUGE-Lsum
        pairs.append((pred, ref))
    pairs.append(("", "an empty prediction scores zero"))
    pairs.append(("Punctuation, only!!! ...", "punctuation only"))
    return pairs


@pytest.mark.parametrize("use_stemmer", [True, False])
def test_rouge_identical_to_rouge_score(use_stemmer):
    pairs = make_pairs(200, seed=1)
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    ours = rouge(preds, refs, use_stemmer=use_stemmer)
    scorer = rouge_scorer.RougeScorer(list(ROUGE_KEYS), use_stemmer=use_stemmer)
    direct = [scorer.score(r, p) for p, r in pairs]
    assert set(ours) == set(ROUGE_KEYS)
    for k in ROUGE_KEYS:
        assert ours[k] == float(np.mean([d[k].fmeasure for d in direct]))
    for mine, theirs in zip(ours.per_pair, direct):
        for k in ROUGE_KEYS:
            assert tuple(mine[k]) == tuple(theirs[k])  # precision, recall, F1 all equal
    assert ours.tokenizer == "default" and ours.use_stemmer is use_stemmer
    assert 0 < ours["rouge1"] < 1 and ours["rouge2"] < ours["rouge1"]


def test_bleu_identical_to_sacrebleu():
    import sacrebleu

    pairs = make_pairs(150, seed=2)
    preds, refs = [p for p, _ in pairs], [r for _, r in pairs]
    expected = sacrebleu.corpus_bleu(preds, [refs]).score
    assert bleu(preds, refs) == expected
    assert 0 < expected < 100


def test_default_tokenizer_drops_non_ascii_unicode_keeps_it():
    preds = ["Пётр встретил Анну в кафе", "東京で会議がある", "Le café était fermé"]
    refs = ["Пётр встретил Анну", "東京で会議", "Le café était fermé à midi"]
    default = rouge(preds, refs)
    uni = rouge(preds, refs, tokenizer="unicode")
    assert default.per_pair[0]["rouge1"].fmeasure == 0.0  # Cyrillic vanishes with rouge-score's tokenizer
    assert default.per_pair[1]["rouge1"].fmeasure == 0.0  # so does Japanese
    assert uni.per_pair[0]["rouge1"].fmeasure == pytest.approx(2 * 3 / 5 / (3 / 5 + 1))
    assert uni.per_pair[1]["rouge1"].fmeasure > 0.5
    assert uni["rouge1"] > default["rouge1"]
    assert uni.tokenizer == "unicode"
    assert "unicode" in format_table({"x": score_predictions(preds, refs, tokenizer="unicode", n_resamples=50)})
    assert [t.token for t in token_spans("Café ÉTÉ", "unicode")] == ["café", "été"]


@pytest.mark.parametrize("text", [
    "The Cats were RUNNING quickly; 3 dogs ran, running 42 miles.",
    "İstanbul's Kelvin sign: \u212a, ligature \ufb01ne, naïve café, ＦＵＬＬwidth ９",
    "Σίσυφος ΟΔΟΣ then ascii again\tand\nnewlines",
    "don't e-mail O'Brien at 10:30am — ok?",
])
def test_span_tokenizer_matches_rouge_score_and_spans_point_at_text(text):
    for stem in (True, False):
        expected = tokenizers.DefaultTokenizer(use_stemmer=stem).tokenize(text)
        spans = token_spans(text, "default", stem)
        assert [t.token for t in spans] == expected
        for t in spans:
            source = text[t.start:t.end].lower()
            if not stem:
                assert source == t.token or t.token in source  # 'İ' lowers to 'i' + a combining dot
            assert t.end > t.start


def test_explanation_of_a_hand_checked_pair():
    reference = "Tom will meet Anna at the station on Friday."
    prediction = "On Friday, Anna will meet Tom at the station."
    ex = explain_pair(prediction, reference, use_stemmer=False)
    uni = {(m.ngram[0], reference[m.reference[0]:m.reference[1]], prediction[m.prediction[0]:m.prediction[1]])
           for m in ex.unigrams}
    assert uni == {("tom", "Tom", "Tom"), ("will", "will", "will"), ("meet", "meet", "meet"),
                   ("anna", "Anna", "Anna"), ("at", "at", "at"), ("the", "the", "the"),
                   ("station", "station", "station"), ("on", "on", "On"), ("friday", "Friday", "Friday")}
    # Positions checked by hand: 'Tom' is at 0-3 in the reference and 26-29 in the prediction.
    tom = next(m for m in ex.unigrams if m.ngram == ("tom",))
    assert tom.reference == (0, 3) and tom.prediction == (26, 29)
    bigrams = {m.ngram: (m.reference, m.prediction) for m in ex.bigrams}
    assert bigrams == {("will", "meet"): ((4, 13), (16, 25)), ("at", "the"): ((19, 25), (30, 36)),
                       ("the", "station"): ((22, 33), (33, 44)), ("on", "friday"): ((34, 43), (0, 9))}
    # LCS: 'will meet at the station' (5 tokens); rouge-score agrees on the length.
    lcs_words = [reference[s:e] for s, e in ex.spans("lcs", "reference")]
    assert lcs_words == ["will", "meet", "at", "the", "station"]
    assert [prediction[s:e] for s, e in ex.spans("lcs", "prediction")] == lcs_words
    scores = rouge([prediction], [reference], use_stemmer=False).per_pair[0]
    assert ex.recall("lcs") == pytest.approx(scores["rougeL"].recall)
    assert ex.recall("unigrams") == pytest.approx(scores["rouge1"].recall)
    assert ex.recall("bigrams") == pytest.approx(scores["rouge2"].recall)


def test_explanation_clips_repeated_ngrams_like_rouge():
    ex = explain_pair("the the the cat", "the cat sat on the mat", use_stemmer=False)
    assert sum(1 for m in ex.unigrams if m.ngram == ("the",)) == 2  # 3 in output, 2 in reference
    scores = rouge(["the the the cat"], ["the cat sat on the mat"], use_stemmer=False).per_pair[0]
    assert ex.recall("unigrams") == pytest.approx(scores["rouge1"].recall)


def test_explanation_agrees_with_rouge_on_random_pairs():
    for pred, ref in make_pairs(60, seed=3):
        ex = explain_pair(pred, ref)
        s = rouge([pred], [ref]).per_pair[0]
        assert ex.recall("unigrams") == pytest.approx(s["rouge1"].recall)
        assert ex.recall("bigrams") == pytest.approx(s["rouge2"].recall)
        assert ex.recall("lcs") == pytest.approx(s["rougeL"].recall)


def test_bootstrap_intervals_contain_the_mean_and_shrink_with_more_data():
    rng = np.random.default_rng(0)
    small = rng.uniform(0, 1, 20)
    large = rng.uniform(0, 1, 2000)
    lo_s, hi_s = bootstrap_ci(small, seed=1)
    lo_l, hi_l = bootstrap_ci(large, seed=1)
    assert lo_s <= small.mean() <= hi_s and lo_l <= large.mean() <= hi_l
    assert hi_l - lo_l < (hi_s - lo_s) / 3
    assert bootstrap_ci([0.5]) == (0.5, 0.5)
    pairs = make_pairs(80, seed=4)
    value, (lo, hi) = bleu_with_ci([p for p, _ in pairs], [r for _, r in pairs])
    assert lo < value < hi


def test_score_report_has_every_interval():
    pairs = make_pairs(40, seed=5)
    rep = score_predictions([p for p, _ in pairs], [r for _, r in pairs], n_resamples=200)
    assert set(rep.ci) == set(ROUGE_KEYS) | {"bleu"}
    for k in ROUGE_KEYS:
        lo, hi = rep.interval(k)
        assert lo <= rep.value(k) <= hi
    table = format_table({"sys": rep})
    assert "ROUGE-1" in table and "BLEU" in table
    low, high = rep.ci["rouge1"]
    assert f"{rep.value('rouge1'):.1f} [{100 * low:.1f}–{100 * high:.1f}]" in table  # one 0-100 scale
    assert f"{rep.bleu:.1f} [" in table


@pytest.mark.parametrize("preds, refs, words", [
    ([], ["a"], "no predictions"),
    (["a"], [], "no references"),
    (["a", "b"], ["a"], "2 predictions but 1 references"),
    (["a"], [""], "Every reference is empty"),
    ("abc", ["abc"], "lists of texts"),
    ([None], ["a"], "not text"),
])
def test_bad_inputs_are_plain_errors(preds, refs, words):
    with pytest.raises(InputError) as err:
        rouge(preds, refs)
    assert words in err.value.message
    with pytest.raises(InputError):
        bleu(preds, refs)


def test_unknown_tokenizer():
    with pytest.raises(InputError, match="Unknown tokenizer"):
        rouge(["a"], ["a"], tokenizer="whitespace")
