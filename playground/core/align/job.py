"""One align run: load the model, put a LoRA adapter on it, run the method's steps, yield events.

Run folder (as the fine-tuning core's, see playground.core.finetune.layout)::

    RUN/ job.toml  adapter/ (peft)  report.json  report.md  curves.png  samples.csv
         checkpoints/step-NNNNNN/  failed.json
         reward_head.safetensors (reward_model; a full one also encoder/ or adapter/)

Under ``accelerate launch`` on several processes (``playground.core.align.shard``) each process
samples its share of every group, the rewards are gathered before the advantages, gradients are
averaged, and only the main process writes the run folder. Each step is seeded from (seed, step)
(and the process), so a resumed run samples exactly what an uninterrupted one would.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from playground.core.align.config import AlignConfig
from playground.core.align.report import write_report
from playground.core.base.errors import Cancelled, InputError, PlaygroundError
from playground.core.finetune.events import CheckpointEvent, DoneEvent, StageEvent, StoppedEvent
from playground.core.finetune.layout import RunFolder
from playground.core.base.handle import TaskHandle, ensure_handle


@dataclass
class AlignStepEvent:
    """One optimizer step of an align run (GRPO's loss sits near 0 by construction: plot the reward)."""

    step: int
    total_steps: int
    method: str
    reward_mean: float
    reward_std: float
    kl: float
    entropy: float
    completion_length: float   # tokens per completion
    tokens_per_s: float
    loss: float
    seconds: float
    peak_memory_bytes: int
    extra: dict = field(default_factory=dict)  # DPO margin/accuracy, PPO value loss, GRPO group


@dataclass
class MonitorEvent:
    """The metric that is *not* optimized: ROUGE-L of greedy summaries of held-out dialogues."""

    step: int
    rouge_l: float
    samples: list  # [{"prompt_id", "completion", "reference", "reward", "rouge_l"}]: the filmstrip's frame
    kl: float | None = None  # the latest step's KL to the reference (0 at step 0)


@dataclass
class RewardModelEvent:
    """A reward model was trained: held-out accuracy, score histograms, the repeat probe."""

    report: dict


def _pairs(source: str, split: str, limit: int = 0):
    from playground.core.align.preferences import bundled_preferences, load_preferences

    pairs = bundled_preferences(split) if source == "bundled" else load_preferences(source)
    return pairs[:limit] if limit else pairs


def _truncate(tokenizer, text: str, max_tokens: int) -> str:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    return text if len(ids) <= max_tokens else tokenizer.decode(ids[-max_tokens:])


def _finite_state(model) -> bool:
    import torch

    return all(bool(torch.isfinite(p).all()) for p in model.parameters() if p.requires_grad)


def _step_seed(seed: int, step: int) -> int:
    return (seed * 1_000_003 + step * 7919) % (2**31 - 1)


def run_align(cfg: AlignConfig, handle: TaskHandle | None = None, resume: bool = False,
              tokenizer=None) -> Iterator[Any]:
    """Run an align job, yielding StageEvent, RewardModelEvent, AlignStepEvent, MonitorEvent,
    CheckpointEvent, then DoneEvent (or StoppedEvent after a Stop, with a checkpoint written).

    Raises InputError / PlaygroundError in plain words (bad settings or data, a folder in the way,
    a non-finite reward or loss: that step is refused and nothing non-finite is saved).
    ``tokenizer``: the model's tokenizer when the caller has it loaded already (the app): the job
    uses a copy of it instead of reading it again (see ``load_model``).
    """
    from playground.core.finetune.job import prepare_run_dir
    from playground.core.base.paths import atomic_write_text

    handle = ensure_handle(handle)
    cfg.validate()
    shard = _shard(cfg)
    if cfg.method.name in ("grpo", "rloo"):
        shard.local_group(cfg.method.group_size)  # a group that does not split evenly is refused now
    run = RunFolder(prepare_run_dir(cfg, resume, shard.main))
    if resume and shard.main:
        run.failed_json.unlink(missing_ok=True)
    shard.wait()
    state: dict = {"shard": shard, "tokenizer": tokenizer}
    try:
        yield from _run(cfg, handle, resume, run, state)
    except (Cancelled, GeneratorExit) as exc:
        if 0 < state.get("step", 0) and state["step"] > state.get("saved", -1) and "save" in state:
            state["save"]()
        if isinstance(exc, GeneratorExit):
            raise
        yield StoppedEvent(state.get("step", 0), state.get("checkpoint", ""))
    except Exception as exc:
        from playground.core.base.errors import describe_exception

        message, hint = describe_exception(exc)
        if shard.main:
            atomic_write_text(run.failed_json, json.dumps({"message": message, "hint": hint,
                                                           "step": state.get("step", 0)}, indent=1))
        raise


def _shard(cfg: AlignConfig):
    """One process: a Shard that does nothing. Under ``accelerate launch``: the processes' Shard."""
    import os

    from playground.core.align.shard import Shard

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Shard()
    from playground.core.finetune.job import make_accelerator

    return Shard(make_accelerator(cfg.model.device, "no"))


def _run(cfg: AlignConfig, handle: TaskHandle, resume: bool, run: RunFolder, state: dict) -> Iterator[Any]:
    import torch

    from playground.core.finetune.checkpoint import atomic_save_dir, load_checkpoint_state, save_checkpoint
    from playground.core.align.monitor import dpo_samples, monitor, samples_csv
    from playground.core.finetune.resources import PeakMeter
    from playground.core.base.paths import atomic_write_text
    from playground.core.base.runtime import quiet_loading

    m, t = cfg.method, cfg.training
    shard = state["shard"]
    device = shard.acc.device if shard.acc is not None else torch.device("cpu")
    meter = PeakMeter(device).start()
    yield StageEvent("model", f"Loading {cfg.model.source}..."
                     + (f" ({shard.world} processes)" if shard.world > 1 else ""))
    loaded, train, test = _model_and_pairs(cfg, shard, device, state["tokenizer"])
    model, tok = loaded.model, loaded.tokenizer
    handle.raise_if_cancelled()

    if m.name == "reward_model":
        if shard.world > 1:
            raise InputError("A reward model trains in one process (its features take seconds).",
                             "Run method.name = \"reward_model\" without accelerate launch.")
        yield from _reward_model(cfg, model, tok, train, test, run, meter)
        return

    ckpt = run.latest_checkpoint() if resume else None
    with quiet_loading():  # what lives for the whole run is frozen: later full collections skip it
        model, value_head, params = _policy(cfg, model, ckpt)
    opt = torch.optim.AdamW(params, lr=t.learning_rate)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)
    history = {"steps": [], "monitor": []}
    step = 0
    if ckpt is not None:
        saved, training = load_checkpoint_state(ckpt)
        opt.load_state_dict(training["optimizer"])
        history, step = saved["history"], saved["step"]
    state["step"], state["saved"] = step, step if ckpt is not None else -1

    def save_model(folder: Path) -> None:
        model.save_pretrained(str(folder))
        if value_head is not None:
            torch.save(value_head.state_dict(), folder / "value_head.pt")

    def save() -> str:
        if not _finite_state(model):
            return ""  # never save a diverged model
        path = ""
        if shard.main:  # every process holds the same weights: the main one writes, all wait
            path = str(save_checkpoint(run.path, state["step"], save_model, opt, sched,
                                       {"step": state["step"], "history": history}, t.keep_checkpoints))
        shard.wait()
        state["saved"], state["checkpoint"] = state["step"], path
        return path

    state["save"] = save
    reward_fn = _reward_fn(cfg, model, tok)
    if step == 0 and m.name != "dpo":
        yield monitor(model, tok, test, cfg, 0, history, reward_fn)
    while step < t.max_steps:
        handle.wait_while_paused()  # Pause parks here, between two steps
        if shard.any(handle.cancelled()):  # a Stop on any process stops all at the same step
            raise Cancelled()
        torch.manual_seed(_step_seed(t.seed, step) + shard.rank)
        n = m.prompts_per_step
        # GRPO / RLOO: every process the same prompts (it samples its share of each group);
        # DPO / PPO: each process its own pairs or prompts.
        first = step * n if m.name in ("grpo", "rloo") else (step * shard.world + shard.rank) * n
        batch = [train[(first + i) % len(train)] for i in range(n)]
        s = _one_step(cfg, model, value_head, tok, opt, batch, reward_fn, step, shard)
        step += 1
        state["step"] = step
        row = _history_row(s, step, batch)
        history["steps"].append(row)
        handle.report(step / t.max_steps, f"step {step}/{t.max_steps}  reward {s['reward_mean']:.3f}  KL {s['kl']:.4f}")
        yield AlignStepEvent(step, t.max_steps, m.name, s["reward_mean"], s["reward_std"], s["kl"], s["entropy"],
                             s["completion_length"], s["tokens_per_s"], s["loss"], s["seconds"], meter.peak(),
                             {k: row[k] for k in ("margin", "accuracy", "value_loss", "advantages", "samples")
                              if k in row})
        at_end = step == t.max_steps
        if m.name != "dpo" and (at_end or (t.monitor_every and step % t.monitor_every == 0)):
            yield monitor(model, tok, test, cfg, step, history, reward_fn)
        if t.save_every and step % t.save_every == 0 and not at_end:
            yield CheckpointEvent(step, save())

    yield StageEvent("save", "Saving the adapter...")
    after = dpo_samples(model, tok, test, cfg) if m.name == "dpo" else []
    report = {"method": m.name, "model": cfg.model.source, "steps": step, "beta": m.beta, "rewards": m.rewards,
              "weights": m.weights, "word": m.word, "reward_model": m.reward_model, "processes": shard.world,
              "learning_rate": t.learning_rate, "temperature": m.temperature, "group_size": m.group_size,
              "max_new_tokens": m.max_new_tokens,
              "per_step": history["steps"], "monitor": history["monitor"], "samples_after": after,
              "peak_memory_bytes": meter.peak()}
    if shard.main:
        atomic_save_dir(run.path / "adapter", save_model)
        atomic_write_text(run.path / "samples.csv", samples_csv(history))
        write_report(run.path, report)
    shard.wait()
    meter.stop()
    from playground.core.finetune.scoring import as_loaded

    yield DoneEvent(str(run.path), str(run.path / "adapter"), report, model, tok, as_loaded(loaded, model, " (aligned)"))


def _model_and_pairs(cfg: AlignConfig, shard, device, tokenizer=None):
    """The model (on this process's device) and the train / test pairs, prompts cut to length."""
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    loaded = load_model(ModelSource.parse(cfg.model.source), device="cpu", dtype="float32", tokenizer=tokenizer)
    if shard.world > 1:
        loaded.model.to(device)
    if loaded.is_encoder_decoder:
        raise InputError("The align methods here need a decoder-only (causal) model.",
                         "Load a causal model such as the bundled SmolLM2.")
    tok = loaded.tokenizer
    train = _pairs(cfg.data.source, "train", cfg.data.max_train_examples)
    test = _pairs(cfg.data.test, "test")
    for group in (train, test):
        group[:] = [type(p)(_truncate(tok, p.prompt, cfg.data.max_prompt_tokens), p.chosen, p.rejected,
                            p.reason, p.id) for p in group]
    return loaded, train, test


def _policy(cfg: AlignConfig, model, ckpt):
    """The LoRA policy (from the checkpoint when resuming), PPO's value head, the trainable parameters."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model

    from playground.core.finetune.methods import detect_lora_targets

    m = cfg.method
    if ckpt is not None:
        model = PeftModel.from_pretrained(model, str(ckpt / "model"), is_trainable=True)
    else:
        model = get_peft_model(model, LoraConfig(r=m.lora_rank, lora_alpha=2 * m.lora_rank, lora_dropout=0.0,
                                                 target_modules=detect_lora_targets(model)))
    value_head = None
    params = [p for p in model.parameters() if p.requires_grad]
    if m.name == "ppo":
        from playground.core.align.ppo import ValueHead

        value_head = ValueHead(model.config.hidden_size)
        if ckpt is not None and (ckpt / "model" / "value_head.pt").is_file():
            value_head.load_state_dict(torch.load(ckpt / "model" / "value_head.pt", weights_only=True))
        params += list(value_head.parameters())
    return model, value_head, params


def _one_step(cfg: AlignConfig, model, value_head, tok, opt, batch, reward_fn, step: int, shard) -> dict:
    """One optimizer step of the job's method; out of memory and a diverged adapter said plainly."""
    import torch

    from playground.core.align.steps import dpo_step, online_step, ppo_step

    m, t = cfg.method, cfg.training
    prompts, refs = [p.prompt for p in batch], [p.chosen for p in batch]
    try:
        if m.name == "dpo":
            s = dpo_step(model, tok, opt, batch, beta=m.beta, step=step, max_grad_norm=t.max_grad_norm, shard=shard)
        elif m.name == "ppo":
            s = ppo_step(model, value_head, tok, opt, prompts, refs, reward_fn, max_new_tokens=m.max_new_tokens,
                         kl_coef=m.beta, epsilon=m.epsilon, vf_coef=m.vf_coef, lam=m.gae_lambda, step=step,
                         max_grad_norm=t.max_grad_norm, shard=shard)
        else:
            s = online_step(model, tok, opt, prompts, refs, reward_fn, method=m.name, group_size=m.group_size,
                            max_new_tokens=m.max_new_tokens, beta=m.beta, epsilon=m.epsilon,
                            temperature=m.temperature, step=step, max_grad_norm=t.max_grad_norm, shard=shard)
    except torch.OutOfMemoryError:
        raise PlaygroundError(f"The device ran out of memory at step {step + 1}.",
                              "Lower method.group_size, method.max_new_tokens or data.max_prompt_tokens.") from None
    if not _finite_state(model):
        raise PlaygroundError(f"The adapter's weights became non-finite at step {step + 1} (the run diverged).",
                              "Nothing non-finite was saved: lower the learning rate and resume from the last checkpoint.")
    return s


def _history_row(s: dict, step: int, batch) -> dict:
    """A step's figures for report.json; the first prompt's group (this process's share of it) for the
    tab, the filmstrip and notebooks."""
    row = {k: v for k, v in s.items() if isinstance(v, (int, float))}
    row["step"] = step
    if "completions" in s:
        share = len(s["completions"]) // max(1, len(batch))
        row["samples"] = [{"completion": c, "reward": r, "reference": batch[0].chosen}
                          for c, r in zip(s["completions"][:share], s["rewards"][:share])]
        if "advantages" in s:
            row["advantages"] = s["advantages"][:share]
    return row


def _reward_fn(cfg: AlignConfig, model=None, tok=None):
    from playground.core.align.rewards import combine, make_reward

    m = cfg.method
    rm = None
    if "reward_model" in m.rewards:
        from playground.core.align.reward_model import RewardModel

        rm = RewardModel.load(m.reward_model, model, tok)
    parts = [(make_reward(name, target_words=m.target_words, word=m.word, reward_model=rm), float(w))
             for name, w in zip(m.rewards, m.weights)]
    return parts[0][0] if len(parts) == 1 and parts[0][1] == 1.0 else combine(parts)










def _reward_model(cfg, model, tok, train, test, run, meter) -> Iterator[Any]:
    from playground.core.align.reward_model import RewardModel, probe_repeat

    m, t = cfg.method, cfg.training
    if m.reward_backbone == "encoder":
        from playground.core.align.reward_model import load_encoder_backbone

        yield StageEvent("model", "Loading the bundled encoder as the reward model's backbone...")
        encoder, encoder_tok = load_encoder_backbone(trainable=m.reward_mode == "full")
        rm = RewardModel(encoder, encoder_tok, m.reward_mode, "encoder")
    else:
        rm = RewardModel(model, tok, m.reward_mode, "policy")
    yield StageEvent("train", f"Training a {m.reward_mode} reward model on {len(train)} pairs...")
    began = time.perf_counter()
    if m.reward_mode == "quick":
        rep = rm.train_quick(train, test, steps=max(t.max_steps, 1))
    else:
        rep = rm.train_full(train, test, steps=t.max_steps, lr=t.learning_rate, batch_pairs=m.prompts_per_step)
    probe = probe_repeat(rm, test)
    if not all(math.isfinite(v) for v in rep.losses):
        raise PlaygroundError("The reward model's loss became non-finite.", "Lower the learning rate.")
    report = {"method": "reward_model", "model": cfg.model.source, "mode": rep.mode, "steps": rep.steps,
              "backbone": m.reward_backbone, "train_accuracy": rep.train_accuracy, "vocab_size": len(rm.tokenizer),
              "test_accuracy": rep.test_accuracy, "losses": rep.losses, "chosen_scores": rep.chosen_scores,
              "rejected_scores": rep.rejected_scores, "probe_repeat": probe,
              "seconds": time.perf_counter() - began, "peak_memory_bytes": meter.peak()}
    yield RewardModelEvent(report)
    rm.save(run.path / "reward_head.safetensors", cfg.model.source)  # a full one writes its backbone too
    write_report(run.path, report)
    meter.stop()
    yield DoneEvent(str(run.path), str(run.path / "reward_head.safetensors"), report, None, tok, None)
