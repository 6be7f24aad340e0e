"""`playground`: no arguments starts the GUI; subcommands do the same work headless."""

from __future__ import annotations

import argparse
import importlib
import re
import sys

# Each module has add_parser(subparsers) and run(args) -> int. Later features add a line.
COMMAND_MODULES = [
    "playground.cli.generate_cmd",
    "playground.cli.attention_cmd",
    "playground.cli.models_cmd",
    "playground.cli.rouge_cmd",
    "playground.cli.evaluate_cmd",
    "playground.cli.finetune_cmd",
    "playground.cli.distill_cmd",
    "playground.cli.align_cmd",
    "playground.cli.lifecycle_cmd",
    "playground.cli.prune_cmd",
    "playground.cli.kv_cache_cmd",
    "playground.cli.rag_cmd",
    "playground.cli.reason_cmd",
    "playground.cli.arena_cmd",
    "playground.cli.bench_cmd",
    "playground.cli.react_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    from playground import __version__

    parser = argparse.ArgumentParser(
        prog="playground",
        description="LLM Playground: see and feel how large language models work. "
                    "With no command, the desktop app starts.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--smoke-test", action="store_true",
                        help="start the app, load the bundled model, generate a few tokens, open every tab, exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_parser(sub)
    return parser


#: A negative number as a person types it: -1, -0.5, -1e20, -1.5E+3, -inf, -nan.
_NEGATIVE = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^-(inf|infinity|nan)$", re.IGNORECASE)


def join_negative_values(argv: list[str]) -> list[str]:
    """``--flops -1e20`` as ``--flops=-1e20``: argparse takes a value that starts with '-' (and is not
    a plain -1 or -0.5) for an option and says "expected one argument"; joined, the command refuses
    the negative value itself, in plain words."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if (tok.startswith("--") and "=" not in tok and len(tok) > 2 and i + 1 < len(argv)
                and _NEGATIVE.match(argv[i + 1])):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    argv = join_negative_values(sys.argv[1:] if argv is None else list(argv))
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        from playground.qt.app import main as gui_main

        return gui_main(smoke_test=args.smoke_test)
    from playground.core.base.errors import PlaygroundError, describe_exception

    try:
        return int(args.run(args) or 0)
    except PlaygroundError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped", file=sys.stderr)
        return 130
    except Exception as exc:  # plain words, not a traceback, for a terminal user
        msg, hint = describe_exception(exc)
        print(f"error: {msg} {hint}".strip(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
