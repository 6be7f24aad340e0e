"""`playground generate`: print a completion."""

from __future__ import annotations

import sys

from playground.cli.common import add_model_options, load_from_args
from playground.cli.settings_options import add_generation_options, generation_from_args


def add_parser(sub) -> None:
    p = sub.add_parser("generate", help="generate a completion for a prompt and print it")
    p.add_argument("--prompt", required=True, help="the prompt text ('-' reads standard input)")
    add_model_options(p)
    # --max-new-tokens, --greedy / --sample, --temperature, --top-k, --top-p, --seed: made from the
    # fields of GenerationSettings, with the defaults and help the GUI shows.
    add_generation_options(p)
    p.add_argument("--no-chat-template", action="store_true", help="send the prompt as raw text")
    p.add_argument("--plain-special-tokens", action="store_true",
                   help="read special tokens typed into the prompt (like <|im_end|>) as plain text, not as the "
                        "control tokens they would otherwise become (the chat template's own stay control tokens)")
    p.add_argument("--show-prompt", action="store_true",
                   help="print the prompt exactly as the model receives it (chat template applied) to standard error")
    p.add_argument("--stats", action="store_true", help="print tokens/s to standard error")
    p.set_defaults(run=run)


def run(args) -> int:
    from playground.core.base.errors import InputError
    from playground.core.decoding.generation import format_prompt, stream_generate
    from playground.core.prompting.special_tokens import readable, special_tokens_in, special_tokens_note

    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    if not prompt.strip():
        raise InputError("The prompt is empty.", "Pass some text with --prompt.")
    settings = generation_from_args(args, top_n=0)
    if not settings.do_sample and _sampling_flags_given(args):
        print("Note: decoding is greedy (the default), so --temperature, --top-k, --top-p and --seed change "
              "nothing; add --sample to sample.", file=sys.stderr)
    settings.validate()
    loaded = load_from_args(args)
    found = special_tokens_in(loaded.tokenizer, prompt)
    if found:
        hint = "" if args.plain_special_tokens else " Add --plain-special-tokens to read them as plain text."
        print(f"Note: {special_tokens_note(found, args.plain_special_tokens)}{hint}", file=sys.stderr)
    text = format_prompt(loaded, prompt, not args.no_chat_template, plain_special_tokens=args.plain_special_tokens)
    if args.show_prompt:
        print(f"--- the prompt as the model receives it ---\n{readable(text)}\n--- end of prompt ---", file=sys.stderr)
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


def _sampling_flags_given(args) -> bool:
    from playground.core.decoding.settings import DEFAULT_SAMPLING

    return any(getattr(args, name) != getattr(DEFAULT_SAMPLING, name) for name in ("temperature", "top_k", "top_p",
                                                                                 "seed"))
