"""Retrieval quality over a question set (recall@k and MRR per method) and answer accuracy with and
without retrieval."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from playground.core.base.errors import Cancelled, InputError
from playground.core.base.progress import report_step
from playground.core.retrieval.index import METHOD_LABELS, METHODS


def first_relevant_rank(ranking: Sequence[int], relevant: set[int]) -> int | None:
    """1-based rank of the first relevant item in ``ranking``, None when none is ranked."""
    for r, i in enumerate(ranking, start=1):
        if int(i) in relevant:
            return r
    return None


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of questions whose first relevant chunk is in the top k (one gold passage per question)."""
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1 / rank of the first relevant chunk (0 when it is not ranked at all)."""
    return sum(1.0 / r for r in ranks if r) / len(ranks) if ranks else 0.0


@dataclass
class RetrievalReport:
    """recall@k and MRR per method; ``ranks[method][i]`` is question i's first relevant rank."""

    ks: tuple[int, ...]
    question_ids: list[str]
    ranks: dict[str, list[int | None]] = field(default_factory=dict)

    def recall(self, method: str, k: int) -> float:
        return recall_at_k(self.ranks[method], k)

    def mrr(self, method: str) -> float:
        return mean_reciprocal_rank(self.ranks[method])

    def rows(self) -> list[list[str]]:
        """Header and one row per method, as shown (two decimals: shares of questions)."""
        head = ["Method"] + [f"recall@{k}" for k in self.ks] + ["MRR"]
        return [head] + [[METHOD_LABELS[m]] + [f"{self.recall(m, k):.2f}" for k in self.ks] + [f"{self.mrr(m):.2f}"]
                         for m in self.ranks]

    def table(self) -> str:
        rows = self.rows()
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths)))
                         for r in rows)


def evaluate_retrieval(index, questions, ks: Sequence[int] = (1, 3, 5, 10), methods: Sequence[str] = METHODS,
                       handle=None) -> RetrievalReport:
    """recall@k and MRR of each method over ``questions`` (a chunk is relevant when its document is the
    question's ``passage_id``). The questions are embedded in one batch."""
    import numpy as np

    from playground.core.retrieval.index import check_question

    questions = list(questions)
    if not questions:
        raise InputError("There are no questions to evaluate with.", "The bundled knowledge base has a question set.")
    known = {d.id for d in index.documents}
    missing = sorted({q.passage_id for q in questions} - known)
    if missing:
        raise InputError(f"{len(missing)} question(s) point at documents that are not in the index "
                         f"({', '.join(missing[:5])}).", "Index the knowledge base the questions belong to.")
    words = [check_question(q.question) for q in questions]
    qv = index.encoder.embed([q.question for q in questions], handle, phase="Embedding the questions")
    dense_all = qv @ index.vectors.T
    report = RetrievalReport(tuple(int(k) for k in ks), [q.id for q in questions], {m: [] for m in methods})
    for i, q in enumerate(questions):
        if handle is not None and handle.cancelled():
            raise Cancelled()
        report_step(handle, "Ranking chunks", i, len(questions))
        relevant = {j for j, c in enumerate(index.chunks) if c.doc_id == q.passage_id}
        dense = dense_all[i]
        bm25 = index.bm25_scores(words[i])
        scores = {"dense": dense, "bm25": bm25, "hybrid": index.hybrid_scores(dense, bm25)}
        for m in methods:
            order = np.argsort(-scores[m], kind="stable")
            if m == "bm25":
                order = order[scores[m][order] > 0]  # BM25 ranks only chunks sharing a word
            report.ranks[m].append(first_relevant_rank(order, relevant))
    report_step(handle, "Ranking chunks", len(questions), len(questions))
    return report


@dataclass
class AnswerRow:
    question_id: str
    question: str
    gold: str
    without: str
    with_retrieval: str
    score_without: object
    score_with: object
    chunk_ids: list[str]


@dataclass
class AccuracyReport:
    """Answers with and without retrieval per question, and the means of their scores."""

    k: int
    method: str
    rows: list[AnswerRow] = field(default_factory=list)

    def mean(self, which: str, attr: str = "contains") -> float:
        scores = [getattr(r.score_with if which == "with" else r.score_without, attr) for r in self.rows]
        return float(sum(scores)) / len(scores) if scores else 0.0

    def table(self) -> str:
        lines = [f"{'':22}{'gold found':>11}{'exact':>8}{'token F1':>10}{'ROUGE-L':>9}"]
        for which, label in (("without", "without retrieval"), ("with", f"with {self.method}, k={self.k}")):
            lines.append(f"{label:22}{self.mean(which) * 100:10.1f}%{self.mean(which, 'exact_match') * 100:7.1f}%"
                         f"{self.mean(which, 'token_f1') * 100:10.1f}{self.mean(which, 'rouge_l') * 100:9.1f}")
        return "\n".join(lines)


def answer_accuracy(loaded, index, questions, k: int = 4, handle=None, method: str = "hybrid",
                    settings=None, use_chat_template: bool | None = None) -> AccuracyReport:
    """Each question answered without retrieval and with the top ``k`` chunks by ``method``, scored against
    its gold answer (``score_answer``); greedy, so it repeats. ``report_step(handle, "Answering", i, n)``."""
    from playground.core.retrieval.answering import generate_answer
    from playground.core.retrieval.prompt import build_prompt
    from playground.core.retrieval.scoring import score_answer

    questions = list(questions)
    if not questions:
        raise InputError("There are no questions to answer.")
    report = AccuracyReport(int(k), method)
    cancelled = (lambda: handle.cancelled()) if handle is not None else None
    for i, q in enumerate(questions):
        if handle is not None and handle.cancelled():
            raise Cancelled()
        report_step(handle, "Answering", i, len(questions), q.id)
        hits = index.search(q.question, method, k)
        bare = generate_answer(loaded, build_prompt(q.question, [], loaded, use_chat_template), settings, cancelled)
        grounded = generate_answer(loaded, build_prompt(q.question, hits, loaded, use_chat_template), settings,
                                   cancelled)
        report.rows.append(AnswerRow(q.id, q.question, q.answer, bare, grounded, score_answer(bare, q.answer),
                                     score_answer(grounded, q.answer), [h.chunk.id for h in hits]))
    report_step(handle, "Answering", len(questions), len(questions))
    return report
