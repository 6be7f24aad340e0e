"""The retrieval core against oracles: BM25 against bm25s and the Lucene formula by hand, dense search
against a brute-force numpy cosine, recall@k / MRR and RRF on hand-made rankings, chunk boundaries."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from playground.core.base.errors import InputError
from playground.core.models.encoder import load_encoder, sentence_embeddings
from playground.core.retrieval import (
    Chunk,
    ChunkSettings,
    Document,
    Hit,
    RagIndex,
    build_prompt,
    chunk_documents,
    keyword_tokens,
    stopwords,
    mean_reciprocal_rank,
    recall_at_k,
    rrf_scores,
    score_answer,
    token_f1,
)
from playground.core.retrieval.quality import first_relevant_rank

TOY = {
    "ferry": "The ferry Corran Bell sails from Hallowick to Kestrany twice a day in summer.",
    "museum": "The Museum of the Sea sits in the old customs house; its curator is Ilse Varga.",
    "storm": "In the Great Storm of 1903 fourteen fishing boats sank off the north shore.",
    "bus": "The Loop bus calls at thirteen stops around the island, the ferry pier among them.",
    "pie": "Kestra pie is made with smoked mackerel, potatoes and a little sorrel.",
}


def toy_docs() -> list[Document]:
    return [Document(k, k.title(), f"{k}.md", v, len(v.encode())) for k, v in TOY.items()]


@pytest.fixture(scope="module")
def toy_index():
    return RagIndex.open_or_build(None, toy_docs(), ChunkSettings(size=64, overlap=8))


# --- BM25 ------------------------------------------------------------------------------------------

def lucene_bm25(corpus: list[list[str]], query: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """BM25 as Lucene (8 and later) computes it, by hand: idf = ln(1 + (N - df + 0.5) / (df + 0.5)) times
    tf / (tf + k1 (1 - b + b |d| / avgdl)); Lucene dropped the constant (k1 + 1) factor of the textbook form."""
    n = len(corpus)
    avgdl = sum(len(d) for d in corpus) / n
    df = Counter(w for d in corpus for w in set(d))
    out = np.zeros(n)
    for i, doc in enumerate(corpus):
        tf = Counter(doc)
        for w in set(query):
            if w not in tf:
                continue
            idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
            out[i] += idf * tf[w] / (tf[w] + k1 * (1 - b + b * len(doc) / avgdl))
    return out


def test_bm25_scores_equal_bm25s_and_the_lucene_formula(toy_index):
    import bm25s

    question = "Which ferry sails to Kestrany from Hallowick?"
    ours = toy_index.all_scores(question)["bm25"]
    texts = [c.text for c in toy_index.chunks]
    ref = bm25s.BM25()
    ref.index(bm25s.tokenize(texts, stopwords=stopwords(), show_progress=False), show_progress=False)
    words = [w for w in keyword_tokens(question)[0] if w in ref.vocab_dict]
    assert np.allclose(ours, ref.get_scores(words), atol=1e-5)
    by_hand = lucene_bm25(keyword_tokens(texts), keyword_tokens(question)[0])
    assert np.allclose(ours, by_hand, atol=1e-4)
    assert ours.argmax() == [c.doc_id for c in toy_index.chunks].index("ferry")
    hits = toy_index.search(question, "bm25", k=5)
    # BM25 returns only the chunks sharing a word with the question: here "ferry" and "bus" (the pier).
    assert [h.chunk.doc_id for h in hits] == ["ferry", "bus"]
    assert [h.rank for h in hits] == [1, 2] and hits[0].score == pytest.approx(float(ours.max()), abs=1e-5)


# --- dense -----------------------------------------------------------------------------------------

def test_dense_vectors_are_the_shared_mean_pool_and_search_equals_brute_force_cosine(toy_index):
    model, tok = load_encoder()
    texts = [c.text for c in toy_index.chunks]
    ref = sentence_embeddings(texts, model, tok).vectors.numpy()
    assert np.allclose(toy_index.vectors, ref, atol=1e-5)
    question = "Who looks after the museum?"
    q = sentence_embeddings([question], model, tok).vectors.numpy()[0]
    cosine = ref @ q / (np.linalg.norm(ref, axis=1) * np.linalg.norm(q))  # brute force, normalised by hand
    hits = toy_index.search(question, "dense", k=3)
    assert [h.chunk.id for h in hits] == [toy_index.chunks[i].id for i in np.argsort(-cosine)[:3]]
    assert [h.score for h in hits] == pytest.approx(sorted(cosine, reverse=True)[:3], abs=1e-5)
    assert hits[0].chunk.doc_id == "museum"
    assert np.allclose(toy_index.all_scores(question)["dense"], cosine, atol=1e-5)


def test_hybrid_is_rrf_of_the_two_rankings_and_threshold_cuts(toy_index):
    question = "fishing boats lost in a storm"
    s = toy_index.all_scores(question)
    dense_rank = np.argsort(-s["dense"], kind="stable")
    bm25_rank = [i for i in np.argsort(-s["bm25"], kind="stable") if s["bm25"][i] > 0]
    expected = rrf_scores([dense_rank, bm25_rank], len(toy_index.chunks))
    assert np.allclose(s["hybrid"], expected, atol=1e-7)
    hits = toy_index.search(question, "hybrid", k=2)
    assert hits[0].chunk.doc_id == "storm" and hits[0].score == pytest.approx(2 / 61, abs=1e-6)
    cut = toy_index.search(question, "dense", k=5, threshold=0.3)
    assert cut and all(h.score >= 0.3 for h in cut) and len(cut) < 5


def test_rrf_on_a_hand_example():
    # item 0: ranks 1 and 3; item 1: rank 2 in the first list only; item 2: ranks 3 and 1.
    got = rrf_scores([[0, 1, 2], [2, 3, 0]], 4, k=60)
    assert got == pytest.approx([1 / 61 + 1 / 63, 1 / 62, 1 / 63 + 1 / 61, 1 / 62])


def test_recall_at_k_and_mrr_on_hand_made_rankings():
    ranks = [first_relevant_rank([4, 2, 7], {2}), first_relevant_rank([1, 3], {9}),
             first_relevant_rank([5, 6, 8, 0], {0, 5})]
    assert ranks == [2, None, 1]
    assert recall_at_k(ranks, 1) == pytest.approx(1 / 3)
    assert recall_at_k(ranks, 2) == pytest.approx(2 / 3)
    assert mean_reciprocal_rank(ranks) == pytest.approx((1 / 2 + 0 + 1) / 3)


def test_k_larger_than_the_chunk_count_returns_all_with_a_note(toy_index):
    n = len(toy_index.chunks)
    hits = toy_index.search("ferry timetable", "dense", k=n + 10)
    assert len(hits) == n
    assert toy_index.k_note(n + 10) == f"Only {n} chunks exist, so k = {n + 10} returns all {n}."
    assert toy_index.k_note(n) == ""


@pytest.mark.bad_input("a question that is empty or only stop-words")
@pytest.mark.parametrize("question", ["", "   ", "What is it?", "is the of"])
def test_empty_or_stop_word_questions_are_refused(toy_index, question, bad_input):
    with pytest.raises(InputError) as err:
        toy_index.search(question)
    assert ("empty" in err.value.message) if not question.strip() else ("only common words" in err.value.message)
    bad_input(err.value)


# --- chunking --------------------------------------------------------------------------------------

def test_chunks_are_token_windows_with_character_offsets():
    _, tok = load_encoder()
    text = " ".join(f"Sentence {i} tells fact number {i} about Kestrany." for i in range(60))
    doc = Document("long", "Long", "long.txt", text, len(text))
    settings = ChunkSettings(size=40, overlap=10)
    chunks = chunk_documents([doc], tok, settings)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True)
    offsets = enc["offset_mapping"]
    assert len(chunks) == math.ceil((len(offsets) - 40) / 30) + 1
    for c in chunks:
        assert c.text == text[c.start_char:c.end_char]
        assert c.n_tokens <= 40
    # Window i starts at token 30 i: its first character is that token's start, the overlap is 10 tokens.
    for i, c in enumerate(chunks):
        assert c.start_char == offsets[30 * i][0]
        assert c.id == f"long#{i}" and c.index == i
    assert all(c.n_tokens == 40 for c in chunks[:-1])
    assert chunks[0].end_char == offsets[39][1] and chunks[1].start_char == offsets[30][0]
    assert chunks[-1].end_char == len(text.rstrip())


@pytest.mark.bad_input("chunk overlap as large as the chunk size")
@pytest.mark.parametrize("size, overlap", [(32, 32), (32, 40)])
def test_overlap_not_smaller_than_size_is_refused(size, overlap, bad_input):
    with pytest.raises(InputError) as err:
        ChunkSettings(size=size, overlap=overlap).validate()
    assert "must be smaller than the chunk size" in err.value.message
    bad_input(err.value)


def test_chunk_settings_declare_their_form_once():
    from dataclasses import fields

    meta = {f.name: f.metadata for f in fields(ChunkSettings)}
    assert meta["size"]["label"] == "Chunk size" and meta["size"]["range"][1] == 510
    assert "smaller than the chunk size" in meta["overlap"]["help"]


# --- prompt and scores -----------------------------------------------------------------------------

def test_prompt_marks_each_retrieved_passage_and_counts_tokens(toy_index, bundled_tokenizer):
    from playground.core.decoding.generation import prompt_token_ids

    hits = toy_index.search("Who is the curator of the museum?", "dense", k=2)
    p = build_prompt("Who is the curator of the museum?", hits, bundled_tokenizer, context_window=8192)
    assert [cid for _, _, cid in p.context_spans] == [h.chunk.id for h in hits]
    for (s, e, cid), h in zip(p.context_spans, hits):
        assert p.text[s:e] == h.chunk.text.strip()
    assert p.n_tokens == len(prompt_token_ids(bundled_tokenizer, p.text))
    assert 0 < p.context_tokens < p.n_tokens
    assert p.share == pytest.approx(p.n_tokens / 8192)
    assert p.text.startswith("<|im_start|>")  # the chat template, the app's one default
    bare = build_prompt("Who is the curator of the museum?", [], bundled_tokenizer, context_window=8192)
    assert bare.context_spans == [] and bare.context_tokens == 0 and "[1]" not in bare.text
    assert bare.n_tokens < p.n_tokens
    plain = build_prompt("Who?", hits, bundled_tokenizer, use_chat_template=False)
    assert not plain.text.startswith("<|im_start|>") and plain.text.endswith("Answer:")


def test_scores_follow_squad_and_rouge_score():
    from rouge_score import rouge_scorer

    s = score_answer("The Corran Bell.", "Corran Bell")
    assert s.exact_match == 1.0 and s.token_f1 == 1.0 and s.contains
    s = score_answer("It is the ferry Corran Bell", "Corran Bell")
    assert s.exact_match == 0.0 and s.contains
    assert s.token_f1 == pytest.approx(2 * (2 / 5) * 1 / (2 / 5 + 1))  # "it is ferry corran bell" vs "corran bell"
    ref = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True).score("Corran Bell", "It is the ferry Corran Bell")
    assert s.rouge_l == pytest.approx(ref["rougeL"].fmeasure)
    assert token_f1("", "Corran Bell") == 0.0
    assert score_answer("It calls at thirteen stops.", "13").contains  # number words read as digits
    assert score_answer("About 1,200 lanterns", "1,200").contains and not score_answer("120 lanterns", "1,200").contains
    assert "ROUGE-L 50.0" in s.describe() and "token F1 57.1" in s.describe()  # the 0-100 scale


def test_hits_carry_their_method(toy_index):
    for method in ("dense", "bm25", "hybrid"):
        hits = toy_index.search("ferry to Kestrany", method, k=2)
        assert hits and all(isinstance(h, Hit) and h.method == method for h in hits)
        assert isinstance(hits[0].chunk, Chunk)
    with pytest.raises(InputError, match="no search method"):
        toy_index.search("ferry", "magic")


def test_a_long_text_is_tokenized_in_pieces_with_the_same_chunks_progress_and_stop(monkeypatch):
    import playground.core.retrieval.chunking as chunking
    from playground.core.base.errors import Cancelled
    from playground.core.base.handle import TaskHandle

    _, tok = load_encoder()
    text = "\n\n".join(f"Paragraph {i}: the causeway to Little Kestrany floods at high tide, so cross within two "
                       f"hours of low water." for i in range(300))
    doc = Document("long", "Long", "long.txt", text, len(text))
    whole = chunk_documents([doc], tok, ChunkSettings(size=48, overlap=16))
    monkeypatch.setattr(chunking, "PIECE_CHARS", 1000)
    seen = []
    pieces = chunk_documents([doc], tok, ChunkSettings(size=48, overlap=16),
                             TaskHandle(lambda f, m: seen.append(str(m))))
    assert pieces == whole
    assert any(m.startswith("Cutting into chunks · 5 of ") for m in seen)
    handle = TaskHandle()
    handle.cancel()
    with pytest.raises(Cancelled):
        chunking.chunk_document(doc, tok, ChunkSettings(), handle)
