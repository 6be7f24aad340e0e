"""`playground prune`: the Lifecycle tab's Pruning section, headless: prune the model by magnitude, or remove
heads or layers, and print the same table as the section (the dense model first)."""

from __future__ import annotations

METHOD_CHOICES = ("magnitude", "per-layer", "heads", "layers")


def add_parser(sub) -> None:
    from playground.cli.common import add_model_options
    from playground.core.lifecycle.pruning_options import PruningOptions
    from dataclasses import fields

    helps = {f.name: f.metadata["help"] for f in fields(PruningOptions)}
    p = sub.add_parser("prune", help="prune the model (weights by magnitude, heads or layers) and measure it",
                       description="Prune a copy of the model and measure it beside the dense one: parameters, "
                                   "weight bytes dense and stored sparse, perplexity on bundled test summaries, "
                                   "KL divergence and top-1 agreement against the dense model, decode speed and "
                                   "a greedy completion with the first changed token marked [[ ]].")
    p.add_argument("--method", default="magnitude", choices=METHOD_CHOICES,
                   help="magnitude is unstructured with one global cut, per-layer unstructured with a cut per "
                        "matrix. " + helps["method"])
    p.add_argument("--sparsity", default="50",
                   help="percent removed, 0-99; several comma-separated (e.g. 30,50,70) measure each. "
                        + helps["sparsity"])
    p.add_argument("--exact", action="store_true",
                   help="rank heads and layers by the measured loss change when each is masked (one forward pass per "
                        "head: slow) instead of its first-order estimate")
    p.add_argument("--texts", type=int, default=20, help=helps["texts"])
    p.add_argument("--new-tokens", type=int, default=24, help=helps["new_tokens"])
    add_model_options(p)
    p.set_defaults(run=run_prune)


def parse_percentages(text: str) -> list[float]:
    """'30,50' -> [0.3, 0.5]; each refused in plain words outside 0-99%."""
    from playground.core.base.errors import InputError
    from playground.core.lifecycle.pruning import check_sparsity

    items = [t.strip().rstrip("%") for t in str(text).split(",") if t.strip()]
    if not items:
        raise InputError("No sparsity was given.", "Give a percentage between 0 and 99, e.g. --sparsity 50.")
    out = []
    for item in items:
        try:
            value = float(item)
        except ValueError:
            raise InputError(f"The sparsity '{item}' is not a number.",
                             "Give a percentage between 0 and 99, e.g. --sparsity 50.") from None
        out.append(check_sparsity(value / 100))
    return out


def run_prune(args) -> int:
    from playground.cli.common import load_from_args, terminal_progress
    from playground.core.base.errors import InputError
    from playground.core.base.handle import TaskHandle
    from playground.core.lifecycle import precision as P
    from playground.core.lifecycle.pruning import SCOPE_NOTE, check_method
    from playground.core.lifecycle.pruning_run import PruningRow, format_table, pruning_sweep

    method = check_method(args.method)
    sparsities = parse_percentages(args.sparsity)
    if args.texts < 1 or args.new_tokens < 2:
        raise InputError("--texts must be at least 1 and --new-tokens at least 2.")
    loaded = load_from_args(args)
    if loaded.is_encoder_decoder or loaded.info.kind != "decoder-only":
        raise InputError("Pruning is measured on next-token models (decoder-only).",
                         "Use the bundled model or another causal LM.")
    rows = [item for item in pruning_sweep(loaded.model, loaded.tokenizer, loaded.device,
                                           [(method, s) for s in sparsities], texts=P.default_texts(args.texts),
                                           new_tokens=args.new_tokens, exact=args.exact,
                                           handle=TaskHandle(terminal_progress))
            if isinstance(item, PruningRow)]
    print(format_table(rows))
    print()
    if method in ("heads", "layers"):
        how = "measured" if args.exact else "estimated to first order"
        print(f"Importance: the loss change when each head or layer is masked, {how}, on 8 bundled dialogues.")
    else:
        print(SCOPE_NOTE + " Zeros keep the dense size and speed; only the sparse-stored column shrinks.")
    return 0
