"""`playground rag`: index a folder of documents, ask a question with retrieval, evaluate retrieval."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options
    from playground.cli.settings_options import add_options
    from playground.core.retrieval.chunking import ChunkSettings

    p = sub.add_parser("rag", help="retrieval-augmented generation: index documents, ask, evaluate",
                       description="Retrieval-augmented generation with the bundled encoder (all-MiniLM-L6-v2), "
                                   "faiss and BM25. Without --docs the bundled knowledge base is used.")
    rag = p.add_subparsers(dest="rag_command", metavar="ACTION", required=True)

    def common(q, docs=True):
        if docs:
            q.add_argument("--docs", default=None, metavar="DIR",
                           help="a folder of .txt, .md and .pdf files (default: the bundled knowledge base)")
        q.add_argument("--index-folder", default=None, metavar="DIR",
                       help="where the index is kept (default: a folder per knowledge base in the user cache)")
        add_options(q, ChunkSettings)
        q.add_argument("--approximate", action="store_true",
                       help="search with an HNSW graph (faiss) instead of comparing every vector")

    q = rag.add_parser("index", help="index a folder of documents (only new or changed files are embedded)")
    q.add_argument("dir", metavar="DIR", help="a folder of .txt, .md and .pdf files ('bundled': the bundled base)")
    common(q, docs=False)
    q.set_defaults(run=run_index)

    q = rag.add_parser("ask", help="retrieve chunks for a question and answer it with and without them")
    q.add_argument("question", help="the question, in quotes")
    common(q)
    q.add_argument("--k", type=int, default=4, help="how many chunks to put in the prompt (default 4)")
    q.add_argument("--method", choices=["dense", "bm25", "hybrid"], default="hybrid",
                   help="dense: meaning (cosine of vectors); bm25: keywords; hybrid: the two rankings fused "
                        "(reciprocal rank fusion). Default hybrid")
    q.add_argument("--threshold", type=float, default=None, help="drop chunks scoring below this")
    q.add_argument("--no-answer", action="store_true", help="only retrieve: show the chunks and the prompt")
    q.add_argument("--show-prompt", action="store_true", help="print the prompt exactly as the model reads it")
    q.add_argument("--max-new-tokens", type=int, default=40, help="the answer's length limit (default 40)")
    add_model_options(q)
    q.set_defaults(run=run_ask)

    q = rag.add_parser("eval", help="recall@k and MRR of dense, BM25 and hybrid on the bundled questions")
    common(q, docs=False)
    q.add_argument("--ks", default="1,3,5,10", help="the k of recall@k, comma-separated (default 1,3,5,10)")
    q.add_argument("--answers", action="store_true",
                   help="also answer every question with and without retrieval (slow: two generations each)")
    q.add_argument("--k", type=int, default=4, help="chunks in the prompt for --answers (default 4)")
    q.add_argument("--method", choices=["dense", "bm25", "hybrid"], default="hybrid",
                   help="the search used for --answers (default hybrid)")
    q.add_argument("--limit", type=int, default=0, help="use only the first N questions (0: all)")
    add_model_options(q)
    q.set_defaults(run=run_eval)


def _handle():
    from playground.cli.common import terminal_progress
    from playground.core.base.handle import TaskHandle

    return TaskHandle(terminal_progress)


def _open(args, docs_dir):
    """(knowledge base or None, documents, index) for the bundled base or a folder."""
    from playground.cli.settings_options import from_args
    from playground.core.retrieval import RagIndex, load_bundled, load_folder
    from playground.core.retrieval.chunking import ChunkSettings
    from playground.core.retrieval.store import default_index_folder

    settings = from_args(ChunkSettings, args)
    settings.validate()
    if docs_dir in (None, "bundled"):
        base = load_bundled()
        docs, folder = base.documents, default_index_folder(base.name)
    else:
        base = None
        docs, folder = load_folder(docs_dir, _handle()), default_index_folder("", docs_dir)
    index = RagIndex.open_or_build(args.index_folder or folder, docs, settings, handle=_handle())
    if args.approximate:
        index.approximate = True
    for d in docs:
        if d.note:
            print(f"note: {d.note}", file=sys.stderr)
    return base, docs, index


def run_index(args) -> int:
    from playground.core.base.units import format_bytes

    _, docs, index = _open(args, args.dir)
    print(f"{len(docs)} documents ({format_bytes(sum(d.size_bytes for d in docs))}), {len(index.chunks)} chunks "
          f"({index.settings.describe()}), encoder {index.encoder.name}")
    for note in index.notes:
        print(note)
    print(f"Embedded {index.embedded_chunks} chunks, reused {index.reused_chunks} from disk, "
          f"in {index.open_seconds:.2f} s. Index folder: {index.folder}")
    return 0


def run_ask(args) -> int:
    from playground.cli.common import load_from_args
    from playground.core.base.units import format_score
    from playground.core.retrieval import METHOD_LABELS, answer_settings, build_prompt, generate_answer, score_answer

    base, _, index = _open(args, args.docs)
    for note in index.notes:
        print(note, file=sys.stderr)
    hits = index.search(args.question, args.method, args.k, args.threshold)
    note = index.k_note(args.k)
    print(f"Top {len(hits)} chunks by {METHOD_LABELS[args.method]}" + (f" ({note})" if note else "") + ":")
    for h in hits:
        text = " ".join(h.chunk.text.split())
        print(f"  {h.rank}. [{h.chunk.id}] score {h.score:.3f}  {text[:100]}{'…' if len(text) > 100 else ''}")
    if args.no_answer and not args.show_prompt:
        return 0
    loaded = load_from_args(args)
    prompt = build_prompt(args.question, hits, loaded)
    print(f"Prompt: {prompt.describe()}")
    if args.show_prompt:
        print("----- prompt -----\n" + prompt.text + "\n------------------")
    if args.no_answer:
        return 0
    settings = answer_settings(args.max_new_tokens)
    gold = None
    if base is not None:
        gold = next((q.answer for q in base.questions if q.question.strip().lower() == args.question.strip().lower()),
                    None)
    bare = build_prompt(args.question, [], loaded)
    for label, p in (("Without retrieval", bare), (f"With {len(hits)} chunks ({args.method}, k={args.k})", prompt)):
        answer = generate_answer(loaded, p, settings)
        print(f"{label}: {answer}")
        if gold is not None:
            s = score_answer(answer, gold)
            print(f"  against the gold answer '{gold}': exact match {'yes' if s.exact_match else 'no'}, token F1 "
                  f"{s.token_f1 * 100:.1f}, ROUGE-L {format_score(s.rouge_l, 'rougeL')}")
    print(f"Model {loaded.info.name}, greedy, {args.max_new_tokens} new tokens at most; encoder {index.encoder.name}, "
          f"{index.settings.describe()}.")
    return 0


def run_eval(args) -> int:
    from playground.core.base.errors import InputError
    from playground.core.retrieval import answer_accuracy, evaluate_retrieval

    try:
        ks = tuple(int(k) for k in args.ks.split(",") if k.strip())
    except ValueError:
        raise InputError(f"--ks must be whole numbers separated by commas (got '{args.ks}').") from None
    base, _, index = _open(args, None)
    questions = base.questions[:args.limit] if args.limit else base.questions
    report = evaluate_retrieval(index, questions, ks, handle=_handle())
    print(f"Retrieval on the bundled knowledge base '{base.name}': {len(questions)} questions, {len(index.chunks)} "
          f"chunks ({index.settings.describe()}); a chunk counts as relevant when it comes from the question's "
          "gold passage.")
    print(report.table())
    if args.answers:
        from playground.cli.common import load_from_args

        loaded = load_from_args(args)
        acc = answer_accuracy(loaded, index, questions, args.k, _handle(), args.method)
        print(f"\nAnswers of {loaded.info.name} (greedy), scored against the gold answers "
              "(gold found: the gold answer appears in the answer):")
        print(acc.table())
    return 0
