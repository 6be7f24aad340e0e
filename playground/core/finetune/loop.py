"""The training loop: accumulation, schedule, validation, checkpoints, Stop, resume, on Accelerate.

Every optimizer step is a unit: a Stop (``handle.request_stop()``) is seen between steps, and
events are yielded only between steps, so whenever the watcher stops listening (a cancelled task's
generator is closed) the model and optimizer are consistent and a checkpoint written then resumes
exactly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from playground.core.base.errors import Cancelled, PlaygroundError, writing
from playground.core.finetune.batching import StepPlan, collate, step_passes
from playground.core.finetune.checkpoint import latest_checkpoint, save_checkpoint
from playground.core.finetune.config import FinetuneConfig
from playground.core.finetune.divergence import divergence, diverged_error
from playground.core.finetune.events import (
    CheckpointEvent,
    EvalEvent,
    StepEvent,
    StoppedEvent,
)
from playground.core.finetune.loss import batch_to, completion_loss_sum, loss_totals
from playground.core.finetune.methods import METHOD_FACTS
from playground.core.finetune.resources import PeakMeter
from playground.core.base.handle import TaskHandle
from playground.core.base.progress import report_step

#: the phase name of the optimizer steps (the progress strip restarts its bar per phase)
TRAINING = "Training"


@dataclass
class History:
    """Curves and counters of a run; saved in every checkpoint so a resumed run keeps them."""

    step: int = 0
    tokens_seen: int = 0       # real tokens (prompt + summary) trained on, all processes
    tokens_processed: int = 0  # the same plus padding: what the model computed on
    train_seconds: float = 0.0
    losses: list = field(default_factory=list)       # [step, loss, learning rate]
    validation: list = field(default_factory=list)   # [step, validation loss]
    extra: dict = field(default_factory=dict)        # e.g. ROUGE before, carried across resumes

    def to_dict(self) -> dict:
        return {"step": self.step, "tokens_seen": self.tokens_seen, "tokens_processed": self.tokens_processed,
                "train_seconds": self.train_seconds,
                "losses": self.losses, "validation": self.validation, "extra": self.extra}

    @staticmethod
    def from_dict(d: dict) -> "History":
        return History(d["step"], d["tokens_seen"], d.get("tokens_processed", d["tokens_seen"]),
                       d["train_seconds"], d["losses"], d["validation"], d.get("extra", {}))


def make_schedule(optimizer, name: str, warmup: int, total: int):
    from transformers import (
        get_constant_schedule_with_warmup,
        get_cosine_schedule_with_warmup,
        get_linear_schedule_with_warmup,
    )

    if name == "constant":
        return get_constant_schedule_with_warmup(optimizer, warmup)
    make = get_cosine_schedule_with_warmup if name == "cosine" else get_linear_schedule_with_warmup
    return make(optimizer, warmup, total)


def step_seed(seed: int, step: int, rank: int) -> int:
    """The random seed of one step on one process: dropout is the same after a resume."""
    return (seed * 1_000_003 + step * 7919 + rank * 104_729) % (2**63 - 1)


def out_of_memory_error(cfg: FinetuneConfig, step: int) -> PlaygroundError:
    t = cfg.training
    hints = [f"lower training.micro_batch_size (now {t.micro_batch_size}) and raise "
             "gradient_accumulation_steps to keep the same effective batch"]
    if not t.gradient_checkpointing:
        hints.append("turn on training.gradient_checkpointing")
    hints.append(f"lower data.max_length (now {cfg.data.max_length})")
    if METHOD_FACTS[cfg.method.name].trains_all:
        hints.append("use LoRA instead of full fine-tuning (it keeps no gradients or optimizer state for the base weights)")
    return PlaygroundError(f"The device ran out of memory during training step {step + 1}.",
                           "To fit: " + "; ".join(hints) + ".")


class Trainer:
    """Runs the optimizer steps of one job; ``run()`` yields events between steps."""

    def __init__(self, accelerator, model, optimizer, cfg: FinetuneConfig, train, validation, pad_id: int,
                 encoder_decoder: bool, virtual_tokens: int, run_dir: Path,
                 save_model: Callable[[Path], None], history: History, handle: TaskHandle,
                 resume_training_state: dict | None = None, meter: PeakMeter | None = None) -> None:
        self.acc, self.model, self.optimizer, self.cfg = accelerator, model, optimizer, cfg
        self.train, self.validation, self.pad_id = train, validation, pad_id
        self.encoder_decoder, self.virtual_tokens = encoder_decoder, virtual_tokens
        self.run_dir, self.save_model, self.history, self.handle = run_dir, save_model, history, handle
        t = cfg.training
        self.plan = StepPlan(train, t.micro_batch_size, t.gradient_accumulation_steps,
                             accelerator.num_processes, accelerator.process_index, t.seed,
                             t.batching == "length_grouped")
        if self.plan.steps_per_epoch < 1:
            raise PlaygroundError(
                f"{len(train)} training examples are too few for one step of "
                f"{t.micro_batch_size} x {t.gradient_accumulation_steps} x {accelerator.num_processes} processes.",
                "Use more examples, or lower micro_batch_size or gradient_accumulation_steps.")
        self.total_steps = self.plan.total_steps(t.epochs, t.max_steps)
        # length_grouped: a step's examples run in length-sorted passes of at most one micro-batch's
        # worth of tokens (fewer, fuller forward passes; the same gradient); random: as planned.
        self.pass_budget = t.micro_batch_size * cfg.data.max_length if t.batching == "length_grouped" else 0
        warmup = int(round(t.warmup_ratio * self.total_steps))
        self.scheduler = make_schedule(optimizer, t.schedule, warmup, self.total_steps)
        if resume_training_state is not None:
            optimizer.load_state_dict(resume_training_state["optimizer"])
            self.scheduler.load_state_dict(resume_training_state["scheduler"])
        self.last_checkpoint_step = history.step if resume_training_state is not None else -1
        self.last_checkpoint = ""
        self.device = accelerator.device
        self.meter = meter if meter is not None else PeakMeter(self.device).start()

    # --- one step --------------------------------------------------------------------------------

    def _one_step(self) -> tuple[float, int, int]:
        """Forward/backward over this step's micro-batches, then the update.

        Returns (loss, real tokens, processed tokens), summed over every process.
        """
        import torch

        step = self.history.step
        work = self.plan.step(step)
        torch.manual_seed(step_seed(self.cfg.training.seed, step, self.acc.process_index))
        # DDP averages gradients over processes; scaling by the world size turns that average into
        # a mean over every completion token of the step, wherever it was computed.
        scale = self.acc.num_processes / max(1, work.label_tokens)
        loss_sum = torch.zeros((), device=self.device)
        real = processed = 0
        passes = (step_passes(work.micro_batches, self.plan.lengths, self.pass_budget) if self.pass_budget
                  else work.micro_batches)
        for i, mb in enumerate(passes):
            batch = batch_to(collate([self.train[j] for j in mb], self.pad_id, self.encoder_decoder), self.device)
            real += batch.pop("real_tokens")
            processed += batch.pop("processed_tokens")
            last = i == len(passes) - 1
            ctx = self.acc.no_sync(self.model) if not last else _null()
            with ctx:
                s, _ = completion_loss_sum(self.model, batch, self.encoder_decoder, self.virtual_tokens)
                self.acc.backward(s * scale)
            loss_sum += s.detach().float()
        max_norm = self.cfg.training.max_grad_norm
        # The norm before clipping (an infinite limit only measures it); gradients are already
        # averaged over processes here, so every process sees the same norm.
        norm = self.acc.clip_grad_norm_(self.model.parameters(), max_norm if max_norm > 0 else float("inf"))
        totals = torch.tensor([float(loss_sum), float(real), float(processed)], device=self.device)
        if self.acc.num_processes > 1:
            totals = self.acc.reduce(totals, reduction="sum")
        loss = float(totals[0]) / max(1, work.label_tokens)
        # Checked before the update: a diverged step never reaches the weights.
        fp16 = self.acc.mixed_precision == "fp16"  # its scaler skips steps with infinite gradients
        reason = divergence(loss, self.history.losses[0][1] if self.history.losses else None,
                            None if fp16 or norm is None else float(norm))
        if reason is not None:
            self.optimizer.zero_grad(set_to_none=True)
            kept = latest_checkpoint(self.run_dir)
            raise diverged_error(reason, step + 1, self.cfg.learning_rate, str(kept) if kept else "")
        self.optimizer.step()
        if not self.acc.optimizer_step_was_skipped:  # fp16: a step with inf gradients is skipped
            self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return loss, int(totals[1]), int(totals[2])

    def _stop_requested(self) -> bool:
        """A Stop (graceful or a cancel) on any process stops every process at the same step
        (else they would wait forever)."""
        stop = self.handle.stop_requested()
        if self.acc.num_processes > 1:
            import torch

            flag = self.acc.reduce(torch.tensor([float(stop)], device=self.device), reduction="sum")
            stop = bool(flag[0] > 0)
        return stop

    def validation_loss(self) -> float | None:
        """Mean loss per completion token on the validation split (all processes share the work)."""
        import torch

        if not self.validation:
            return None
        mine = self.validation[self.acc.process_index::self.acc.num_processes]
        model = self.acc.unwrap_model(self.model)
        batch_size = max(1, self.cfg.training.micro_batch_size)
        if self.pass_budget:  # no gradients here: as many examples per pass as the training passes hold
            batch_size = max(batch_size, self.pass_budget // max((e.num_tokens for e in mine), default=1))
        total, count = loss_totals(model, mine, self.pad_id, self.encoder_decoder, self.virtual_tokens,
                                   self.device, batch_size=batch_size)
        t = torch.tensor([total, float(count)], device=self.device)
        if self.acc.num_processes > 1:
            t = self.acc.reduce(t, reduction="sum")
        return float(t[0]) / max(1.0, float(t[1]))

    def checkpoint(self) -> str:
        """Write a checkpoint of the current step (main process writes; all wait)."""
        self.acc.wait_for_everyone()
        path = ""
        if self.acc.is_main_process:
            state = self.history.to_dict() | {"total_steps": self.total_steps,
                                              "processes": self.acc.num_processes}
            before = latest_checkpoint(self.run_dir)
            kept = f"The last checkpoint is safe: {before}." if before else "No checkpoint was written yet."
            with writing(f"the checkpoint of step {self.history.step}", self.run_dir, kept):
                path = str(save_checkpoint(self.run_dir, self.history.step, self.save_model, self.optimizer,
                                           self.scheduler, state, self.cfg.training.keep_checkpoints))
        self.acc.wait_for_everyone()
        self.last_checkpoint_step = self.history.step
        self.last_checkpoint = path
        return path

    # --- the loop ---------------------------------------------------------------------------------

    def run(self) -> Iterator[Any]:
        import torch

        t = self.cfg.training
        h = self.history
        self.model.train()
        if h.step == 0 and t.eval_every > 0 and self.validation:
            report_step(self.handle, "Validation loss before training", 0, None)
            val = self.validation_loss()
            h.validation.append([0, val])
            yield EvalEvent(0, val)
        session_start, session_steps = time.perf_counter(), 0
        recent: list[tuple[float, int]] = []  # (seconds, tokens) of the last steps, for a steady rate
        report_step(self.handle, TRAINING, h.step, self.total_steps)  # the phase's clock starts here
        try:
            while h.step < self.total_steps:
                if self._stop_requested():
                    raise Cancelled()
                lr = self.scheduler.get_last_lr()[0]
                began = time.perf_counter()
                try:
                    loss, real, processed = self._one_step()
                except torch.OutOfMemoryError:
                    raise out_of_memory_error(self.cfg, h.step) from None
                spent = time.perf_counter() - began
                h.step += 1
                session_steps += 1
                h.tokens_seen += real
                h.tokens_processed += processed
                h.train_seconds += spent
                h.losses.append([h.step, loss, lr])
                recent = (recent + [(spent, real)])[-20:]
                rate = sum(r for _, r in recent) / max(1e-9, sum(s for s, _ in recent))
                per_step = (time.perf_counter() - session_start) / session_steps
                report_step(self.handle, TRAINING, h.step, self.total_steps, f"loss {loss:.3f}")
                yield StepEvent(h.step, self.total_steps, h.step / self.plan.steps_per_epoch, loss, lr, rate,
                                per_step * (self.total_steps - h.step), h.train_seconds,
                                self.meter.peak(), h.tokens_seen, self.meter.added())
                at_end = h.step == self.total_steps
                if self.validation and ((t.eval_every and h.step % t.eval_every == 0) or at_end):
                    val = self.validation_loss()
                    h.validation.append([h.step, val])
                    yield EvalEvent(h.step, val)
                if t.save_every and h.step % t.save_every == 0 and not at_end:
                    path = self.checkpoint()
                    yield CheckpointEvent(h.step, path)
        except (GeneratorExit, Cancelled):
            # Stopped between two steps: the state is whole, so a checkpoint of it resumes exactly.
            if t.save_on_stop and h.step > self.last_checkpoint_step and h.step > 0:
                self.checkpoint()
            raise
        return None

    def stopped_event(self) -> StoppedEvent:
        return StoppedEvent(self.history.step, self.last_checkpoint)


class _null:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
