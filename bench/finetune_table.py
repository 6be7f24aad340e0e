"""ROUGE on the test split for the base model (zero-shot), LoRA, prompt tuning and full fine-tuning.

Each method trains the bundled model on (part of) the bundled train split through
``playground.core.finetune`` in its own process (so peak memory is its own), then summarizes the
first ``--test-examples`` test dialogues greedily and scores them with ROUGE. The zero-shot row
is the base model's score on the same dialogues with the same template (measured once, in the
first method's process, before it trains). Printed as a Markdown table, with the exact budget.

    python bench/finetune_table.py --train-examples 96 --test-examples 20 --threads 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
LR = {"lora": 3e-4, "prompt_tuning": 3e-2, "full": 3e-5}


def child(args) -> None:
    import resource

    from _common import quiet_torch

    quiet_torch(args.threads)
    from playground.core.finetune import (
        DoneEvent,
        FinetuneConfig,
        RougeEvent,
        StepEvent,
        run_finetune,
    )

    cfg = FinetuneConfig()
    cfg.model.source, cfg.model.device = args.model, "cpu"
    cfg.data.max_train_examples, cfg.data.max_validation_examples = args.train_examples, args.val
    cfg.method.name = args.method
    t = cfg.training
    t.epochs, t.micro_batch_size, t.gradient_accumulation_steps = args.epochs, 1, args.batch
    t.learning_rate = getattr(args, f"lr_{args.method}")
    t.eval_every, t.save_every = 0, 0
    cfg.evaluation.test_examples, cfg.evaluation.max_new_tokens = args.test_examples, args.max_new_tokens
    cfg.evaluation.before = args.before
    cfg.data.template, cfg.data.use_chat_template = args.template, args.chat
    with tempfile.TemporaryDirectory(prefix="ft-table-") as tmp:
        cfg.output.dir = os.path.join(tmp, "run")
        out = {"method": args.method}
        for ev in run_finetune(cfg):
            if isinstance(ev, RougeEvent):
                out[f"rouge_{ev.when}"] = ev.scores
                print(f"  {args.method}: ROUGE {ev.when}: " + " ".join(f"{k} {v:.4f}" for k, v in ev.scores.items()),
                      flush=True)
            elif isinstance(ev, StepEvent) and (ev.step % 4 == 0 or ev.step == ev.total_steps):
                print(f"  {args.method}: step {ev.step}/{ev.total_steps} loss {ev.loss:.4f} "
                      f"{ev.tokens_per_s:.0f} tok/s", flush=True)
            elif isinstance(ev, DoneEvent):
                r = ev.report
                # The report's scores carry BLEU and the 95% intervals (the RougeEvent has ROUGE only).
                for when in ("before", "after"):
                    if r["rouge"].get(when):
                        out[f"rouge_{when}"] = r["rouge"][when]
                out |= {"trainable": r["method"]["trainable_parameters"], "total": r["method"]["total_parameters"],
                        "share": r["method"]["trainable_share"], "seconds": r["training"]["train_seconds"],
                        "steps": r["training"]["steps"], "tokens": r["training"]["tokens_seen"],
                        "val_loss": r["training"]["final_validation_loss"], "samples": r["rouge"]["samples"][:2],
                        "peak_train": r["training"]["peak_memory_bytes"],
                        "added_train": r["training"].get("memory_added_bytes", 0)}
    out["peak_rss"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    Path(args.json_out).write_text(json.dumps(out))


def fmt_row(name, rouge, trainable="", seconds="", peak="", val="", train_peak="-") -> str:
    ci = rouge.get("intervals", {})
    scores = " | ".join(f"{rouge[k] * 100:.1f}" + (f" [{ci[k][0] * 100:.0f}-{ci[k][1] * 100:.0f}]" if k in ci else "")
                        for k in ("rouge1", "rouge2", "rougeL"))
    return f"| {name} | {scores} | {rouge.get('bleu', 0.0):.1f} | {trainable} | {seconds} | {train_peak} | {peak} | {val} |"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="bundled")
    p.add_argument("--methods", default="lora,prompt_tuning,full")
    p.add_argument("--train-examples", type=int, default=96, help="first N examples of the train split")
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=8, help="examples per optimizer step")
    p.add_argument("--val", type=int, default=16, help="validation examples for the final loss")
    p.add_argument("--test-examples", type=int, default=20)
    p.add_argument("--max-new-tokens", type=int, default=128)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--template", default="instruction", help="a Prompt tab template name")
    p.add_argument("--chat", action="store_true", help="wrap prompts in the model's chat template")
    for m, lr in LR.items():
        p.add_argument(f"--lr-{m.replace('_', '-')}", dest=f"lr_{m}", type=float, default=lr)
    p.add_argument("--method", help=argparse.SUPPRESS)
    p.add_argument("--before", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--json-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.method:
        return child(args)
    rows = []
    for i, method in enumerate(args.methods.split(",")):
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
            out = f.name
        cmd = [sys.executable, __file__, "--method", method, "--json-out", out] + (["--before"] if i == 0 else [])
        began = time.time()
        subprocess.run(cmd + sys.argv[1:], check=True, cwd=ROOT)
        rows.append(json.loads(Path(out).read_text()))
        os.unlink(out)
        print(f"{method} done in {time.time() - began:.0f} s wall", flush=True)
    print(f"\nmodel {args.model}; train: first {args.train_examples} examples of the train split x {args.epochs} "
          f"epoch(s), batch {args.batch} (1 x {args.batch} accumulation), max_length 768, template {args.template}"
          f"{' in the chat template' if args.chat else ''}; "
          f"test: first {args.test_examples} test dialogues, greedy, {args.max_new_tokens} new tokens max, first "
          f"line of the output; threads {args.threads or 'default'}; learning rates " +
          ", ".join(f"{m} {getattr(args, f'lr_{m}')}" for m in LR))
    print("\n(ROUGE F1 x 100 with 95% bootstrap interval, BLEU 0-100, from playground.core.evaluation.run)")
    print("\n| model | ROUGE-1 | ROUGE-2 | ROUGE-L | BLEU | trainable parameters | training time "
          "| peak memory while training (added by the run) | peak RSS of the process | val loss |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    if rows and "rouge_before" in rows[0]:
        print(fmt_row("base, zero-shot", rows[0]["rouge_before"], "0", "-", "-", "-", "-"))
    for r in rows:
        print(fmt_row(r["method"], r["rouge_after"], f"{r['trainable']:,} ({r['share'] * 100:.2f}%)",
                      f"{r['seconds']:.0f} s ({r['steps']} steps)", f"{r['peak_rss'] / 2**30:.2f} GiB",
                      f"{r['val_loss']:.3f}",
                      f"{r['peak_train'] / 2**30:.2f} GiB ({r['added_train'] / 2**30:.2f} GiB)"))
    for r in rows:
        for s in r.get("samples", []):
            print(f"\n{r['method']}: reference: {s['reference']}\n  before: {s['before']}\n  after: {s['after']}")


if __name__ == "__main__":
    main()
