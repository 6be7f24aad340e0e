"""Training throughput of the fine-tuning core vs a plain peft + transformers ``Trainer`` baseline.

Both arms train the same LoRA (rank 8, alpha 16, dropout 0.05, q/k/v/o) on the same examples of
the bundled dialogues (same template, same tokens, loss on the summary only), with the same
learning rate, schedule, effective batch and number of optimizer steps, on the same model.

- core: ``playground.core.finetune`` defaults for the CPU: micro-batches of 1 example with
  gradient accumulation, each step's examples run in length-sorted passes of up to one
  micro-batch's tokens (micro_batch_size x max_length), the output head only where a summary token
  is predicted, precision "auto" (BF16 mixed precision where the CPU has native BF16, else FP32).
- core-fp32: the same with precision "no" (FP32): the validation loss BF16 must stay within 1% of.
- baseline: ``Trainer`` with ``DataCollatorForSeq2Seq`` padding each batch of ``--batch`` examples
  to its longest.

Each arm runs in its own process (so peak memory is its own), one after the other, ``--repeats``
times alternating. Printed: real (non-padding) training tokens per second, the ratio core /
baseline, the precision each arm trained at, the final validation loss (the same FP32 function on
the same examples for every arm) and the peak resident memory of each process.

    python bench/finetune_throughput.py --examples 64 --batch 8 --val 16 --arms core,baseline,core-fp32

``--profile``: each arm's training also runs under torch's profiler, and the arm prints where its
CPU time went (matrix products forward and backward, attention, the optimizer, the rest) and its top
operators. The profiler slows every op a little, so the tokens/s of a profiled run are not the figure.
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


def job_config(args, out_dir: str):
    from playground.core.finetune import FinetuneConfig

    cfg = FinetuneConfig()
    cfg.model.source, cfg.model.device = args.model, "cpu"
    cfg.model.precision = "no" if args.arm == "core-fp32" else "auto"
    cfg.data.max_train_examples, cfg.data.max_validation_examples = args.examples, args.val
    cfg.data.max_length = args.max_length
    cfg.method.name = "lora"
    t = cfg.training
    t.micro_batch_size, t.gradient_accumulation_steps = 1, args.batch
    t.max_steps = args.examples // args.batch
    t.learning_rate, t.schedule, t.warmup_ratio = args.lr, "cosine", 0.1
    t.eval_every, t.save_every = 0, 0
    cfg.evaluation.test_examples = 0
    cfg.output.dir, cfg.output.overwrite = out_dir, True
    return cfg


def peak_rss() -> int:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_core(args, tmp: str) -> dict:
    from playground.core.finetune import DoneEvent, run_finetune

    cfg = job_config(args, os.path.join(tmp, "core"))
    from playground.core.finetune.loss import loss_totals
    from playground.core.finetune.prepare import prepare_data

    done = [e for e in run_finetune(cfg) if isinstance(e, DoneEvent)][-1]
    tr = done.report["training"]
    tok = done.tokenizer
    data = prepare_data(cfg.data, tok, False, cfg.training.seed, 0)
    total, count = loss_totals(done.model, data.validation, tok.pad_token_id, False, 0, "cpu", batch_size=1)
    return {"tokens": tr["tokens_seen"], "processed": tr["tokens_processed"], "seconds": tr["train_seconds"],
            "val_loss": total / count, "steps": tr["steps"], "precision": tr["precision"],
            "losses": [c[1] for c in done.report["curves"]["train_loss"]]}


def run_baseline(args, tmp: str) -> dict:
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import (
        DataCollatorForSeq2Seq,
        PrinterCallback,
        Trainer,
        TrainerCallback,
        TrainingArguments,
    )

    from playground.core.finetune.prepare import prepare_data
    from playground.core.finetune.loss import loss_totals
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    cfg = job_config(args, os.path.join(tmp, "baseline"))
    loaded = load_model(ModelSource.parse(cfg.model.source), device="cpu", dtype="float32")
    tok = loaded.tokenizer
    data = prepare_data(cfg.data, tok, False, cfg.training.seed, 0)
    torch.manual_seed(cfg.training.seed)
    loaded.model.config.use_cache = False
    lc = cfg.method.lora
    model = get_peft_model(loaded.model, LoraConfig(task_type="CAUSAL_LM", r=lc.rank, lora_alpha=lc.alpha,
                                                    lora_dropout=lc.dropout, bias="none",
                                                    target_modules=["q_proj", "k_proj", "v_proj", "o_proj"]))
    rows = [{"input_ids": e.input_ids, "attention_mask": [1] * len(e.input_ids), "labels": e.labels}
            for e in data.train]
    pad = DataCollatorForSeq2Seq(tok, padding="longest", label_pad_token_id=-100)
    counted = {"real": 0, "processed": 0}

    def collate(batch):
        out = pad(batch)
        counted["real"] += int(out["attention_mask"].sum())
        counted["processed"] += out["input_ids"].numel()
        return out

    losses = []

    class Losses(TrainerCallback):
        def on_log(self, a, state, control, logs=None, **kw):
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))

    steps = cfg.training.max_steps
    targs = TrainingArguments(
        output_dir=os.path.join(tmp, "baseline"), per_device_train_batch_size=args.batch,
        gradient_accumulation_steps=1, learning_rate=args.lr, lr_scheduler_type="cosine",
        warmup_steps=int(round(0.1 * steps)), max_steps=steps, max_grad_norm=1.0, weight_decay=0.0,
        logging_steps=1, save_strategy="no", eval_strategy="no", report_to=[], use_cpu=True,
        seed=cfg.training.seed, dataloader_num_workers=0, remove_unused_columns=False, disable_tqdm=True)
    trainer = Trainer(model=model, args=targs, train_dataset=rows, data_collator=collate, callbacks=[Losses()])
    trainer.remove_callback(PrinterCallback)  # keep the bench's output to its own lines
    result = trainer.train()
    total, count = loss_totals(model, data.validation, tok.pad_token_id, False, 0, "cpu", batch_size=1)
    return {"tokens": counted["real"], "processed": counted["processed"], "seconds": result.metrics["train_runtime"],
            "val_loss": total / count, "steps": steps, "losses": losses, "precision": "no"}


def print_profile(arm: str, prof) -> None:
    """Self CPU time by kind of operator, and the top operators (the final validation pass included)."""
    groups = {"matrix products (mm, addmm, bmm, linear's backward)": ("mm", "addmm", "bmm", "matmul", "linear"),
              "attention (scaled dot product, softmax)": ("scaled_dot_product", "softmax", "flash_attention"),
              "optimizer (AdamW)": ("adam", "_foreach", "lerp", "addcdiv"),
              "copies and casts": ("copy_", "_to_copy", "to", "clone", "cat", "contiguous")}
    rows = [(e.key, e.self_cpu_time_total) for e in prof.key_averages()]
    total = sum(t for _, t in rows) or 1
    sums = dict.fromkeys(groups, 0.0)
    rest = 0.0
    for key, t in rows:
        name = key.lower()
        for g, words in groups.items():
            if any(w in name for w in words):
                sums[g] += t
                break
        else:
            rest += t
    print(f"  profile of {arm}: {total / 1e6:.1f} s of CPU time, by kind")
    for g, t in list(sums.items()) + [("everything else (norms, activations, indexing, autograd)", rest)]:
        print(f"    {g:58s} {t / 1e6:7.1f} s  {t / total:5.1%}")
    print("    top operators: " + ", ".join(f"{k} {t / total:.1%}" for k, t in sorted(rows, key=lambda r: -r[1])[:8]))


def child(args) -> None:
    from _common import quiet_torch

    torch = quiet_torch(args.threads)
    with tempfile.TemporaryDirectory(prefix="ft-bench-") as tmp:
        run = run_baseline if args.arm == "baseline" else run_core
        if args.profile:
            from torch.profiler import ProfilerActivity, profile

            with profile(activities=[ProfilerActivity.CPU]) as prof:
                out = run(args, tmp)
            print_profile(args.arm, prof)
        else:
            out = run(args, tmp)
    out |= {"arm": args.arm, "peak_rss": peak_rss(), "threads": torch.get_num_threads()}
    Path(args.json_out).write_text(json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="bundled")
    p.add_argument("--examples", type=int, default=64, help="training examples (one epoch)")
    p.add_argument("--batch", type=int, default=8, help="examples per optimizer step")
    p.add_argument("--val", type=int, default=16, help="validation examples for the final loss")
    p.add_argument("--max-length", type=int, default=512)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--threads", type=int, default=0, help="torch threads per arm (0 = torch's default)")
    p.add_argument("--repeats", type=int, default=1)
    p.add_argument("--arms", default="core,baseline,core-fp32")
    p.add_argument("--profile", action="store_true", help="print where each arm's CPU time goes")
    p.add_argument("--arm", help=argparse.SUPPRESS)
    p.add_argument("--json-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.arm:
        return child(args)
    results: dict[str, list[dict]] = {}
    for r in range(args.repeats):
        for arm in args.arms.split(","):
            with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
                out = f.name
            cmd = [sys.executable, __file__, "--arm", arm, "--json-out", out] + sys.argv[1:]
            began = time.time()
            subprocess.run(cmd, check=True, cwd=ROOT)
            res = json.loads(Path(out).read_text())
            os.unlink(out)
            results.setdefault(arm, []).append(res)
            print(f"[{r + 1}/{args.repeats}] {arm:9s} ({res['precision']}) {res['tokens']:6d} real tokens ({res['processed']} processed) "
                  f"in {res['seconds']:7.1f} s = {res['tokens'] / res['seconds']:6.1f} tok/s; val loss "
                  f"{res['val_loss']:.4f}; peak RSS {res['peak_rss'] / 2**30:.2f} GiB; "
                  f"wall {time.time() - began:.0f} s", flush=True)
    print(f"\nmodel {args.model}, {args.examples} examples, batch {args.batch}, "
          f"{args.examples // args.batch} steps, threads {results[next(iter(results))][0]['threads']}, "
          f"{args.repeats} repeat(s)")
    if {"core", "baseline"} <= set(results):
        for c, b in zip(results["core"], results["baseline"]):
            ratio = (c["tokens"] / c["seconds"]) / (b["tokens"] / b["seconds"])
            print(f"throughput core / baseline = {ratio:.2f}x (target >= 2.5)   val loss core {c['val_loss']:.4f} vs "
                  f"baseline {b['val_loss']:.4f} ({'no worse' if c['val_loss'] <= b['val_loss'] + 1e-3 else 'WORSE'})"
                  f"   peak RSS core {c['peak_rss'] / 2**30:.2f} GiB vs baseline {b['peak_rss'] / 2**30:.2f} GiB "
                  f"({'no higher' if c['peak_rss'] <= b['peak_rss'] else 'HIGHER'})   padding share core "
                  f"{1 - c['tokens'] / c['processed']:.0%}, baseline {1 - b['tokens'] / b['processed']:.0%}")
    if {"core", "core-fp32"} <= set(results):
        for c, f in zip(results["core"], results["core-fp32"]):
            gap = c["val_loss"] / f["val_loss"] - 1
            print(f"core at {c['precision']} vs FP32: {(c['tokens'] / c['seconds']) / (f['tokens'] / f['seconds']):.2f}x "
                  f"the tokens/s; validation loss {c['val_loss']:.4f} vs {f['val_loss']:.4f} ({gap:+.2%}, "
                  f"{'within' if abs(gap) <= 0.01 else 'OUTSIDE'} 1%)")


if __name__ == "__main__":
    main()
