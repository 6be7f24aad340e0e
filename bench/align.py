"""Align figures on the bundled model (CPU unless a GPU is there): GRPO steps with beta 0.1 and
beta 0 (reward, monitor ROUGE-L, KL per step), the quick reward model's held-out accuracy on the
bundled pairs and its 'said twice' probe, DPO before / after samples, wall time of each, and the
app's GRPO step time vs trl's GRPOTrainer with the same settings in the same run.

Run: python bench/align.py [--only grpo,hack,rm,dpo,trl] [--steps 3] [--group 4] [--tokens 40] [--before]
                           [--grpo-betas 0.1,0]
                           [--rm-pairs 48] [--rm-test 24]
The machine is shared: the load average is printed beside the figures.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def whole_rows(on: bool) -> None:
    """The 'before' arm: every completion's row computed whole (its prompt once per completion), as
    before the group's prompt was shared; ``on=False`` puts the app's shared-prompt path back."""
    from playground.core.align import policy, steps

    def whole(model, *args, group_size=1, with_entropy=False, temperature=1.0):
        return policy.token_logps(model, *args[:4], with_entropy=with_entropy, temperature=temperature)[:2]

    steps.group_token_logps = (lambda model, a, b, c, d, g, **kw: whole(model, a, b, c, d, **kw)) if on \
        else policy.group_token_logps


def grpo(args, beta: float, rewards=("rouge_l",), label="", precision=""):
    from playground.core.align.config import AlignConfig
    from playground.core.align.job import AlignStepEvent, MonitorEvent, run_align

    cfg = AlignConfig()
    cfg.method.name, cfg.method.beta, cfg.method.rewards = "grpo", beta, list(rewards)
    cfg.method.weights = [1.0] * len(rewards)
    cfg.method.group_size, cfg.method.max_new_tokens = args.group, args.tokens
    cfg.method.prompts_per_step, cfg.method.temperature = args.prompts, args.temperature
    cfg.training.max_steps, cfg.training.save_every = args.steps, 0
    cfg.training.monitor_every, cfg.training.monitor_examples = max(1, args.steps), 2
    cfg.training.learning_rate = args.lr
    cfg.model.precision = precision or args.precision
    cfg.output.dir = tempfile.mkdtemp(prefix="align-bench-")
    began = time.perf_counter()
    times = []
    from playground.core.align.job import align_precision

    print(f"GRPO{label} beta {beta}, {args.prompts} prompt(s) x {args.group} completions x {args.tokens} tokens, "
          f"temperature {args.temperature}, LoRA r8, lr {args.lr}, precision {cfg.model.precision} "
          f"(here: {align_precision(cfg.model.precision, 'cpu')}) ({load()})")
    for ev in run_align(cfg):
        if isinstance(ev, AlignStepEvent):
            times.append(ev.seconds)
            print(f"  step {ev.step}: reward {ev.reward_mean:.4f} ±{ev.reward_std:.4f}  KL {ev.kl:.5f}  "
                  f"entropy {ev.entropy:.3f}  length {ev.completion_length:.1f}  {ev.seconds:.1f} s", flush=True)
        elif isinstance(ev, MonitorEvent):
            print(f"  monitor at step {ev.step}: ROUGE-L {ev.rouge_l:.4f}", flush=True)
    import json

    report = Path(cfg.output.dir) / "report.json"
    rows = json.loads(report.read_text()).get("per_step", []) if report.is_file() else []
    gen = [r["generation_seconds"] for r in rows if "generation_seconds" in r]
    split = (f"; generation {sum(gen) / len(gen):.1f} s, scoring + update {sum(times) / len(times) - sum(gen) / len(gen):.1f} s"
             if len(gen) == len(times) and times else "")
    print(f"  wall {time.perf_counter() - began:.0f} s, mean step {sum(times) / len(times):.1f} s{split} ({load()})")
    for row in (rows[0], rows[-1]) if rows else ():
        sample = (row.get("samples") or [{}])[0]
        print(f"  a completion at step {row['step']} (reward {sample.get('reward', float('nan')):.2f}): "
              f"{sample.get('completion', '')[:200]!r}")
    return times


def reward_model(args):
    from playground.core.align.preferences import truncate_prompt as _truncate
    from playground.core.align.preferences import bundled_preferences
    from playground.core.align.reward_model import RewardModel, load_encoder_backbone, probe_repeat
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    loaded = load_model(ModelSource("bundled"), device="cpu", dtype="float32")
    tok = loaded.tokenizer
    cut = lambda ps: [type(p)(_truncate(tok, p.prompt, 200), p.chosen, p.rejected, p.reason, p.id) for p in ps]  # noqa: E731
    train, test = cut(bundled_preferences("train")[:args.rm_pairs]), cut(bundled_preferences("test")[:args.rm_test])
    for kind, mode in (("encoder", "quick"), ("policy", "quick"), ("encoder", "full")):
        how = ("features" if mode == "quick" else
               f"encoder trained whole, {args.rm_full_steps} steps of 4 pairs at lr 5e-5 (the tab's full mode)")
        print(f"{mode.capitalize()} reward model on the {kind}'s {how}: {len(train)} train pairs, {len(test)} "
              f"held-out pairs ({load()})")
        began = time.perf_counter()
        if kind == "encoder":
            encoder, encoder_tok = load_encoder_backbone(trainable=mode == "full")
            rm = RewardModel(encoder, encoder_tok, mode, "encoder")
        else:
            rm = RewardModel(loaded.model, tok, "quick", "policy")
        rep = (rm.train_quick(train, test) if mode == "quick"
               else rm.train_full(train, test, steps=args.rm_full_steps, lr=5e-5, batch_pairs=4))
        spent = time.perf_counter() - began
        probe = probe_repeat(rm, test)
        print(f"  train accuracy {rep.train_accuracy:.3f}, held-out accuracy {rep.test_accuracy:.3f}; "
              f"{'features + training' if mode == 'quick' else 'training + scoring'} {spent:.1f} s; "
              f"'reference said twice' scored above the reference on "
              f"{probe['overpaid']} of {probe['pairs']} held-out dialogues ({load()})")
        by_reason = {}
        for p, c, r in zip(test, rep.chosen_scores, rep.rejected_scores):
            by_reason.setdefault(p.reason, []).append(c > r)
        print("  held-out accuracy by reason: " + ", ".join(f"{k} {sum(v)}/{len(v)}" for k, v in sorted(by_reason.items())))


def dpo(args):
    from playground.core.align.config import AlignConfig
    from playground.core.align.job import AlignStepEvent, run_align
    from playground.core.finetune.events import DoneEvent

    cfg = AlignConfig()
    cfg.method.name, cfg.method.prompts_per_step, cfg.method.max_new_tokens = "dpo", 2, args.tokens
    cfg.training.max_steps, cfg.training.save_every, cfg.training.learning_rate = args.steps, 0, 5e-5
    cfg.training.monitor_examples = 2
    cfg.model.precision = args.precision
    cfg.output.dir = tempfile.mkdtemp(prefix="align-bench-")
    began = time.perf_counter()
    print(f"DPO, 2 pairs per step, lr 5e-5, beta 0.1 ({load()})")
    for ev in run_align(cfg):
        if isinstance(ev, AlignStepEvent):
            print(f"  step {ev.step}: loss {ev.loss:.4f} margin {ev.extra['margin']:.4f} "
                  f"accuracy {ev.extra['accuracy']:.2f} {ev.seconds:.1f} s", flush=True)
        elif isinstance(ev, DoneEvent):
            for s in ev.report["samples_after"]:
                print(f"  [{s['prompt_id']}] before: {s['before'][:160]!r}\n          after:  {s['after'][:160]!r}")
    print(f"  wall {time.perf_counter() - began:.0f} s ({load()})")


def trl_grpo(args):
    """trl's GRPOTrainer, same model, prompts, group, tokens, LoRA r8, beta, gradient checkpointing off."""
    from datasets import Dataset
    from peft import LoraConfig
    from trl import GRPOConfig, GRPOTrainer

    from playground.core.align.preferences import truncate_prompt as _truncate
    from playground.core.align.preferences import bundled_preferences
    from playground.core.align.rewards import rouge_l_reward
    from playground.core.finetune.methods import detect_lora_targets
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    loaded = load_model(ModelSource("bundled"), device="cpu", dtype="float32")
    tok = loaded.tokenizer
    pairs = bundled_preferences("train")[:args.steps]
    data = Dataset.from_dict({"prompt": [_truncate(tok, p.prompt, 200) for p in pairs],
                              "reference": [p.chosen for p in pairs]})

    def reward(completions, reference, **kw):
        return rouge_l_reward(completions, reference)

    out = tempfile.mkdtemp(prefix="trl-grpo-")
    conf = GRPOConfig(output_dir=out, per_device_train_batch_size=args.group, num_generations=args.group,
                      max_completion_length=args.tokens, max_steps=args.steps, learning_rate=args.lr, beta=0.1,
                      gradient_checkpointing=False, logging_steps=1, report_to=[], use_cpu=True, save_strategy="no",
                      temperature=1.0, bf16=False)
    trainer = GRPOTrainer(model=loaded.model, reward_funcs=reward, args=conf, train_dataset=data,
                          processing_class=tok, peft_config=LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                                                      target_modules=detect_lora_targets(loaded.model)))
    print(f"trl GRPOTrainer, same settings ({load()})")
    began = time.perf_counter()
    trainer.train()
    spent = time.perf_counter() - began
    for log in trainer.state.log_history:
        if "reward" in log:
            print(f"  step {log.get('step')}: reward {log['reward']:.4f} KL {log.get('kl', float('nan')):.5f}")
    print(f"  wall {spent:.0f} s, {spent / args.steps:.1f} s per step ({load()})")
    return spent / args.steps


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="grpo,rm,dpo,trl")
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--tokens", type=int, default=40)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--prompts", type=int, default=1, help="prompts per step (online methods)")
    ap.add_argument("--temperature", type=float, default=1.0, help="sampling temperature of the rollouts")
    ap.add_argument("--betas", default="0,0.5", help="the hack part's KL weights, run one after the other")
    ap.add_argument("--grpo-betas", default="0.1,0", help="the grpo part's KL weights (the first is compared with trl)")
    ap.add_argument("--before", action="store_true",
                    help="also run each GRPO arm the way it ran before the group's prompt was shared (every row "
                         "whole), alternating with the app's path in this run")
    ap.add_argument("--precision", default="auto",
                    help="the align runs' model.precision (auto: bf16 where the CPU has native BF16); the GRPO arm "
                         "compared with trl always runs at float32, as trl's does")
    ap.add_argument("--hack-precisions", default="",
                    help="comma-separated precisions the hack part alternates (e.g. no,auto); default --precision")
    ap.add_argument("--rm-pairs", type=int, default=48)
    ap.add_argument("--rm-test", type=int, default=24)
    ap.add_argument("--rm-full-steps", type=int, default=24, help="the full reward model's steps (4 pairs each)")
    args = ap.parse_args()
    import warnings

    warnings.filterwarnings("ignore")
    import torch

    print(f"torch threads {torch.get_num_threads()}, {load()}")
    parts = args.only.split(",")
    app = None
    before = None
    if "grpo" in parts:
        for i, beta in enumerate(float(b) for b in args.grpo_betas.split(",")):
            if args.before:  # the arms alternate: before (whole rows), then the app as it is
                whole_rows(True)
                times = grpo(args, beta, label=" BEFORE (every row whole)")
                before = before or times
                whole_rows(False)
            times = grpo(args, beta, precision="no" if i == 0 and "trl" in parts else "")
            app = app or times
    if "hack" in parts:  # the reward-hacking lesson: a reward that counts a word, without and with the KL term
        for beta in (float(b) for b in args.betas.split(",")):
            if args.before:
                whole_rows(True)
                old = grpo(args, beta, rewards=("word_count",), label=" counting 'Person' BEFORE (every row whole)")
                whole_rows(False)
            arms = {}
            for prec in (args.hack_precisions or args.precision).split(","):
                arms[prec] = new = grpo(args, beta, rewards=("word_count",), label=" counting 'Person'",
                                        precision=prec)
            if len(arms) > 1:
                print("  " + ", ".join(f"{p}: {sum(t):.0f} s ({sum(t) / len(t):.1f} s/step)" for p, t in arms.items())
                      + f" ({load()})")
            if args.before:
                print(f"  {len(new)} steps: before {sum(old):.0f} s, after {sum(new):.0f} s "
                      f"(after / before = {sum(new) / sum(old):.2f}; {load()})")
    if "rm" in parts:
        reward_model(args)
    if "dpo" in parts:
        dpo(args)
    if "trl" in parts:
        theirs = trl_grpo(args)
        if app:
            mine = sum(app) / len(app)
            print(f"app GRPO step {mine:.1f} s vs trl {theirs:.1f} s: trl / app = {theirs / mine:.2f} "
                  "(target >= 1.5; under the load printed above; both in this run)")
            if before:
                was = sum(before) / len(before)
                print(f"before (every row whole) {was:.1f} s: trl / before = {theirs / was:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
