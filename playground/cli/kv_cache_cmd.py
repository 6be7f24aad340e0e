"""`playground kv-cache`: the Lifecycle tab's KV cache section, headless: the bytes-per-token arithmetic of the
model (and the bundled 1.7B / 8B / 70B configs), a greedy generation with the cache measured after each pass,
and time per new token with vs without the cache."""

from __future__ import annotations


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options

    p = sub.add_parser("kv-cache", help="what the KV cache holds and costs: bytes per token, stepping, timing",
                       description="Print the KV cache's bytes per token from the model's config (grouped-query "
                                   "vs full multi-head attention) and for the bundled SmolLM2-1.7B / Llama-3.1-8B "
                                   "/ 70B configs, step a greedy generation printing each layer's cache length and "
                                   "the bytes measured in the cache tensors, then time one new token with and "
                                   "without the cache at each context length.")
    p.add_argument("prompt", nargs="?", default=None, help="the prompt (default: a bundled dialogue to summarize)")
    p.add_argument("--new-tokens", type=int, default=8, help="greedy tokens to step (default 8)")
    p.add_argument("--lengths", default="64,256,1024", help="context lengths to time (default 64,256,1024; '' skips)")
    p.add_argument("--repeats", type=int, default=3, help="tokens timed at each length (the median is printed)")
    p.add_argument("--no-chat-template", action="store_true", help="give the prompt as plain text")
    add_model_options(p)
    p.set_defaults(run=run_kv_cache)


def run_kv_cache(args) -> int:
    from playground.cli.common import load_from_args, terminal_progress
    from playground.core.base.handle import TaskHandle
    from playground.core.decoding.generation import format_prompt
    from playground.core.lifecycle import kv_cache as K
    from playground.core.lifecycle import kv_timing as T
    from playground.core.lifecycle.kv_stepper import KVCacheStepper, default_prompt, describe_step

    lengths = T.parse_lengths(args.lengths) if args.lengths.strip() else []
    loaded = load_from_args(args)
    stepper = KVCacheStepper(loaded, format_prompt(loaded, args.prompt or default_prompt(), not args.no_chat_template),
                             attention=False, max_new_tokens=args.new_tokens)
    if lengths:
        T.check_lengths(loaded, lengths, args.repeats)  # refused before any work, in plain words
    print(f"{loaded.info.name}: {stepper.shape.arithmetic()}\n")
    print(K.memory_table([stepper.shape, *K.bundled_shapes()]) + "\n")
    for step in stepper.run():
        print(describe_step(stepper, step))
    print(f"\nGenerated: {stepper.text()}\n")
    if lengths:
        points = list(T.time_per_token(loaded, lengths, repeats=args.repeats,
                                       handle=TaskHandle(terminal_progress)))
        print(T.timing_table(points))
    return 0
