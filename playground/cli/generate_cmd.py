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
    _add_speculative_options(p)
    p.set_defaults(run=run)


def _add_speculative_options(p) -> None:
    """--draft and --gamma, their help from SpeculativeSettings' fields (what the GUI's tooltips say)."""
    from dataclasses import fields

    from playground.core.decoding.speculative_settings import MAX_GAMMA, MIN_GAMMA, SpeculativeSettings

    meta = {f.name: f.metadata for f in fields(SpeculativeSettings)}
    p.add_argument("--draft", metavar="MODEL|layers:N", default=None,
                   help="speculative decoding: " + meta["draft"]["help"] + " Prints the acceptance rate and the speed-up "
                        "measured against plain decoding of the same prompt to standard error.")
    p.add_argument("--gamma", type=int, default=SpeculativeSettings.gamma,
                   help=f"with --draft ({MIN_GAMMA}-{MAX_GAMMA}, default %(default)s): " + meta["gamma"]["help"])


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
    if args.draft:
        return _run_speculative(args, loaded, text, settings)
    if args.gamma != _default_gamma():
        print("Note: --gamma is used only with --draft (speculative decoding).", file=sys.stderr)
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


def _default_gamma() -> int:
    from playground.core.decoding.speculative_settings import SpeculativeSettings

    return SpeculativeSettings.gamma


def _run_speculative(args, loaded, text: str, settings) -> int:
    """Speculative decoding to the end, the text streamed, then acceptance and the measured speed-up."""
    from playground.core.decoding.generation import _Detokenizer
    from playground.core.decoding.speculative_session import explain_speed, measure_speedup, open_run
    from playground.core.decoding.speculative_settings import SpeculativeSettings

    spec = SpeculativeSettings(draft=args.draft, gamma=args.gamma, max_new_tokens=settings.max_new_tokens,
                               sampling=settings.sampling)
    run, draft = open_run(loaded, text, spec)
    detok = _Detokenizer(loaded.tokenizer)
    for rnd in run.run():
        for tok in rnd.new_tokens:
            if tok not in run.eos_ids:
                sys.stdout.write(detok.push(tok))
        sys.stdout.flush()
    sys.stdout.write("\n")
    speed = measure_speedup(run)
    t = run.totals()
    for note in draft.notes:
        print(f"Note: {note}", file=sys.stderr)
    print(f"Speculative decoding with {draft.label} as the draft, γ={spec.gamma}, {spec.sampling.describe()}:",
          file=sys.stderr)
    print(f"  acceptance {t['accepted']}/{t['proposed']} proposed tokens ({100 * t['acceptance_rate']:.1f}%), "
          f"{t['tokens_per_target_pass']:.2f} tokens per target pass over {t['rounds']} rounds", file=sys.stderr)
    print(f"  speed {speed.spec_rate:.1f} tokens/s; plain decoding of the same prompt {speed.plain_rate:.1f} tokens/s: "
          f"speed-up {speed.factor:.2f}x (measured)", file=sys.stderr)
    if speed.same_text is not None:
        print(f"  greedy text identical to plain decoding: {'yes' if speed.same_text else 'no'}", file=sys.stderr)
    print(f"  {explain_speed(t, speed, draft.layers / loaded.info.num_layers if draft.layers else None)}",
          file=sys.stderr)
    return 0
