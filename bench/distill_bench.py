"""Print what distillation buys on the bundled model: the student's parameters and decode speed against
the teacher's; held-out perplexity and ROUGE-L of a soft-target student and a hard-label student after
the same steps (and, with --same-time, a hard-label student given the soft one's training time);
training tokens/s of each; wall time and the machine load before and after.

    python bench/distill_bench.py [--steps 24] [--layers 0] [--temperature 2] [--alpha 0.5] [--lr 3e-4]
                                  [--max-length 192] [--rouge 3] [--same-time] [--threads 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def job_for(args, out: str, alpha: float, steps: int, compare_hard: bool):
    from playground.core.distill.config import DistillJob

    job = DistillJob()
    job.model.source, job.model.device = args.model, "cpu"
    d = job.distill
    d.student_layers, d.temperature, d.alpha, d.compare_hard = args.layers, args.temperature, alpha, compare_hard
    t = job.training
    t.max_steps, t.learning_rate, t.micro_batch_size, t.gradient_accumulation_steps = steps, args.lr, 1, 2
    t.save_every, t.warmup_ratio = 0, 0.1
    job.data.max_length, job.data.max_validation_examples = args.max_length, 4
    job.evaluation.test_examples, job.evaluation.max_new_tokens = args.rouge, 48
    job.output.dir = out
    return job


def run(job, teacher):
    from playground.core.distill.events import DistillDoneEvent, DistillStepEvent
    from playground.core.distill.job import run_distill

    steps, done = {}, None
    for ev in run_distill(job, teacher=teacher):
        if isinstance(ev, DistillStepEvent):
            steps[ev.kind] = ev.step
        elif isinstance(ev, DistillDoneEvent):
            done = ev
    return done, steps


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="bundled")
    ap.add_argument("--steps", type=int, default=24)
    ap.add_argument("--layers", type=int, default=0, help="student layers (0: every other)")
    ap.add_argument("--temperature", type=float, default=2.0)
    ap.add_argument("--alpha", type=float, default=0.5, help="weight of the hard labels")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--max-length", type=int, default=192)
    ap.add_argument("--rouge", type=int, default=3, help="test dialogues summarized for ROUGE-L (0: none)")
    ap.add_argument("--same-time", action="store_true",
                    help="also train a hard-label student for as long as the soft one trained")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args()
    from _common import quiet_torch

    torch = quiet_torch(args.threads)
    from playground.core.distill.measure import format_rows
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    print(f"torch threads {torch.get_num_threads()}, load before: {os.getloadavg()}", flush=True)
    began = time.perf_counter()
    teacher = load_model(ModelSource.parse(args.model), device="cpu", dtype="float32")
    with tempfile.TemporaryDirectory() as tmp:
        done, steps = run(job_for(args, f"{tmp}/run", args.alpha, args.steps, True), teacher)
        rows = done.rows
        print(format_rows(rows))
        print(done.report.get("verdict", ""))
        for kind, ev in steps.items():
            print(f"{kind}: {ev.step} steps in {ev.elapsed_s:.0f} s, {ev.tokens_seen / ev.elapsed_s:.0f} training "
                  f"tokens/s (last steps {ev.tokens_per_s:.0f}), final loss {ev.loss:.3f}")
        if args.same_time and "soft" in steps and "hard" in steps:
            per_step = steps["hard"].elapsed_s / steps["hard"].step
            more = max(args.steps, round(steps["soft"].elapsed_s / per_step))
            same = job_for(args, f"{tmp}/same-time", 1.0, more, False)
            same.evaluation.before = False  # the teacher is measured above
            again, hard = run(same, teacher)
            row = again.rows[-1]
            print(f"hard labels, same time: {more} steps in {hard['soft'].elapsed_s:.0f} s -> perplexity "
                  f"{row.perplexity:.2f}, ROUGE-L {row.cells()[-1]}")
    print(f"wall time {time.perf_counter() - began:.0f} s, load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
