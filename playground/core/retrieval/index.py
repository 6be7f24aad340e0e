"""A knowledge base's index: dense search (faiss, exact inner product over unit vectors = cosine, or
HNSW as the approximate option), keyword search (BM25 through bm25s) and hybrid (reciprocal rank
fusion of the two), persisted so reopening embeds nothing and a changed document alone is embedded."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.retrieval.chunking import Chunk, ChunkSettings, chunk_documents
from playground.core.retrieval.embedder import Encoder
from playground.core.retrieval.store import INDEX_VERSION, read_saved, write_saved

METHODS = ("dense", "bm25", "hybrid")
METHOD_LABELS = {"dense": "Dense (meaning)", "bm25": "BM25 (keywords)", "hybrid": "Hybrid (RRF)"}
#: Reciprocal rank fusion's constant (Cormack et al. 2009): a chunk at rank r adds 1 / (RRF_K + r).
RRF_K = 60
#: HNSW settings: neighbours per node, build and search breadth (recall@10 >= 0.95 at 100k, see bench).
HNSW_M, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 128, 512


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: its score (cosine for dense, BM25 score, RRF score for hybrid) and rank (1 = best)."""

    chunk: Chunk
    score: float
    rank: int
    method: str


#: Words that say nothing about what to look for: bm25s's English list (Lucene's 33) plus question words,
#: pronouns and auxiliaries, so "What is it?" holds no keyword and "what" matches nothing.
QUESTION_WORDS = ("what", "which", "who", "whom", "whose", "where", "when", "why", "how", "do", "does", "did",
                  "done", "can", "could", "would", "should", "shall", "may", "might", "must", "am", "been",
                  "being", "have", "has", "had", "i", "me", "my", "we", "our", "you", "your", "he", "him", "his",
                  "she", "her", "its", "them", "their", "about", "from", "so", "than", "too", "very", "any",
                  "some", "all", "tell", "know")


def stopwords() -> list[str]:
    import bm25s.stopwords

    return sorted(set(bm25s.stopwords.STOPWORDS_EN) | set(QUESTION_WORDS))


def keyword_tokens(texts: str | Sequence[str]) -> list[list[str]]:
    """The words BM25 counts: bm25s's tokenizer (lower case, 2+ letters or digits) without ``stopwords()``."""
    import bm25s

    single = isinstance(texts, str)
    return bm25s.tokenize([texts] if single else list(texts), stopwords=stopwords(), return_ids=False,
                          show_progress=False)


def check_question(question: str) -> list[str]:
    """The question's keywords; an empty or stop-word-only question is refused in plain words."""
    if not question or not question.strip():
        raise InputError("The question is empty.", "Type a question about the documents.")
    words = keyword_tokens(question)[0]
    if not words:
        raise InputError(f"'{question.strip()}' holds only common words (such as 'the', 'is', 'what') that "
                         "say nothing about what to look for.",
                         "Ask about something the documents could hold: a name, a place, a date, a thing.")
    return words


def rrf_scores(rankings: Sequence[Sequence[int]], n: int, k: int = RRF_K):
    """Reciprocal rank fusion: each chunk's sum over the rank lists of 1 / (k + rank), rank from 1.

    A chunk missing from a list adds nothing for it.
    """
    import numpy as np

    out = np.zeros(n, dtype="float64")
    for ranking in rankings:
        for r, i in enumerate(ranking, start=1):
            out[int(i)] += 1.0 / (k + r)
    return out


class RagIndex:
    """Chunks of a set of documents, their vectors and a keyword index, saved in ``folder``.

    Attributes
    ----------
    chunks : list[Chunk]
    documents : list[Document]
    settings : ChunkSettings
    encoder : Encoder
    notes : list[str]
        Plain sentences on what opening did ("3 documents unchanged, 1 embedded again", "rebuilt: …").
    embedded_chunks, reused_chunks : int
        How many chunks were embedded when opening, and how many vectors came from disk.
    open_seconds : float
    """

    def __init__(self, folder, documents, chunks, vectors, settings, encoder, notes=(), embedded=0, reused=0):
        import faiss

        self.folder = Path(folder) if folder else None
        self.documents = list(documents)
        self.chunks: list[Chunk] = list(chunks)
        self.vectors = vectors
        self.settings = settings
        self.encoder = encoder
        self.notes = list(notes)
        self.embedded_chunks, self.reused_chunks = embedded, reused
        self.open_seconds = 0.0
        self._flat = faiss.IndexFlatIP(vectors.shape[1])
        if len(vectors):
            self._flat.add(vectors)
        self._hnsw = None
        self._approximate = False
        self._bm25 = self._build_bm25()

    # --- opening ---------------------------------------------------------------------------------
    @classmethod
    def open_or_build(cls, folder, documents, settings: ChunkSettings | None = None, encoder=None,
                      handle=None) -> "RagIndex":
        """Open the index saved in ``folder`` for ``documents``, embedding only what is new or changed.

        A document whose content hash matches the manifest keeps its chunks and vectors from disk;
        a new or changed one is chunked and embedded (``report_step(handle, "Embedding chunks", …)``,
        Stop honoured between batches: nothing is written then, the saved index stays as it was);
        a removed one is dropped. A different encoder or chunk settings, a folder deleted, damaged or
        written by a newer version: every chunk is embedded again, with a note saying why.

        Parameters
        ----------
        folder
            Where the index lives (created when missing); None keeps it in memory only.
        documents
            The documents (``load_files`` / ``load_bundled().documents``).
        settings
            Chunk size and overlap in encoder tokens.
        encoder
            None (the bundled all-MiniLM-L6-v2), an ``Encoder``, a LoadedModel of an encoder, or (model, tokenizer).

        Raises
        ------
        InputError
            No documents; overlap >= size. ``ModelLoadError`` when the encoder is missing.
        Cancelled
            Stop was pressed while embedding.
        """
        import numpy as np

        started = time.perf_counter()
        settings = settings or ChunkSettings()
        settings.validate()
        documents = list(documents)
        if not documents:
            raise InputError("There are no documents to index.", "Add .txt, .md or .pdf files first.")
        ids = [d.id for d in documents]
        if len(set(ids)) != len(ids):
            raise InputError("Two documents share one id.", "Give each file its own name.")
        encoder = Encoder.of(encoder)
        folder = Path(folder) if folder is not None else None
        notes: list[str] = []
        saved = read_saved(folder) if folder is not None else None
        reusable: dict[str, tuple[list, object]] = {}
        if saved is not None and saved.problem:
            notes.append(saved.problem)
        elif saved is not None:
            m = saved.manifest
            if m.get("encoder") != encoder.name or int(m.get("dimension", 0)) != encoder.dimension:
                notes.append(f"The saved index was made with another encoder ({m.get('encoder')}): every chunk "
                             "is embedded again.")
            elif m.get("chunk_settings") != settings.to_dict():
                old = ChunkSettings(**m.get("chunk_settings", {})) if m.get("chunk_settings") else None
                notes.append(f"The chunk settings changed ({old.describe() if old else '?'} → "
                             f"{settings.describe()}): every chunk is embedded again.")
            else:
                rows_of: dict[str, list[int]] = {}
                for row, c in enumerate(saved.chunks):
                    rows_of.setdefault(c.doc_id, []).append(row)
                for doc_id, info in m.get("documents", {}).items():
                    rows = rows_of.get(doc_id, [])
                    reusable[doc_id] = (info.get("hash"), [saved.chunks[r] for r in rows], saved.vectors[rows])
        chunks: list[Chunk] = []
        vectors = []
        fresh_docs = []
        unchanged = changed = 0
        for doc in documents:
            old = reusable.get(doc.id)
            if old is not None and old[0] == doc.content_hash:
                unchanged += 1
            else:
                changed += old is not None
                fresh_docs.append(doc)
        new_chunks = chunk_documents(fresh_docs, encoder.tokenizer, settings, handle) if fresh_docs else []
        new_vectors = encoder.embed([c.text for c in new_chunks], handle) if new_chunks else None
        by_doc: dict[str, list[int]] = {}
        for i, c in enumerate(new_chunks):
            by_doc.setdefault(c.doc_id, []).append(i)
        for doc in documents:
            if doc.id in by_doc:
                rows = by_doc[doc.id]
                chunks += [new_chunks[i] for i in rows]
                vectors.append(new_vectors[rows])
            elif doc.id in reusable and reusable[doc.id][0] == doc.content_hash:
                chunks += reusable[doc.id][1]
                vectors.append(reusable[doc.id][2])
        matrix = (np.ascontiguousarray(np.concatenate(vectors), dtype="float32") if vectors
                  else np.zeros((0, encoder.dimension), "float32"))
        if not chunks:
            raise InputError("The documents hold no text to cut into chunks.")
        removed = len(set(reusable) - set(ids))
        if reusable:
            parts = [f"{unchanged} document{'s' if unchanged != 1 else ''} unchanged (nothing embedded)"]
            if changed:
                parts.append(f"{changed} changed (embedded again)")
            added = len(fresh_docs) - changed
            if added:
                parts.append(f"{added} new (embedded)")
            if removed:
                parts.append(f"{removed} removed from the index")
            notes.append("Reopened the saved index: " + ", ".join(parts) + ".")
        if folder is not None and (fresh_docs or removed or not reusable):
            manifest = {"version": INDEX_VERSION, "encoder": encoder.name, "dimension": encoder.dimension,
                        "chunk_settings": settings.to_dict(),
                        "documents": {d.id: {"hash": d.content_hash, "title": d.title, "source_path": d.source_path,
                                             "size_bytes": d.size_bytes} for d in documents}}
            write_saved(folder, manifest, chunks, matrix)
        index = cls(folder, documents, chunks, matrix, settings, encoder, notes,
                    embedded=len(new_chunks), reused=len(chunks) - len(new_chunks))
        index.open_seconds = time.perf_counter() - started
        return index

    # --- the keyword side ------------------------------------------------------------------------
    def _build_bm25(self):
        import bm25s

        tokens = bm25s.tokenize([c.text for c in self.chunks], stopwords=stopwords(), show_progress=False)
        if not any(w for w in tokens.vocab):  # no chunk holds a keyword (only stop-words or single letters)
            return None
        retriever = bm25s.BM25()  # Lucene's BM25: k1 = 1.5, b = 0.75
        retriever.index(tokens, show_progress=False)
        return retriever

    def bm25_scores(self, words: list[str]):
        import numpy as np

        known = [w for w in words if self._bm25 is not None and w in self._bm25.vocab_dict]
        if not known:
            return np.zeros(len(self.chunks), dtype="float32")
        return np.asarray(self._bm25.get_scores(known), dtype="float32")

    # --- the approximate option ------------------------------------------------------------------
    @property
    def approximate(self) -> bool:
        """Dense search through an HNSW graph (faiss ``IndexHNSWFlat``) instead of comparing every vector."""
        return self._approximate

    @approximate.setter
    def approximate(self, on: bool) -> None:
        if on and self._hnsw is None:
            self._hnsw = build_hnsw(self.vectors)
        self._approximate = bool(on)

    def recall_against_exact(self, k: int = 10, queries=None) -> float:
        """Share of the exact top-k that the HNSW index also returns in its top-k, averaged over queries.

        ``queries``: question texts or vectors; by default up to 200 of the chunks' own vectors, spread evenly.
        """
        import numpy as np

        if self._hnsw is None:
            self._hnsw = build_hnsw(self.vectors)
        if queries is None:
            step = max(1, len(self.vectors) // 200)
            q = self.vectors[::step][:200]
        elif len(queries) and isinstance(queries[0], str):
            q = self.encoder.embed(list(queries), phase="Embedding questions")
        else:
            q = np.ascontiguousarray(queries, dtype="float32")
        return hnsw_recall(self._flat, self._hnsw, q, self.clamp_k(k))

    # --- queries ---------------------------------------------------------------------------------
    def clamp_k(self, k: int) -> int:
        if k < 1:
            raise InputError(f"k must be at least 1 (it is {k}).")
        return min(int(k), len(self.chunks))

    def k_note(self, k: int) -> str:
        """A sentence when ``k`` is more than there are chunks (the search returns them all), else ''."""
        n = len(self.chunks)
        return (f"Only {n} chunk{'s' if n != 1 else ''} exist{'s' if n == 1 else ''}, so k = {k} returns all {n}."
                if k > n else "")

    def embed_question(self, question: str):
        return self.encoder.embed([question], phase="Embedding the question")[0]

    def all_scores(self, question: str) -> dict:
        """Every chunk's score per method, in chunk order: ``{"dense": cosine, "bm25": BM25, "hybrid": RRF}``.

        Dense scores are exact (every vector compared) even when the approximate option is on.
        """
        words = check_question(question)
        dense = self.vectors @ self.embed_question(question)
        bm25 = self.bm25_scores(words)
        return {"dense": dense, "bm25": bm25, "hybrid": self.hybrid_scores(dense, bm25)}

    def hybrid_scores(self, dense, bm25):
        """RRF of the dense ranking (every chunk) and the BM25 ranking (chunks sharing a word)."""
        import numpy as np

        dense_rank = np.argsort(-dense, kind="stable")
        kw = np.argsort(-bm25, kind="stable")
        kw = kw[bm25[kw] > 0]  # BM25 ranks only the chunks sharing a word with the question
        return rrf_scores([dense_rank, kw], len(self.chunks)).astype("float32")

    def search(self, question: str, method: str = "dense", k: int = 4, threshold: float | None = None) -> list[Hit]:
        """The top ``k`` chunks for ``question`` by ``method`` ("dense", "bm25" or "hybrid").

        ``k`` above the number of chunks returns them all (``k_note`` says so); ``threshold`` drops hits
        scoring below it (in the method's own units). Ties keep chunk order. BM25 returns only chunks
        sharing a word with the question.

        Raises
        ------
        InputError
            An empty or stop-word-only question; an unknown method; k < 1.
        """
        import numpy as np

        if method not in METHODS:
            raise InputError(f"There is no search method '{method}'.", f"Use one of: {', '.join(METHODS)}.")
        words = check_question(question)
        k = self.clamp_k(k)
        if method == "dense":
            q = self.embed_question(question)[None, :]
            scores, idx = (self._hnsw if self._approximate and self._hnsw is not None else self._flat).search(q, k)
            pairs = [(int(i), float(s)) for i, s in zip(idx[0], scores[0]) if i >= 0]
        else:
            if method == "bm25":
                scores = self.bm25_scores(words)
                order = [i for i in np.argsort(-scores, kind="stable")[:k] if scores[i] > 0]
            else:
                dense = self.vectors @ self.embed_question(question)
                scores = self.hybrid_scores(dense, self.bm25_scores(words))
                order = np.argsort(-scores, kind="stable")[:k]
            pairs = [(int(i), float(scores[i])) for i in order]
        if threshold is not None:
            pairs = [(i, s) for i, s in pairs if s >= threshold]
        return [Hit(self.chunks[i], s, r, method) for r, (i, s) in enumerate(pairs, start=1)]

    def ranking(self, question: str, method: str):
        """All chunk indices, best first, by ``method`` (for recall@k and MRR)."""
        import numpy as np

        scores = self.all_scores(question)[method]
        return np.argsort(-scores, kind="stable")

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        return [c for c in self.chunks if c.doc_id == doc_id]


def build_hnsw(vectors, m: int = HNSW_M, ef_construction: int = HNSW_EF_CONSTRUCTION,
               ef_search: int = HNSW_EF_SEARCH):
    """A faiss HNSW graph over unit vectors, searched by inner product (= cosine)."""
    import faiss

    index = faiss.IndexHNSWFlat(int(vectors.shape[1]), m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = ef_construction
    index.hnsw.efSearch = ef_search
    if len(vectors):
        index.add(vectors)
    return index


def hnsw_recall(exact, approx, queries, k: int) -> float:
    """Mean share of each query's exact top-k found in the approximate top-k."""
    if k < 1 or not len(queries):
        return 1.0
    _, truth = exact.search(queries, k)
    _, got = approx.search(queries, k)
    total = 0.0
    for t, g in zip(truth, got):
        t = set(int(i) for i in t if i >= 0)
        total += len(t & set(int(i) for i in g)) / max(1, len(t))
    return total / len(queries)
