"""`playground react "question"`: a ReAct trace (Thought, Action, Observation) printed step by step."""

from __future__ import annotations


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options, finite_float
    from playground.core.reasoning.react import MAX_STEPS
    from playground.core.reasoning.tools import DEFAULT_TIMEOUT_S

    p = sub.add_parser("react", help="answer a question with tools (calculator, knowledge-base search, finish), "
                                     "printing the ReAct trace",
                       description="The model alternates Thought, Action (a tool and its input) and Observation "
                                   "(the tool's real output) until it calls finish, writes no readable Action, or "
                                   "reaches the step limit. At each Action line the probability of each tool name is "
                                   "printed. The search tool reads the bundled knowledge base (Build tab).")
    p.add_argument("question", help="the question to answer")
    p.add_argument("--constrain", action="store_true",
                   help="constrain each Action line to a valid tool call (a regex grammar through xgrammar)")
    p.add_argument("--max-steps", type=int, default=MAX_STEPS, help=f"the step limit, 1 to 30 (default {MAX_STEPS})")
    p.add_argument("--tool-timeout", type=finite_float, default=DEFAULT_TIMEOUT_S,
                   help=f"seconds a tool may take before its Observation says it timed out (default {DEFAULT_TIMEOUT_S:g})")
    add_model_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    from playground.cli.common import load_from_args
    from playground.core.base.errors import InputError
    from playground.core.reasoning.react import step_text
    from playground.core.reasoning.react_session import open_react

    if not args.question.strip():
        raise InputError("The question is empty.", 'Give a question, e.g. playground react "What is 17 * 23?"')
    if not 0 < args.tool_timeout <= 600:
        raise InputError(f"The tool timeout must be between 0 and 600 seconds (got {args.tool_timeout:g}).", "Try 10.")
    loaded = load_from_args(args)
    trace = open_react(loaded, args.question, constrain=args.constrain, max_steps=args.max_steps,
                       timeout_s=args.tool_timeout)
    print(f"Model: {loaded.info.name} · greedy · Action line {'constrained' if args.constrain else 'free'} · "
          f"step limit {trace.max_steps}")
    print(f"Question: {trace.question}")
    for i, step in enumerate(trace.run_to_end(), 1):
        print(step_text(i, step), flush=True)
    print(trace.status_line())
    return 0
