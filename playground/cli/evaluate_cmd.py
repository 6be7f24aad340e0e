"""`playground evaluate`: summarize the bundled dialogues with a model and print the scores."""

from __future__ import annotations

import sys
import time


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options

    p = sub.add_parser("evaluate", help="generate summaries of the bundled dialogues and score them",
                       description="Summarize a split of the bundled dialogue dataset (or your own file) "
                                   "with a model, then print ROUGE and BLEU with 95% intervals.")
    p.add_argument("--split", default="test", choices=["train", "validation", "test"])
    p.add_argument("--data", default=None, help="your own CSV/JSONL/Parquet file instead of the bundled split")
    p.add_argument("--input-column", default=None, help="the column of --data the model reads")
    p.add_argument("--reference-column", default=None, help="the column of --data holding the references")
    p.add_argument("--limit", type=int, default=0, help="evaluate only the first N examples (0: all)")
    p.add_argument("--shots", type=int, default=0, help="worked examples from the train split in each prompt")
    p.add_argument("--adapter", default=None, help="a saved adapter folder (with adapter_config.json); the base "
                                                   "model is scored beside it")
    p.add_argument("--template", default=None,
                   help="a prompt lab template (name or text with {dialogue}) to build every prompt with; default: "
                        "the adapter's training template, else 'instruction' (as the Prompt and Evaluate tabs)")
    chat = p.add_mutually_exclusive_group()
    chat.add_argument("--chat-template", dest="chat", action="store_true", default=None,
                      help="wrap the prompts in the model's chat template (the default in every tab)")
    chat.add_argument("--no-chat-template", dest="chat", action="store_false",
                      help="plain prompts, for a raw continuation")
    add_model_options(p)
    # The one declaration of max new tokens (its help and range), at the summaries' own default.
    from playground.cli.settings_options import add_options
    from playground.core.decoding.settings import GenerationSettings
    from playground.core.prompting.prompt_settings import SUMMARY_MAX_NEW_TOKENS

    add_options(p, GenerationSettings, only=("max_new_tokens",), defaults={"max_new_tokens": SUMMARY_MAX_NEW_TOKENS})
    p.add_argument("--tokenizer", choices=["default", "unicode"], default="default", help="ROUGE tokenizer")
    p.add_argument("--csv", default=None, help="also write every example and its scores to this CSV file")
    p.add_argument("--html", default=None, help="also write a self-contained HTML report")
    p.set_defaults(run=run)


def run(args) -> int:
    from playground.cli.common import load_from_args
    from playground.core.evaluation.datasets import load_split, load_table
    from playground.core.base.errors import InputError
    from playground.core.evaluation.run import ADAPTER, K_SHOT, ZERO_SHOT, SystemSpec, run_evaluation, score_results
    from playground.core.evaluation.run import training_prompt
    from playground.core.decoding.generation import GenerationSettings
    from playground.core.evaluation.metrics import format_table

    if args.limit < 0 or args.shots < 0:
        raise InputError("--limit and --shots cannot be negative.")
    if args.adapter and args.shots:
        raise InputError("An adapter is evaluated zero-shot (as it was trained).", "Leave out --shots.")
    if args.adapter:
        from playground.core.finetune.layout import check_artifact_ready

        check_artifact_ready(args.adapter)  # a run still training, or stopped early, says so
    settings = GenerationSettings.make(max_new_tokens=args.max_new_tokens, do_sample=False, top_n=0)
    settings.validate()
    data = (load_table(args.data, args.input_column, args.reference_column) if args.data
            else load_split(args.split))
    examples = data.head(args.limit)
    template, chat = args.template, args.chat
    trained = training_prompt(args.adapter) if args.adapter else None
    if template is None and trained is not None:
        template = trained[0]
        chat = trained[1] if chat is None else chat
    if template is None:  # the Prompt tab's and the Evaluate tab's default: the same prompt scores the same
        from playground.core.prompting.prompts import DEFAULT_TEMPLATE

        template = DEFAULT_TEMPLATE
    if chat is None:
        from playground.core.prompting.prompts import USE_CHAT_TEMPLATE

        chat = USE_CHAT_TEMPLATE
    prompt = {"template": template or "", "use_chat_template": bool(chat) if template else False}
    if args.adapter:
        specs = [SystemSpec(ZERO_SHOT, **prompt), SystemSpec(ADAPTER, adapter_dir=args.adapter, **prompt)]
    else:
        specs = [SystemSpec(K_SHOT, shots=args.shots, **prompt) if args.shots else SystemSpec(ZERO_SHOT, **prompt)]
    train = load_split("train").examples if args.shots else None
    loaded = load_from_args(args)
    labels = [s.display() for s in specs]
    how = f"template {template!r}, chat template {'on' if prompt['use_chat_template'] else 'off'}" if template \
        else "the summarization prompt"
    print(f"Evaluating on {data.name}: {len(examples)} examples, greedy, {args.max_new_tokens} new tokens at most, "
          f"{how}.", file=sys.stderr)
    for spec in specs:
        print(f"  {spec.display()}: {spec.model_name(loaded.info.name)}", file=sys.stderr)
    results = []
    start = time.perf_counter()
    try:
        for r in run_evaluation(loaded, examples, specs, train=train, settings=settings, tokenizer=args.tokenizer):
            results.append(r)
            done = len(results)
            rate = done / max(time.perf_counter() - start, 1e-9) * 60
            print(f"\r{done}/{len(examples)} examples · {rate:.1f} examples/min", end="", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        print("\nStopped: scoring the examples finished so far.", file=sys.stderr)
    print(file=sys.stderr)
    for warning in (results[0].warnings.values() if results else ()):
        print(f"WARNING: {warning}", file=sys.stderr)
    stopped = len(results) < len(examples)
    if not results:
        raise InputError("Stopped before the first example was done: there is nothing to score.",
                         "Run it again and let at least one example finish.")
    reports = score_results(results, labels, tokenizer=args.tokenizer)
    print(format_table(reports))
    for spec in specs:
        print(f"{spec.display()}: {spec.model_name(loaded.info.name)}")
    if args.csv:
        from playground.core.evaluation.report import write_csv

        write_csv(args.csv, results, labels)
    if args.html:
        from playground.core.evaluation.report import write_html

        write_html(args.html, results, reports, title=f"Evaluation of {loaded.info.name}", dataset=data.name,
                   model="; ".join(f"{s.display()}: {s.model_name(loaded.info.name)}" for s in specs),
                   tokenizer=args.tokenizer, stopped=stopped)
    if stopped:
        print(f"Stopped after {len(results)} of {len(examples)} examples: the scores above cover those only.",
              file=sys.stderr)
        return 130  # a stopped run is not a finished one (scripts see it)
    return 0
