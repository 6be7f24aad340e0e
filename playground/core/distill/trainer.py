"""The fine-tuning loop with the distillation loss: the same steps, schedule, checkpoints, Stop,
Pause, resume and divergence check (``finetune.loop.Trainer``), with one step computing the student's
loss against the teacher's soft targets and the labels instead of the labels alone."""

from __future__ import annotations

from playground.core.base.errors import PlaygroundError
from playground.core.distill.config import DistillSettings
from playground.core.distill.loss import distill_loss_sum
from playground.core.finetune.batching import collate
from playground.core.finetune.checkpoint import latest_checkpoint
from playground.core.finetune.dataset import IGNORE
from playground.core.finetune.divergence import diverged_error, divergence
from playground.core.finetune.loop import Trainer, step_seed
from playground.core.finetune.loss import batch_to


def kept_logits(model, batch: dict):
    """(logits at the positions that predict a label, [n, vocab]; those labels, [n])."""
    labels = batch["labels"]
    predicts = labels.new_zeros(labels.shape, dtype=bool)
    predicts[:, :-1] = labels[:, 1:] != IGNORE
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=predicts,
                use_cache=False)
    return out.logits.reshape(-1, out.logits.shape[-1]), labels[:, 1:][predicts[:, :-1]]


class DistillTrainer(Trainer):
    """``Trainer`` whose step is the distillation loss; ``last_kl`` / ``last_ce`` are the last
    step's mean KL and cross-entropy per label token (for the charts)."""

    def __init__(self, *args, teacher=None, settings: DistillSettings, alpha: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.teacher, self.settings, self.alpha = teacher, settings, alpha
        self.last_kl = self.last_ce = 0.0
        if alpha < 1 and teacher is None:
            raise PlaygroundError("Soft targets need the teacher's model.")

    def _one_step(self) -> tuple[float, int, int]:
        import torch

        step = self.history.step
        work = self.plan.step(step)
        torch.manual_seed(step_seed(self.cfg.training.seed, step, self.acc.process_index))
        scale = self.acc.num_processes / max(1, work.label_tokens)
        s = self.settings
        loss_sum = torch.zeros((), device=self.device)
        kl_sum = ce_sum = 0.0
        real = processed = 0
        for mb in work.micro_batches:
            batch = batch_to(collate([self.train[j] for j in mb], self.pad_id, False), self.device)
            real += batch.pop("real_tokens")
            processed += batch.pop("processed_tokens")
            teacher_logits = None
            if self.alpha < 1:
                with torch.no_grad():
                    teacher_logits, _ = kept_logits(self.teacher, batch)
            student_logits, targets = kept_logits(self.model, batch)
            parts = distill_loss_sum(student_logits, teacher_logits, targets, s.temperature, self.alpha,
                                     s.direction)
            self.acc.backward(parts.total * scale)
            loss_sum += parts.total.detach().float()
            kl_sum += parts.kl
            ce_sum += parts.ce
        max_norm = self.cfg.training.max_grad_norm
        norm = self.acc.clip_grad_norm_(self.model.parameters(), max_norm if max_norm > 0 else float("inf"))
        loss = float(loss_sum) / max(1, work.label_tokens)
        reason = divergence(loss, self.history.losses[0][1] if self.history.losses else None,
                            None if norm is None else float(norm))
        if reason is not None:  # checked before the update: a diverged step never reaches the weights
            self.optimizer.zero_grad(set_to_none=True)
            kept = latest_checkpoint(self.run_dir)
            raise diverged_error(reason, step + 1, self.cfg.learning_rate, str(kept) if kept else "")
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.last_kl = kl_sum / max(1, work.label_tokens)
        self.last_ce = ce_sum / max(1, work.label_tokens)
        return loss, real, processed
