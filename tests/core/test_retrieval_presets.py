"""Every failure preset shows what its sentence says, on the bundled base with the bundled encoder (the
retrieval side, fast) and the bundled model (the answers, marked ``bundled``)."""

from __future__ import annotations

import pytest

from playground.core.retrieval import PRESETS, ChunkSettings, RagIndex, build_prompt, load_bundled, preset
from playground.core.retrieval.scoring import contains_gold


@pytest.fixture(scope="module")
def base():
    return load_bundled()


@pytest.fixture(scope="module")
def indexes(base):
    """One index per chunk setting the presets use."""
    out = {}
    for p in PRESETS:
        s = p.chunk_settings(ChunkSettings())
        if s not in out:
            out[s] = RagIndex.open_or_build(None, base.documents, s)
    return out


def holds_gold(hits, gold):
    return any(contains_gold(h.chunk.text, gold) for h in hits)


def test_every_preset_names_a_real_question_and_valid_settings(base):
    keys = [p.key for p in PRESETS]
    assert len(keys) == len(set(keys)) == 6
    for p in PRESETS:
        p.chunk_settings(ChunkSettings()).validate()
        assert p.question_text(base).strip() and p.sentence.strip()
        if p.question_id:
            assert p.gold_answer(base)


def test_wording_presets_fail_one_method_and_not_the_other(base, indexes):
    index = indexes[ChunkSettings()]
    p = preset("bm25-misses")
    gold, q = p.gold_answer(base), p.question_text(base)
    assert not holds_gold(index.search(q, "bm25", p.k), gold)
    assert holds_gold(index.search(q, "dense", p.k), gold)
    p = preset("dense-misses")
    gold, q = p.gold_answer(base), p.question_text(base)
    assert not holds_gold(index.search(q, "dense", p.k), gold)
    assert holds_gold(index.search(q, "bm25", 1), gold)


def test_small_chunks_cut_the_convenors_name(base, indexes):
    p = preset("fact-split")
    q, gold = p.question_text(base), p.gold_answer(base)
    hits = indexes[p.chunk_settings()].search(q, p.method, p.k)
    assert not holds_gold(hits, gold)
    assert any(h.chunk.text.rstrip().endswith("convenor is Mare") for h in hits)
    assert holds_gold(indexes[ChunkSettings()].search(q, p.method, p.k), gold)  # whole with the default chunks


def test_too_many_chunks_fill_over_half_the_window(base, indexes, bundled_tokenizer):
    p = preset("too-many")
    q = p.question_text(base)
    prompt = build_prompt(q, indexes[ChunkSettings()].search(q, p.method, p.k), bundled_tokenizer, context_window=8192)
    assert prompt.share > 0.5
    assert holds_gold(indexes[ChunkSettings()].search(q, p.method, 4), p.gold_answer(base))


def test_the_ignored_passage_is_retrieved_first_and_the_unanswerable_one_is_in_no_document(base, indexes):
    p = preset("ignores-context")
    hits = indexes[ChunkSettings()].search(p.question_text(base), p.method, p.k)
    assert contains_gold(hits[0].chunk.text, p.gold_answer(base))
    assert not any("pint" in d.text.lower() for d in base.documents)


@pytest.mark.bundled
def test_the_bundled_model_fails_as_the_sentences_say(base, indexes, bundled_model):
    from playground.core.retrieval import answer_settings, generate_answer

    def answer(key, k=None):
        p = preset(key)
        q = p.question_text(base)
        hits = indexes[p.chunk_settings()].search(q, p.method, k or p.k)
        # 20 tokens: greedy, so each is the first 20 tokens of the 40-token answers the sentences quote.
        return generate_answer(bundled_model, build_prompt(q, hits, bundled_model), answer_settings(20))

    fact = answer("fact-split")
    assert "Mare" in fact and "Maren Quist" not in fact
    ignored = answer("ignores-context")
    assert "Ilse Varga" in ignored and "Tobias Rennet" not in ignored
    invented = answer("not-in-documents")
    assert "15 crowns" in invented and "do not say" not in invented
    assert "13" in answer("too-many", k=4)
    drifted = answer("too-many")
    assert "10 stops" in drifted and "13" not in drifted
