"""`playground bench`: score the model on multiple-choice benchmarks as lm-evaluation-harness does."""

from __future__ import annotations


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options
    from playground.core.evaluation.benchmark import KINDS

    p = sub.add_parser("bench", help="multiple-choice benchmarks scored by log-likelihood (acc, acc_norm)",
                       description="Score every choice of every item by its log-likelihood after the context, "
                                   "as lm-evaluation-harness does; print acc and acc_norm (per byte) with Wilson "
                                   "95%% intervals and the chance level, one row per system and benchmark.")
    p.add_argument("--tasks", default="bundled",
                   help=f"'bundled' (all four), a comma-separated list of {', '.join(KINDS)}, "
                        "or a .jsonl file of your own (format: resources/benchmarks/README.md)")
    p.add_argument("--adapter", default="", metavar="RUN",
                   help="also score a fine-tuned adapter: a Fine-tune run folder (or its adapter folder)")
    p.add_argument("--precision", default="", help="also score the base model at this format: bf16, fp16, int8, int4")
    p.add_argument("--shots", type=int, default=0, help="k-shot: k other items with their answers first (0-10)")
    p.add_argument("--limit", type=int, default=0, help="score only the first N items of each benchmark")
    p.add_argument("--one-pass-per-choice", action="store_true",
                   help="one forward pass per choice, each reading the whole context, instead of the shared "
                   "context read once and the choices batched after it (slower)")
    p.add_argument("--json", action="store_true", help="print the table as JSON instead")
    add_model_options(p)
    p.set_defaults(run=run)


def benchmarks_from(tasks: str):
    from pathlib import Path

    from playground.core.base.errors import InputError
    from playground.core.evaluation.benchmark import KINDS, bundled_benchmarks, load_benchmark

    tasks = tasks.strip()
    if tasks in ("", "bundled", "all"):
        return bundled_benchmarks()
    if tasks.endswith(".jsonl") or Path(tasks).is_file():
        return [load_benchmark(tasks)]
    names = [t.strip() for t in tasks.split(",") if t.strip()]
    unknown = [n for n in names if n not in KINDS]
    if unknown:
        raise InputError(f"There is no benchmark '{unknown[0]}'.",
                         f"Use 'bundled', a .jsonl file, or some of: {', '.join(KINDS)}.")
    return bundled_benchmarks(names)


def run(args) -> int:
    import json

    from playground.cli.common import load_from_args, terminal_progress
    from playground.core.base.errors import InputError
    from playground.core.base.handle import TaskHandle
    from playground.core.evaluation.benchmark import CONTAMINATION_NOTE
    from playground.core.evaluation.benchmark_report import INTERVAL_NOTE, format_table, summary_dict
    from playground.core.evaluation.benchmark_run import (
        ADAPTER, BASE, PRECISION, BenchSystem, ItemResult, SystemStart, check_systems, run_benchmarks, summarize)

    if args.limit < 0:
        raise InputError("--limit must be 0 (all items) or more.")
    benches = [b.head(args.limit or None) for b in benchmarks_from(args.tasks)]
    systems = [BenchSystem(BASE, args.shots)]
    if args.adapter:
        systems.append(BenchSystem(ADAPTER, args.shots, adapter_dir=args.adapter))
    if args.precision:
        from playground.core.lifecycle.precision import parse_formats

        systems.append(BenchSystem(PRECISION, args.shots, precision=parse_formats(args.precision)[0]))
    check_systems(systems)
    loaded = load_from_args(args)
    results, starts = [], []
    for event in run_benchmarks(loaded, benches, systems, batched=not args.one_pass_per_choice,
                                handle=TaskHandle(terminal_progress)):
        (results if isinstance(event, ItemResult) else starts).append(event)
    summary = summarize(results)
    if args.json:
        print(json.dumps({"results": summary_dict(summary),
                          "provenance": {s.system: s.provenance.as_dict() for s in starts if isinstance(s, SystemStart)}},
                         indent=2))
        return 0
    for s in starts:
        print(f"{s.system}: {s.provenance.line()}")
        for note in s.notes:
            print(f"  note: {note}")
    print()
    print(format_table(summary, {b.name: b.title for b in benches}))
    print()
    print(INTERVAL_NOTE)
    print(CONTAMINATION_NOTE)
    return 0
