"""`playground rouge`: score a file of predictions against a file of references."""

from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("rouge", help="score predictions against references (ROUGE-1/2/L/Lsum and BLEU)",
                       description="Score two files: one text a line (.txt), or one column of a "
                                   "JSONL/CSV/Parquet file (--field).")
    p.add_argument("--predictions", required=True, help="the file of predicted texts")
    p.add_argument("--references", required=True, help="the file of reference texts, in the same order")
    p.add_argument("--field", default=None,
                   help="the column/field holding the text in JSONL, CSV or Parquet files (both files)")
    p.add_argument("--predictions-field", default=None, help="the field in the predictions file only")
    p.add_argument("--references-field", default=None, help="the field in the references file only")
    p.add_argument("--tokenizer", choices=["default", "unicode"], default="default",
                   help="default: rouge-score's (ASCII only, comparable with published numbers); "
                        "unicode: keeps accents and non-Latin scripts")
    p.add_argument("--no-stemmer", action="store_true", help="do not Porter-stem words")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals (0: none)")
    p.set_defaults(run=run)


def run(args) -> int:
    from playground.core.evaluation.datasets import read_texts
    from playground.core.base.errors import InputError
    from playground.core.evaluation.metrics import ScoreReport, bleu, format_table, rouge, score_predictions

    preds = read_texts(args.predictions, args.predictions_field or args.field)
    refs = read_texts(args.references, args.references_field or args.field)
    if args.bootstrap < 0:
        raise InputError("--bootstrap cannot be negative.")
    use_stemmer = not args.no_stemmer
    if args.bootstrap:
        report = score_predictions(preds, refs, tokenizer=args.tokenizer, use_stemmer=use_stemmer,
                                   n_resamples=args.bootstrap)
    else:
        scores = rouge(preds, refs, use_stemmer=use_stemmer, tokenizer=args.tokenizer)
        report = ScoreReport(n=len(preds), rouge=scores, bleu=bleu(preds, refs))
    print(format_table({"predictions": report}, with_ci=bool(args.bootstrap)))
    return 0
