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
import time
from pathlib import Path
from typing import Any, Iterator

from playground.core.align.config import AlignConfig
from playground.core.align.events import AlignStepEvent, MonitorEvent, RewardModelEvent  # noqa: F401 (re-exported)
from playground.core.align.methods import ALIGN_METHOD_FACTS
from playground.core.align.preferences import cut_prompts, pairs_of
from playground.core.align.report import write_report
from playground.core.align.run_precision import RunPrecision, align_precision  # noqa: F401 (re-exported)
from playground.core.base.errors import Cancelled, InputError, PlaygroundError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.finetune.events import CheckpointEvent, DoneEvent, StageEvent, StoppedEvent
from playground.core.finetune.layout import RunFolder

#: the phase names of an align run (the progress strip restarts its bar and its estimate per phase)
LOADING, OPTIMIZING, SAVING = "Loading a training copy of the model", "Optimizing the policy", "Saving the adapter"
#: the detail while the monitor summarizes the held-out dialogues (part of the optimizing phase's time)
MONITORING = "summarizing the held-out dialogues (monitor)"


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
    if ALIGN_METHOD_FACTS[cfg.method.name].shares_groups:
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
    facts = ALIGN_METHOD_FACTS[m.name]
    shard = state["shard"]
    if facts.one_process and shard.world > 1:
        raise InputError(f"A {facts.label.lower()} trains in one process (its features take seconds).",
                         f"Run method.name = \"{m.name}\" without accelerate launch.")
    device = shard.acc.device if shard.acc is not None else torch.device("cpu")
    meter = PeakMeter(device).start()
    from playground.core.align.start import start_name

    start = start_name(cfg.model.adapter)
    yield StageEvent("model", f"Loading {cfg.model.source}..."
                     + (f" (starting from {start}: its LoRA merged in)" if cfg.model.adapter else "")
                     + (f" ({shard.world} processes)" if shard.world > 1 else ""))
    report_step(handle, LOADING, 0, None)
    loaded = _model(cfg, shard, device, state["tokenizer"])
    model, tok = loaded.model, loaded.tokenizer
    handle.raise_if_cancelled()

    if not facts.trains_policy:
        yield from _reward_model(cfg, model, tok, run, meter, handle)
        return
    train, test = _pairs(cfg, tok)

    ckpt = run.latest_checkpoint() if resume else None
    with quiet_loading():  # what lives for the whole run is frozen: later full collections skip it
        model, value_head, params = _policy(cfg, model, ckpt)
    with quiet_loading():  # at BF16 the online methods sample from a BF16 copy of the policy
        prec = RunPrecision(align_precision(cfg.model.precision, str(device)), str(device), model,
                            samples=facts.data == "prompts")
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
    reward_fn = _reward_fn(cfg, model, tok) if facts.needs_reward else None
    report_step(handle, OPTIMIZING, step, t.max_steps, MONITORING if step == 0 and facts.monitors else "")
    if step == 0 and facts.monitors:
        yield monitor(model, tok, test, cfg, 0, history, reward_fn, sampler=prec.current())
    while step < t.max_steps:
        handle.wait_while_paused()  # Pause parks here, between two steps
        if shard.any(handle.cancelled()):  # a Stop on any process stops all at the same step
            raise Cancelled()
        torch.manual_seed(_step_seed(t.seed, step) + shard.rank)
        n = m.prompts_per_step
        # GRPO / RLOO: every process the same prompts (it samples its share of each group);
        # DPO / PPO: each process its own pairs or prompts.
        first = step * n if facts.shares_groups else (step * shard.world + shard.rank) * n
        batch = [train[(first + i) % len(train)] for i in range(n)]
        refreshing = time.perf_counter()
        sampler = prec.current()
        refreshing = time.perf_counter() - refreshing
        s = _one_step(cfg, model, value_head, tok, opt, batch, reward_fn, step, shard, sampler=sampler,
                      passes=prec.passes)
        if sampler is not None:  # the step's time includes bringing the copy up to date
            s["seconds"] += refreshing
            s["generation_seconds"] = s.get("generation_seconds", 0.0) + refreshing
            s["tokens_per_s"] = s["tokens"] / max(s["seconds"], 1e-9)
        step += 1
        state["step"] = step
        row = _history_row(s, step, batch)
        history["steps"].append(row)
        report_step(handle, OPTIMIZING, step, t.max_steps, f"reward {s['reward_mean']:.3f}, KL {s['kl']:.4f}")
        yield AlignStepEvent(step, t.max_steps, m.name, s["reward_mean"], s["reward_std"], s["kl"], s["entropy"],
                             s["completion_length"], s["tokens_per_s"], s["loss"], s["seconds"], meter.peak(),
                             {k: row[k] for k in ("margin", "accuracy", "value_loss", "advantages", "samples")
                              if k in row})
        at_end = step == t.max_steps
        if facts.monitors and (at_end or (t.monitor_every and step % t.monitor_every == 0)):
            report_step(handle, OPTIMIZING, step, t.max_steps, MONITORING)
            yield monitor(model, tok, test, cfg, step, history, reward_fn, sampler=prec.current())
        if t.save_every and step % t.save_every == 0 and not at_end:
            yield CheckpointEvent(step, save())

    yield StageEvent("save", "Saving the adapter...")
    report_step(handle, SAVING, 0, None)
    after = [] if facts.monitors else dpo_samples(model, tok, test, cfg)  # no monitor: before / after instead
    report = {"method": m.name, "model": cfg.model.source, "start": start, "start_adapter": cfg.model.adapter,
              "steps": step, "beta": m.beta, "rewards": m.rewards,
              "weights": m.weights, "word": m.word, "reward_model": m.reward_model, "processes": shard.world,
              "learning_rate": t.learning_rate, "temperature": m.temperature, "group_size": m.group_size,
              "max_new_tokens": m.max_new_tokens, "loss_type": m.loss_type, "precision": prec.name,
              "per_step": history["steps"], "monitor": history["monitor"], "samples_after": after,
              "peak_memory_bytes": meter.peak()}
    def save_final(folder: Path) -> None:
        """The run's adapter/: on the base model, so it holds the LoRA it started from too."""
        if not cfg.model.adapter:
            return save_model(folder)
        from playground.core.align.start import save_started_adapter

        save_started_adapter(model, cfg.model.adapter, folder)
        if value_head is not None:
            torch.save(value_head.state_dict(), folder / "value_head.pt")

    if shard.main:
        atomic_save_dir(run.path / "adapter", save_final)
        atomic_write_text(run.path / "samples.csv", samples_csv(history))
        write_report(run.path, report)
    shard.wait()
    meter.stop()
    from playground.core.finetune.scoring import as_loaded

    yield DoneEvent(str(run.path), str(run.path / "adapter"), report, model, tok, as_loaded(loaded, model, " (aligned)"))


def _model(cfg: AlignConfig, shard, device, tokenizer=None):
    """The model (with ``model.adapter``'s LoRA merged in, where the run starts from a fine-tuned
    model), on this process's device; refused when it is not a causal model."""
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    loaded = load_model(ModelSource.parse(cfg.model.source), device="cpu", dtype="float32", tokenizer=tokenizer)
    if cfg.model.adapter and not loaded.is_encoder_decoder:
        from dataclasses import replace

        from playground.core.align.start import merge_start_adapter

        loaded = replace(loaded, model=merge_start_adapter(loaded.model, cfg.model.adapter, loaded.info.name))
    if shard.world > 1:
        loaded.model.to(device)
    if loaded.is_encoder_decoder:
        raise InputError("The align methods here need a decoder-only (causal) model.",
                         "Load a causal model such as the bundled SmolLM2.")
    return loaded


def _pairs(cfg: AlignConfig, tok):
    """The train / test pairs, prompts cut to length. Too few usable pairs is refused naming the
    method and the key to change (not "a reward model", which this run does not train)."""
    d, facts = cfg.data, ALIGN_METHOD_FACTS[cfg.method.name]

    def hint(key: str) -> str:
        if facts.data == "pairs":
            return (f"{facts.label} learns from how each pair's chosen and rejected texts differ: in {key}, give "
                    "pairs whose chosen and rejected differ (a pair with the same text twice is a tie and is dropped).")
        return (f"{facts.label} samples completions for the pairs' prompts: give at least two pairs in {key} "
                "(a pair whose chosen and rejected are the same text is a tie and is dropped).")

    return (cut_prompts(pairs_of(d.source, "train", d.max_train_examples, facts.label, hint("data.source")), tok,
                        d.max_prompt_tokens),
            cut_prompts(pairs_of(d.test, "test", d.max_test_examples, facts.label, hint("data.test")), tok,
                        d.max_prompt_tokens))


def _policy(cfg: AlignConfig, model, ckpt):
    """The LoRA policy (from the checkpoint when resuming), PPO's value head, the trainable parameters."""
    import torch
    from peft import PeftModel, get_peft_model

    from playground.core.finetune.lora import lora_config
    from playground.core.finetune.methods import detect_lora_targets

    m = cfg.method
    if ckpt is not None:
        model = PeftModel.from_pretrained(model, str(ckpt / "model"), is_trainable=True)
    else:
        model = get_peft_model(model, lora_config(m.lora_rank, target_modules=detect_lora_targets(model)))
    value_head = None
    params = [p for p in model.parameters() if p.requires_grad]
    if ALIGN_METHOD_FACTS[m.name].value_head:
        from playground.core.align.ppo import ValueHead

        value_head = ValueHead(model.config.hidden_size)
        if ckpt is not None and (ckpt / "model" / "value_head.pt").is_file():
            value_head.load_state_dict(torch.load(ckpt / "model" / "value_head.pt", weights_only=True))
        params += list(value_head.parameters())
    return model, value_head, params


def _one_step(cfg: AlignConfig, model, value_head, tok, opt, batch, reward_fn, step: int, shard, **speed) -> dict:
    """One optimizer step of the job's method; out of memory and a diverged adapter said plainly.
    ``speed``: ``sampler`` and ``passes`` (the run's precision; see ``align_precision``)."""
    import torch

    try:
        s = _STEPS[ALIGN_METHOD_FACTS[cfg.method.name].step](cfg, model, value_head, tok, opt, batch, reward_fn,
                                                             step, shard, **speed)
    except torch.OutOfMemoryError:
        raise PlaygroundError(f"The device ran out of memory at step {step + 1}.",
                              "Lower method.group_size, method.max_new_tokens or data.max_prompt_tokens.") from None
    if not _finite_state(model):
        raise PlaygroundError(f"The adapter's weights became non-finite at step {step + 1} (the run diverged).",
                              "Nothing non-finite was saved: lower the learning rate and resume from the last checkpoint.")
    return s


def _pairs_step(cfg, model, value_head, tok, opt, batch, reward_fn, step, shard, sampler=None,
                passes=None) -> dict:
    from playground.core.align.steps import dpo_step

    return dpo_step(model, tok, opt, batch, beta=cfg.method.beta, step=step,
                    max_grad_norm=cfg.training.max_grad_norm, shard=shard, passes=passes)


def _ppo_step(cfg, model, value_head, tok, opt, batch, reward_fn, step, shard, sampler=None, passes=None) -> dict:
    from playground.core.align.steps import ppo_step

    m = cfg.method
    return ppo_step(model, value_head, tok, opt, [p.prompt for p in batch], [p.chosen for p in batch], reward_fn,
                    max_new_tokens=m.max_new_tokens, kl_coef=m.beta, epsilon=m.epsilon, vf_coef=m.vf_coef,
                    lam=m.gae_lambda, step=step, max_grad_norm=cfg.training.max_grad_norm, shard=shard,
                    sampler=sampler, passes=passes)


def _group_step(cfg, model, value_head, tok, opt, batch, reward_fn, step, shard, sampler=None,
                passes=None) -> dict:
    from playground.core.align.steps import online_step

    m = cfg.method
    return online_step(model, tok, opt, [p.prompt for p in batch], [p.chosen for p in batch], reward_fn,
                       method=m.name, group_size=m.group_size, max_new_tokens=m.max_new_tokens, beta=m.beta,
                       epsilon=m.epsilon, temperature=m.temperature, step=step,
                       max_grad_norm=cfg.training.max_grad_norm, shard=shard, loss_type=m.loss_type,
                       sampler=sampler, passes=passes)


#: One optimizer step, by the method's ``AlignMethodFacts.step``.
_STEPS = {"pairs": _pairs_step, "ppo": _ppo_step, "group": _group_step}


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


def _reward_model(cfg, model, tok, run, meter, handle) -> Iterator[Any]:
    """A reward-model job: ``train_reward_model`` (the Align tab's path too), saved in the run folder."""
    from playground.core.align.reward_run import train_reward_model

    report = trained = None
    for ev in train_reward_model(cfg, tok, model, handle=handle):
        if isinstance(ev, RewardModelEvent):
            ev.report["peak_memory_bytes"] = meter.peak()
            report, trained = ev.report, ev.trained
        yield ev
    trained.save(run.path / "reward_head.safetensors", cfg.model.source)  # a full one writes its backbone too
    write_report(run.path, report)
    meter.stop()
    yield DoneEvent(str(run.path), str(run.path / "reward_head.safetensors"), report, None, tok, None)
