"""`playground generate`: print a completion."""

from __future__ import annotations

import sys

from playground.cli.common import add_model_options, finite_float, load_from_args


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="generate a completion for a prompt and print it")
    p.add_argument("--prompt", required=True, help="the prompt text ('-' reads standard input)")
    add_model_options(p)
    p.add_argument("--max-new-tokens", type=int, default=64)
    p.add_argument("--temperature", type=finite_float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--top-p", type=finite_float, default=1.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--greedy", action="store_true", help="always take the most likely token (no sampling)")
    p.add_argument("--no-chat-template", action="store_true", help="send the prompt as raw text")
    p.add_argument("--show-prompt", action="store_true",
                   help="print the prompt exactly as the model receives it (chat template applied) to standard error")
    p.add_argument("--stats", action="store_true", help="print tokens/s to standard error")
    p.set_defaults(run=run)


def run(args) -> int:
    from playground.core.base.errors import InputError
    from playground.core.decoding.generation import (
        GenerationSettings,
        format_prompt,
        stream_generate,
    )

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise InputError("The prompt is empty.", "Pass some text with --prompt.")
    # Sampling unless --greedy, as transformers' do_sample=True with these warpers.
    settings = GenerationSettings(max_new_tokens=args.max_new_tokens, do_sample=not args.greedy,
                                  temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
                                  seed=args.seed, top_n=0)
    settings.validate()
    loaded = load_from_args(args)
    text = format_prompt(loaded, prompt, not args.no_chat_template)
    if args.show_prompt:
        print(f"--- the prompt as the model receives it ---\n{text}\n--- end of prompt ---", file=sys.stderr)
    n, last = 0, None
    for step in stream_generate(loaded, text, settings):
        sys.stdout.write(step.text)
        sys.stdout.flush()
        n, last = n + 1, step
    sys.stdout.write("\n")
    if args.stats and last is not None:
        word = "token" if n == 1 else "tokens"
        print(f"{n} {word} in {last.elapsed:.2f} s ({n / max(last.elapsed, 1e-9):.1f} tokens/s)", file=sys.stderr)
    return 0
