"""Retrieval-augmented generation you can see into (issue 30): the Qt-free core of the Build tab.

The pieces, in the order a query goes through them::

    base = load_bundled()                                   # or load_files([...]) / load_folder(dir)
    index = RagIndex.open_or_build(folder, base.documents, ChunkSettings(128, 32), encoder=None, handle=h)
    hits = index.search(question, method="hybrid", k=4, threshold=None)   # list[Hit]
    scores = index.all_scores(question)                     # {"dense", "bm25", "hybrid"}: one per chunk
    prompt = build_prompt(question, hits, loaded)           # RagPrompt: text, context_spans, n_tokens, window
    for step in stream_answer(loaded, prompt): ...          # the app's one generation path (TokenStep)
    score_answer(answer, gold)                              # AnswerScore: exact match, token F1, ROUGE-L
    leave_one_out(loaded, question, hits, answer, h)        # list[ChunkEffect]: the drop per chunk left out
    evaluate_retrieval(index, base.questions)               # RetrievalReport: recall@k, MRR per method
    answer_accuracy(loaded, index, base.questions, k=4)     # AccuracyReport: with / without retrieval

Documents (``documents``)
    ``Document(id, title, source_path, text, size_bytes, note)`` (``content_hash``), ``Question(id, question,
    answer, passage_id)``, ``KnowledgeBase(name, documents, questions)``; ``load_bundled(name=None)``,
    ``load_files(paths, handle=None)``, ``load_folder(folder, handle=None)``: .txt, .md, .pdf (pypdf). Bad
    files raise ``InputError`` in plain words (empty folder, binary file, encrypted or image-only PDF, empty
    file); a file that is not UTF-8 is read as cp1252 (Windows Western European) with ``Document.note``
    saying so, and refused when that fails too.
Chunking (``chunking``)
    ``ChunkSettings(size=128, overlap=32)`` in encoder tokens (field metadata: label, help, range;
    ``validate()``: overlap >= size is an ``InputError``); ``Chunk(id, doc_id, index, text, start_char,
    end_char, n_tokens)`` with ``document.text[start_char:end_char] == chunk.text``;
    ``chunk_documents(documents, tokenizer, settings, handle=None)``.
The index (``index``, ``store``, ``embedder``)
    ``RagIndex.open_or_build(folder, documents, settings, encoder, handle)``: faiss ``IndexFlatIP`` over
    unit mean-pooled vectors of the bundled all-MiniLM-L6-v2 (``Encoder``, through
    ``core.models.encoder.sentence_embeddings``, the Inside and Evaluate tabs' function), saved in
    ``folder`` (``vectors.faiss``, ``chunks.json``, ``manifest.json`` with format version, encoder,
    chunk settings and each document's content hash). Reopening embeds nothing; a changed document alone
    is embedded again; a deleted, damaged or newer-version folder is rebuilt with a note (``index.notes``).
    Progress: ``report_step(handle, "Embedding chunks", done, total)``; Stop between batches.
    ``index.chunks``, ``.documents``, ``.vectors``, ``.embedded_chunks``, ``.reused_chunks``,
    ``.open_seconds``; ``.search(question, method, k, threshold) -> list[Hit]``; ``.all_scores(question)``;
    ``.k_note(k)`` (a sentence when k exceeds the chunk count: the search returns them all);
    ``.approximate = True`` (faiss ``IndexHNSWFlat``) and ``.recall_against_exact(k, queries=None)``.
    An empty or stop-word-only question is an ``InputError``. ``Hit(chunk, score, rank, method)``.
    ``rrf_scores(rankings, n)``: reciprocal rank fusion (k = 60).
Prompt and answers (``prompt``, ``answering``, ``scoring``)
    ``build_prompt(question, hits, tokenizer_or_loaded, use_chat_template=None, context_window=None) ->
    RagPrompt(text, context_spans[(start, end, chunk_id)], n_tokens, context_window, context_tokens,
    chunk_ids)`` (``.share``, ``.context_share``); hits ``[]``: the prompt without retrieval.
    ``stream_answer(loaded, prompt, settings=None, cancelled=None)`` / ``generate_answer(...)``
    (greedy by default: ``answer_settings()``); ``score_answer(answer, gold) -> AnswerScore(exact_match,
    token_f1, rouge_l, contains)``; ``leave_one_out(loaded, question, hits, answer, handle=None) ->
    list[ChunkEffect(chunk_id, logprob_with, logprob_without, .drop)]``.
Quality (``quality``)
    ``evaluate_retrieval(index, questions, ks=(1, 3, 5, 10), handle=None) -> RetrievalReport`` (``.recall(m, k)``,
    ``.mrr(m)``, ``.rows()``, ``.table()``, ``.ranks``); ``answer_accuracy(loaded, index, questions, k=4,
    handle=None, method="hybrid") -> AccuracyReport`` (``.rows``, ``.mean("with"|"without", attr)``, ``.table()``).
Presets (``presets``)
    ``PRESETS``: ``Preset(key, name, sentence, question_id, question, chunk_size, overlap, method, k, retrieval)``
    with ``.chunk_settings(current)``, ``.question_text(base)`` and ``.gold_answer(base)`` (a preset may word a
    bundled question its own way and keep its gold answer); ``preset(key)``. Keys: bm25-misses, dense-misses,
    fact-split, too-many, ignores-context, not-in-documents (each checked in tests/core/test_retrieval_presets.py).
Notebook (``notebook``) and storage (``store``)
    ``rag_experiment(documents, settings, question, method, k, hits, answer, answer_without, ...)`` gives the
    ``{"kind": "rag", ...}`` experiment that ``core.labs.notebook.build_notebook`` turns into cells rerunning
    it offline with faiss, bm25s and transformers alone. ``store.default_index_folder(name, source=None)``:
    the user-cache folder the CLI keeps an index in.
"""

from playground.core.retrieval.answering import (
    ChunkEffect,
    answer_logprob,
    answer_settings,
    generate_answer,
    leave_one_out,
    stream_answer,
)
from playground.core.retrieval.chunking import MAX_CHUNK_TOKENS, Chunk, ChunkSettings, chunk_document, chunk_documents
from playground.core.retrieval.documents import (
    Document,
    KnowledgeBase,
    Question,
    bundled_names,
    load_bundled,
    load_files,
    load_folder,
    read_document,
)
from playground.core.retrieval.embedder import Encoder
from playground.core.retrieval.index import (
    METHOD_LABELS,
    METHODS,
    RRF_K,
    Hit,
    RagIndex,
    check_question,
    keyword_tokens,
    rrf_scores,
    stopwords,
)
from playground.core.retrieval.presets import PRESETS, Preset, preset
from playground.core.retrieval.prompt import RagPrompt, build_prompt
from playground.core.retrieval.quality import (
    AccuracyReport,
    RetrievalReport,
    answer_accuracy,
    evaluate_retrieval,
    mean_reciprocal_rank,
    recall_at_k,
)
from playground.core.retrieval.scoring import AnswerScore, score_answer, token_f1

__all__ = [
    "AccuracyReport", "AnswerScore", "Chunk", "ChunkEffect", "ChunkSettings", "Document", "Encoder", "Hit",
    "KnowledgeBase", "MAX_CHUNK_TOKENS", "METHODS", "METHOD_LABELS", "PRESETS", "Preset", "Question", "RRF_K",
    "RagIndex", "RagPrompt", "RetrievalReport", "answer_accuracy", "answer_logprob", "answer_settings",
    "build_prompt", "bundled_names", "check_question", "chunk_document", "chunk_documents", "evaluate_retrieval",
    "generate_answer", "keyword_tokens", "leave_one_out", "load_bundled", "load_files", "load_folder",
    "mean_reciprocal_rank", "preset", "read_document", "recall_at_k", "rrf_scores", "score_answer",
    "stopwords", "stream_answer", "token_f1",
]
