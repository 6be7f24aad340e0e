"""Retrieval figures (issue 30), printed with the machine load beside them (the CPU may be shared):

- embedding throughput (chunks/s) of the bundled encoder all-MiniLM-L6-v2 on the CPU;
- time to index the bundled knowledge base and a synthetic ~1,000-page text, first time and reopened;
- query latency p50/p95, exact (faiss IndexFlatIP) and approximate (faiss HNSW), at 1k, 10k and 100k
  chunks of synthetic 384-d unit vectors (clustered: a Gaussian mixture), with the HNSW recall@10;
- the retrieval part of a query on the bundled base (embed the question + search), per method;
- recall@k and MRR of dense, BM25 and hybrid on the bundled questions;
- with --answers: the bundled model's answer accuracy without and with retrieval (slow).

Targets: retrieval part of a query <= 50 ms on the bundled base; reopening <= 1 s; HNSW recall@10 >= 0.95
at 100k chunks.

    PLAYGROUND_HOME=/tmp/pg-bench python bench/rag_bench.py [--pages 1000] [--sizes 1000,10000,100000]
        [--queries 200] [--answers] [--limit N] [--threads N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

WORDS = ("harbour ferry island council lighthouse storm museum keeper boat tide causeway festival lantern "
         "school doctor library brewery turbine loch hill seal puffin kelp herring fiddle chapel inn bus "
         "timetable winter summer morning evening north south east west village pier cargo fisherman "
         "market weather wind rain cliff beach road bridge garden church square tower mill farm sheep").split()


def load() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def synthetic_pages(pages: int, seed: int = 0) -> str:
    """~3,000 characters a page of sentences drawn from a small vocabulary with numbers in them."""
    import random

    rnd = random.Random(seed)
    out = []
    for p in range(pages):
        chars = 0
        sentences = []
        while chars < 3000:
            n = rnd.randint(8, 18)
            s = " ".join(rnd.choice(WORDS) for _ in range(n)).capitalize() + f" in {rnd.randint(1800, 2024)}."
            sentences.append(s)
            chars += len(s) + 1
        out.append(f"Page {p + 1}.\n" + " ".join(sentences))
    return "\n\n".join(out)


def percentiles(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    p50 = statistics.median(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return p50 * 1000, p95 * 1000


def clustered_vectors(n: int, d: int = 384, clusters: int = 1000, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, d)).astype("float32")
    v = centres[rng.integers(0, clusters, n)] + 0.6 * rng.standard_normal((n, d)).astype("float32")
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return np.ascontiguousarray(v)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=1000, help="pages of the synthetic text (0: skip)")
    ap.add_argument("--sizes", default="1000,10000,100000", help="chunk counts for the latency table")
    ap.add_argument("--queries", type=int, default=200, help="queries per size")
    ap.add_argument("--answers", action="store_true", help="the bundled model's accuracy with / without retrieval")
    ap.add_argument("--limit", type=int, default=0, help="questions for --answers (0: all)")
    ap.add_argument("--k", type=int, default=4)
    ap.add_argument("--threads", type=int, default=0, help="torch / faiss CPU threads (0: default)")
    args = ap.parse_args()

    import _common

    torch = _common.quiet_torch(args.threads)
    import faiss
    import numpy as np

    if args.threads:
        faiss.omp_set_num_threads(args.threads)
    from playground.core.retrieval import (
        METHODS,
        ChunkSettings,
        Document,
        Encoder,
        RagIndex,
        evaluate_retrieval,
        load_bundled,
    )
    from playground.core.retrieval.index import build_hnsw, hnsw_recall

    print(f"# RAG bench · torch threads {torch.get_num_threads()} · faiss threads {faiss.omp_get_max_threads()} · "
          f"load: {load()}")
    base = load_bundled()
    settings = ChunkSettings()
    tmp = Path(tempfile.mkdtemp(prefix="rag-bench-"))

    # --- the bundled base: first index, reopen, throughput ---------------------------------------------
    t0 = time.perf_counter()
    encoder = Encoder()
    print(f"\nEncoder load: {time.perf_counter() - t0:.2f} s")
    encoder.embed(["warm up the encoder"])
    first = RagIndex.open_or_build(tmp / "bundled", base.documents, settings, encoder)
    size = sum(d.size_bytes for d in base.documents)
    print(f"Bundled base '{base.name}': {len(base.documents)} documents, {size / 1024:.1f} KiB, {len(first.chunks)} "
          f"chunks ({settings.describe()})")
    print(f"  index, first time: {first.open_seconds:.2f} s ({first.embedded_chunks} chunks embedded)")
    reopen = [RagIndex.open_or_build(tmp / "bundled", base.documents, settings, encoder) for _ in range(5)]
    print(f"  reopened: median {statistics.median(r.open_seconds for r in reopen):.3f} s over 5 "
          f"({reopen[0].embedded_chunks} chunks embedded)  [target <= 1 s]")
    texts = [c.text for c in first.chunks]
    t0 = time.perf_counter()
    encoder.embed(texts)
    dt = time.perf_counter() - t0
    print(f"  embedding throughput: {len(texts) / dt:.1f} chunks/s ({len(texts)} chunks of <= 128 tokens, "
          f"batch {encoder.batch_size}, CPU)")

    # --- the retrieval part of a query on the bundled base ------------------------------------------------
    questions = [q.question for q in base.questions]
    index = reopen[-1]
    for q in questions[:5]:
        index.search(q, "hybrid", 4)
    print(f"\nRetrieval part of a query on the bundled base ({len(index.chunks)} chunks; embed the question + "
          f"search), {len(questions)} questions x 3 rounds  [target <= 50 ms]")
    for method in METHODS:
        times = []
        for _ in range(3):
            for q in questions:
                t0 = time.perf_counter()
                index.search(q, method, 4)
                times.append(time.perf_counter() - t0)
        p50, p95 = percentiles(times)
        print(f"  {method:7} p50 {p50:6.1f} ms   p95 {p95:6.1f} ms")
    times = []
    for q in questions:
        t0 = time.perf_counter()
        index.all_scores(q)
        times.append(time.perf_counter() - t0)
    p50, p95 = percentiles(times)
    print(f"  all_scores (every chunk, three methods, for the bar chart) p50 {p50:.1f} ms  p95 {p95:.1f} ms")

    # --- retrieval quality ------------------------------------------------------------------------------
    report = evaluate_retrieval(index, base.questions, (1, 3, 5, 10))
    print(f"\nRetrieval quality on the {len(base.questions)} bundled questions (relevant: chunks of the gold passage)")
    print(report.table())

    # --- a ~1,000-page text -------------------------------------------------------------------------------
    if args.pages:
        text = synthetic_pages(args.pages)
        path = tmp / "book.txt"
        path.write_text(text, encoding="utf-8")
        doc = Document("book", "book", str(path), text, path.stat().st_size)
        t0 = time.perf_counter()
        big = RagIndex.open_or_build(tmp / "book", [doc], settings, encoder)
        first_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        again = RagIndex.open_or_build(tmp / "book", [doc], settings, encoder)
        print(f"\nSynthetic text: {args.pages} pages, {doc.size_bytes / 1e6:.2f} MB, {len(big.chunks)} chunks")
        print(f"  index, first time: {first_s:.1f} s ({big.embedded_chunks / first_s:.1f} chunks/s overall)")
        print(f"  reopened: {time.perf_counter() - t0:.2f} s ({again.embedded_chunks} chunks embedded)  [target <= 1 s]")

    # --- latency and recall at scale -------------------------------------------------------------------------
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    print(f"\nSearch latency (k = 10, one query at a time, {args.queries} queries; vector search only) and HNSW "
          "recall@10 against exact, synthetic clustered 384-d unit vectors")
    print(f"  {'chunks':>8} {'exact p50':>10} {'exact p95':>10} {'HNSW p50':>9} {'HNSW p95':>9} {'build':>7} "
          f"{'recall@10':>9}")
    for n in sizes:
        vectors = clustered_vectors(n)
        rng = np.random.default_rng(1)
        queries = vectors[rng.integers(0, n, args.queries)] + 0.3 * rng.standard_normal(
            (args.queries, 384)).astype("float32")
        queries /= np.linalg.norm(queries, axis=1, keepdims=True)
        flat = faiss.IndexFlatIP(384)
        flat.add(vectors)
        t0 = time.perf_counter()
        hnsw = build_hnsw(vectors)
        build = time.perf_counter() - t0
        res = {}
        for name, idx in (("exact", flat), ("hnsw", hnsw)):
            times = []
            for q in queries:
                t0 = time.perf_counter()
                idx.search(q[None, :], 10)
                times.append(time.perf_counter() - t0)
            res[name] = percentiles(times)
        recall = hnsw_recall(flat, hnsw, queries, 10)
        print(f"  {n:>8,} {res['exact'][0]:8.2f}ms {res['exact'][1]:8.2f}ms {res['hnsw'][0]:7.2f}ms "
              f"{res['hnsw'][1]:7.2f}ms {build:6.1f}s {recall:9.3f}")

    # --- answers ---------------------------------------------------------------------------------------------
    if args.answers:
        from playground.core.models.loading import load_model
        from playground.core.models.sources import ModelSource
        from playground.core.retrieval import answer_accuracy

        loaded = load_model(ModelSource("bundled"), device="cpu")
        qs = base.questions[:args.limit] if args.limit else base.questions
        t0 = time.perf_counter()
        acc = answer_accuracy(loaded, index, qs, args.k, method="hybrid")
        print(f"\nAnswers of {loaded.info.name} (greedy, 40 new tokens at most) on {len(qs)} bundled questions, "
              f"hybrid retrieval k = {args.k}; {time.perf_counter() - t0:.0f} s")
        print(acc.table())
    print(f"\nload at the end: {load()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
