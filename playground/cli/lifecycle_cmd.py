"""`playground precision`, `playground forgetting` and `playground scaling calc|run`: the lifecycle lab,
headless."""

from __future__ import annotations

import sys


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options

    p = sub.add_parser("precision", help="run the same model at several number formats and compare them",
                       description="Measure weight bytes, perplexity on 20 bundled test summaries, KL "
                                   "divergence and top-1 agreement against FP32, decode speed and a greedy "
                                   "completion for each format.")
    p.add_argument("--formats", default="fp32,bf16,fp16,int8,int4",
                   help="comma-separated: fp32, bf16, fp16, int8, int4, int2")
    p.add_argument("--texts", type=int, default=20, help="how many test summaries to measure perplexity on")
    p.add_argument("--new-tokens", type=int, default=24, help="greedy tokens generated per format")
    add_model_options(p)
    p.set_defaults(run=run_precision)

    f = sub.add_parser("forgetting", help="what fine-tuning cost elsewhere: probes on finished runs and their base",
                       description="Ask the base model, its BF16 copy (the noise floor) and each run's trained "
                                   "model the forgetting probes; print learning (validation loss) against "
                                   "forgetting (answers kept, fact margin). Writes forgetting.json in each run.")
    f.add_argument("runs", nargs="+", metavar="RUN_DIR", help="finished fine-tuning run folders (same base model)")
    f.add_argument("--plot", default=None, help="also save the learning-vs-forgetting plot to this PNG")
    f.set_defaults(run=run_forgetting)

    s = sub.add_parser("scaling", help="scaling-law calculator and a miniature scaling experiment")
    ssub = s.add_subparsers(dest="scaling_command", metavar="WHAT", required=True)
    c = ssub.add_parser("calc", help="compute, PF/s-days, tokens per parameter, both fits' losses and optima")
    c.add_argument("--params", type=float, default=None, help="N, the parameter count (e.g. 70e9)")
    c.add_argument("--tokens", type=float, default=None, help="D, the training tokens (e.g. 1.4e12)")
    c.add_argument("--flops", type=float, default=None, help="C, a compute budget in FLOPs, instead of N and D")
    c.add_argument("--gpu-hours", type=float, default=None, help="a budget in GPU-hours (with --gpu-flops)")
    c.add_argument("--gpu-flops", type=float, default=None, help="FLOP/s of one GPU as really used")
    c.set_defaults(run=run_calc)
    r = ssub.add_parser("run", help="train tiny byte-level Llamas for the same FLOP budget")
    r.add_argument("--flops", type=float, default=1e12, help="the budget per model (default 1e12)")
    r.add_argument("--sizes", default="", help="comma-separated size names (default all: 30k,95k,280k,580k,765k)")
    r.add_argument("--plot", default=None, help="also save the loss-vs-FLOPs plot to this PNG")
    r.add_argument("--max-minutes", type=float, default=MAX_MINUTES,
                   help=f"refuse a run estimated (from a few timed steps) to take longer (default {MAX_MINUTES:g})")
    r.add_argument("--force", action="store_true", help="run even when the estimate is beyond --max-minutes")
    r.set_defaults(run=run_scaling)


#: `scaling run` refuses a run estimated to take longer than this unless --force.
from playground.core.lifecycle.mini_scaling import DEFAULT_MAX_MINUTES as MAX_MINUTES  # noqa: E402 (one limit, the tab's too)


def run_precision(args) -> int:
    from playground.cli.common import load_from_args, terminal_progress
    from playground.core.base.errors import InputError
    from playground.core.base.handle import TaskHandle
    from playground.core.lifecycle import precision as P

    formats = P.parse_formats(args.formats)
    if args.texts < 1 or args.new_tokens < 2:
        raise InputError("--texts must be at least 1 and --new-tokens at least 2.")
    loaded = load_from_args(args)
    if loaded.is_encoder_decoder or loaded.info.kind != "decoder-only":
        raise InputError("The precision lab measures next-token models (decoder-only).",
                         "Use the bundled model or another causal LM.")
    rows = []
    for row in P.precision_sweep(loaded.model, loaded.tokenizer, loaded.device, formats,
                                 texts=P.default_texts(args.texts), new_tokens=args.new_tokens,
                                 handle=TaskHandle(terminal_progress)):
        rows.append(row)
    print(P.format_table(rows))
    print()
    print(P.TIED_NOTE)
    if loaded.source.kind == "bundled":
        print(P.BUNDLED_NOTE)
    return 0


def run_calc(args) -> int:
    from playground.core.base.errors import InputError
    from playground.core.lifecycle import scaling as S

    flops = args.flops
    if args.gpu_hours is not None or args.gpu_flops is not None:
        if args.gpu_hours is None or args.gpu_flops is None:
            raise InputError("--gpu-hours needs --gpu-flops (and the other way round).")
        flops = S.flops_from_gpu_hours(args.gpu_hours, args.gpu_flops)
    if flops is not None and (args.params is not None or args.tokens is not None):
        raise InputError("Give N and D, or a budget, not both.")
    calc = S.calculate(args.params, args.tokens, flops)
    print(S.describe(calc))
    print()
    print(S.fits_note(calc))
    return 0


def run_scaling(args) -> int:
    from playground.cli.common import terminal_progress
    from playground.core.base.errors import InputError
    from playground.core.base.handle import TaskHandle
    from playground.core.lifecycle import mini_scaling as M

    sizes = M.SIZES
    if args.sizes:
        names = [n.strip() for n in args.sizes.split(",") if n.strip()]
        known = {s.name: s for s in M.SIZES}
        bad = [n for n in names if n not in known]
        if bad:
            raise InputError(f"Unknown size: {', '.join(bad)}.", f"Use some of: {', '.join(known)}.")
        sizes = [known[n] for n in names]
    if not args.max_minutes > 0:
        raise InputError("--max-minutes must be above 0.", f"The default is {MAX_MINUTES:g}.")
    M.check_budget(args.flops, sizes)
    estimate = M.estimate_run(args.flops, sizes)
    print(f"Estimated time: {estimate.describe()}.", file=sys.stderr, flush=True)
    if not args.force:
        M.check_duration(estimate, args.max_minutes * 60, args.flops)
    results, points = [], []
    for item in M.run_experiment(args.flops, sizes, handle=TaskHandle(_size_progress())):
        if isinstance(item, M.SizeResult):
            results.append(item)
            print(f"{item.size}: held-out loss {item.final_loss:.3f} after {item.tokens:,} tokens "
                  f"({item.seconds:.1f} s)", file=sys.stderr)
        else:
            points.append(item)
    print(M.describe_results(results, args.flops, stopped=len(results) < len(sizes)))
    if args.plot:
        from playground.core.lifecycle.scaling_plot import save_plot

        save_plot(points, results, args.plot)
        print(f"plot saved to {args.plot}")
    return 0


def _size_progress():
    """Progress of the mini experiment: the terminal's line on a tty; elsewhere (a log, a pipe) every
    report as a line (the experiment reports when a size starts and about every 10% of it)."""
    from playground.cli.common import terminal_progress
    from playground.core.base.progress import PhaseClock, StepMessage, format_duration

    clock = PhaseClock()  # each size is a phase: its time left, as the GUI's strip says it

    def with_time_left(message: str) -> str:
        if not isinstance(message, StepMessage):
            return message
        clock.update(message.phase, message.done)
        left = clock.remaining(message.done, message.total)
        return message + (f" · {format_duration(left)} left for this size" if left is not None else "")

    if sys.stderr.isatty():
        return lambda fraction, message: terminal_progress(fraction, with_time_left(message))

    def show(fraction, message: str) -> None:
        pct = "" if fraction is None else f"{fraction * 100:5.1f}% "
        print(f"{pct}{with_time_left(message)}", file=sys.stderr, flush=True)

    return show


def run_forgetting(args) -> int:
    from playground.cli.common import terminal_progress
    from playground.core.base.handle import TaskHandle
    from playground.core.lifecycle import forgetting_run as FR

    from playground.core.base.errors import InputError

    sources = {r: FR.run_base_source(r) for r in args.runs}
    if len(set(sources.values())) > 1:
        raise InputError("These runs were trained from different base models: "
                         + "; ".join(f"{r}: {s}" for r, s in sources.items()) + ".",
                         "Check runs of one base model at a time.")
    handle = TaskHandle(terminal_progress)
    base = FR.load_base(args.runs[0], handle=handle)
    shared = FR.baseline(base, handle=handle)
    rows = []
    for run in args.runs:
        rows.append(FR.check_run(run, base=base, baseline_result=shared, handle=handle))
        print(rows[-1].describe(), file=sys.stderr)
    print(FR.format_table(rows))
    if args.plot:
        FR.save_plot(rows, args.plot)
        print(f"plot saved to {args.plot}")
    return 0
