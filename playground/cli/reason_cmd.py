"""`playground reason`: the reasoning strategies (direct, chain-of-thought, self-consistency, PAL) on one
question or over a problem set, with accuracy per strategy and its 95% interval."""

from __future__ import annotations

import json
import sys


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options
    from playground.cli.settings_options import add_options
    from playground.core.reasoning.prompts import STRATEGIES
    from playground.core.reasoning.settings import ReasoningSettings

    p = sub.add_parser("reason", help="compare reasoning strategies (direct, chain-of-thought, self-consistency, PAL)",
                       description="Answer word problems with each strategy and grade the numbers against the gold "
                                   "answers. Give a QUESTION for one problem, or --set for a whole set.")
    p.add_argument("question", nargs="?", default=None, help="one word problem, in quotes (or use --set)")
    p.add_argument("--strategy", default="all", metavar="NAMES",
                   help=f"comma-separated: {', '.join(STRATEGIES)} (cot: zero-shot chain-of-thought, fewshot: "
                        "chain-of-thought with worked examples, sc: self-consistency), or all (default)")
    p.add_argument("--set", dest="problem_set", default=None, metavar="SET",
                   help="'bundled' (the project's word problems), 'knowledge' (the ones needing the Kestrany "
                        "documents) or a .jsonl file of problems")
    p.add_argument("--limit", type=int, default=None, help="only the first N problems of the set")
    p.add_argument("--gold", default=None, help="the gold answer of QUESTION (a number), to grade it")
    p.add_argument("--no-chat-template", dest="use_chat_template", action="store_false", default=True,
                   help="write the turns as plain Q: / A: text instead of the model's chat template")
    p.add_argument("--show-prompt", action="store_true", help="print each strategy's prompt as the model reads it")
    p.add_argument("--json", action="store_true", help="print the results as one JSON object")
    add_options(p, ReasoningSettings)
    add_model_options(p)
    p.set_defaults(run=run)


def _strategies(text: str) -> list[str]:
    from playground.core.reasoning.prompts import STRATEGIES
    from playground.core.reasoning.strategies import check_strategies

    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    return list(STRATEGIES) if names in ([], ["all"]) else check_strategies(names)


def _problems(args):
    from playground.core.base.errors import InputError
    from playground.core.reasoning.problems import bundled_problems, load_problems, own_problem, select

    if args.question and args.problem_set:
        raise InputError("Give either a QUESTION or --set, not both.")
    if args.question is not None:
        return [own_problem(args.question, args.gold)], False
    if not args.problem_set:
        raise InputError("Nothing to solve.", "Give a QUESTION in quotes, or --set bundled.")
    if args.problem_set == "bundled":
        problems = bundled_problems()
    elif args.problem_set == "knowledge":
        problems = bundled_problems(kinds=("knowledge",))
    else:
        problems = load_problems(args.problem_set)
    return select(problems, args.limit), True


def run(args) -> int:
    from playground.cli.common import load_from_args, terminal_progress
    from playground.cli.settings_options import from_args
    from playground.core.base.handle import TaskHandle
    from playground.core.base.provenance import provenance_of
    from playground.core.reasoning.settings import ReasoningSettings

    settings = from_args(ReasoningSettings, args)
    settings.validate()
    strategies = _strategies(args.strategy)
    problems, is_set = _problems(args)
    loaded = load_from_args(args)
    prov = provenance_of(loaded, prompt=f"strategies: {', '.join(strategies)}", settings=settings.describe())
    handle = TaskHandle(terminal_progress)
    if is_set:
        return _run_set(loaded, problems, strategies, settings, handle, prov, args)
    return _run_one(loaded, problems[0], strategies, settings, handle, prov, args)


def _run_one(loaded, problem, strategies, settings, handle, prov, args) -> int:
    from playground.core.reasoning.answers import format_number
    from playground.core.reasoning.strategies import compare

    results = compare(loaded, problem, strategies, settings, handle)
    if args.json:
        print(json.dumps({"provenance": prov.as_dict(), "question": problem.question, "gold": problem.answer,
                          "results": [r.as_dict() for r in results]}, ensure_ascii=False))
        return 0
    print(prov.line())
    print(f"Problem: {problem.question}" + ("" if problem.answer is None else f"   (gold {format_number(problem.answer)})"))
    for r in results:
        print(f"\n== {r.label}: {format_number(r.answer)} · {r.verdict()} · {r.tokens} new tokens · {r.seconds:.1f} s")
        if args.show_prompt:
            print("-- prompt --\n" + r.prompt + "\n-- reply --")
        if r.vote is not None:
            for i, path in enumerate(r.paths, start=1):
                print(f"[path {i}, seed {path.seed}] → {format_number(path.answer)}: {_one_line(path.text)}")
            print(f"vote: {r.vote.describe()} → {format_number(r.vote.winner)}")
        elif r.strategy == "pal":
            print(r.program or "(no program)")
            print(f"sandbox: {r.sandbox.describe() if r.sandbox else '—'}")
        else:
            print(r.text.strip())
    return 0


def _one_line(text: str, width: int = 100) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _run_set(loaded, problems, strategies, settings, handle, prov, args) -> int:
    from playground.cli.common import stop_on_signals
    from playground.core.reasoning.evaluation import run_set

    restore = stop_on_signals(lambda *_: handle.request_stop())
    try:
        report = run_set(loaded, problems, strategies, settings, handle)
    finally:
        restore()
    if args.json:
        print(json.dumps({"provenance": prov.as_dict(), **report.as_dict()}, ensure_ascii=False))
        return 0
    print(prov.line())
    print(f"{report.done} of {report.total} problems\n")
    print(report.table())
    if loaded.info.name.lower().startswith("smollm2-135m"):
        print("\nThe bundled 135M model is small for multi-step arithmetic: expect low accuracy for every strategy. "
              "Give --model a larger instruction model folder to see chain-of-thought and PAL pull ahead.",
              file=sys.stderr)
    return 0
