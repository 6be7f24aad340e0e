"""Training a reward model: the one path the Align tab's step 2 and ``playground align`` (with
``method.name = "reward_model"``) share, so a run in the tab is the run of a job file.

The job's settings decide everything: the pairs (``data.*``, plus the learner's own labels the
tab may add), how prompts are cut, the backbone, the mode, the steps and rates (``method.reward_*``,
``training.max_steps``) and the seed. The caller saves the result where it keeps reward models.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from playground.core.align.config import AlignConfig
from playground.core.align.events import RewardModelEvent
from playground.core.align.preferences import PreferencePair, cut_prompts, pairs_of
from playground.core.base.errors import PlaygroundError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.finetune.events import StageEvent


@dataclass
class TrainedRewardModel:
    """A reward model just trained, with what it learned from and how it did."""

    rm: Any                 # the RewardModel
    result: Any             # its RewardModelReport (accuracies, losses, held-out scores)
    probe: dict             # probe_repeat's {"pairs", "overpaid"}
    train: list             # the pairs it learned from, prompts cut as it saw them
    test: list              # the held-out pairs it was measured on
    seconds: float
    learning_rates: tuple   # full mode: (backbone, head); quick: ()
    path: Path | None = None  # where ``save`` wrote it
    extra_pairs: int = 0    # how many of ``train`` (its last ones) are the caller's extra pairs (the learner's)

    @property
    def job_pairs(self) -> int:
        """How many of ``train`` came from the job's data (the bundled pairs in the tab)."""
        return len(self.train) - self.extra_pairs

    @property
    def can_pay(self) -> bool:
        """Whether it can pay a policy: a full one on the causal model cannot (its LoRA backbone
        would be a second copy of the model in memory; ``RewardModel.load`` refuses it)."""
        return not (self.rm.mode == "full" and self.rm.backbone_kind == "policy")

    def report(self, cfg: AlignConfig) -> dict:
        """What report.json says about it."""
        r = self.result
        out = {"method": "reward_model", "model": cfg.model.source, "mode": r.mode, "steps": r.steps,
               "backbone": cfg.method.reward_backbone, "train_accuracy": r.train_accuracy,
               "vocab_size": len(self.rm.tokenizer), "test_accuracy": r.test_accuracy, "losses": r.losses,
               "chosen_scores": r.chosen_scores, "rejected_scores": r.rejected_scores,
               "probe_repeat": self.probe, "seconds": self.seconds, "pairs": len(self.train),
               "job_pairs": self.job_pairs, "extra_pairs": self.extra_pairs}
        if self.learning_rates:
            out.update(learning_rate=self.learning_rates[0], head_learning_rate=self.learning_rates[1],
                       batch_pairs=cfg.method.reward_batch)
        return out

    def save(self, path: str | Path, model_name: str) -> Path:
        """The head (and a full one's backbone beside it); see ``RewardModel.save``."""
        self.path = self.rm.save(path, model_name)
        return self.path


def train_reward_model(cfg: AlignConfig, tokenizer, model=None, *, extra_pairs: Sequence[PreferencePair] = (),
                       handle: TaskHandle | None = None,
                       policy_copy: Callable[[], Any] | None = None) -> Iterator[StageEvent | RewardModelEvent]:
    """Train the job's reward model, yielding StageEvents and at the end a RewardModelEvent whose
    ``trained`` is the TrainedRewardModel.

    Parameters
    ----------
    cfg
        The job: pairs from ``data`` (the first ``max_train_examples`` / ``max_test_examples``),
        prompts cut to ``data.max_prompt_tokens`` by ``tokenizer``; ``method.reward_mode``,
        ``reward_backbone``, ``reward_lr``, ``reward_head_lr``, ``reward_batch``;
        ``training.max_steps`` and ``training.seed``.
    tokenizer, model
        The policy's tokenizer (it cuts the prompts) and model (the "policy" backbone).
    extra_pairs
        More training pairs after the job's (the learner's labels in the tab).
    handle
        Progress per full-mode step, and a Stop between steps (``Cancelled``).
    policy_copy
        Gives a private copy of the policy for a full reward model on it (LoRA goes on that copy);
        None when ``model`` is the caller's own to change (a command-line run).
    """
    import torch

    from playground.core.align.reward_model import RewardModel, probe_repeat

    handle = ensure_handle(handle).ending_on_stop()  # nothing to save midway: a graceful Stop ends it too
    m, t = cfg.method, cfg.training
    cut = cfg.data.max_prompt_tokens
    train = cut_prompts(pairs_of(cfg.data.source, "train", cfg.data.max_train_examples) + list(extra_pairs),
                        tokenizer, cut)
    test = cut_prompts(pairs_of(cfg.data.test, "test", cfg.data.max_test_examples), tokenizer, cut)
    full = m.reward_mode == "full"
    if m.reward_backbone == "encoder":
        from playground.core.align.reward_model import load_encoder_backbone

        yield StageEvent("model", "Loading the bundled encoder as the reward model's backbone...")
        report_step(handle, "Loading the reward model's backbone", 0, None)
        encoder, encoder_tok = load_encoder_backbone(trainable=full)  # full: a private copy
        rm = RewardModel(encoder, encoder_tok, m.reward_mode, "encoder")
    else:
        if full and policy_copy is not None:
            yield StageEvent("model", "Loading a training copy of the current model...")
            report_step(handle, "Loading a training copy of the model", 0, None)
            model = policy_copy()
        rm = RewardModel(model, tokenizer, m.reward_mode, "policy")
    torch.manual_seed(t.seed)  # after loading (which may draw numbers): a LoRA adapter starts the same each run
    began = time.perf_counter()
    handle.raise_if_cancelled()
    if not full:
        yield StageEvent("train", f"Training a quick reward model on {len(train)} pairs (features of "
                                  f"{2 * len(train) + 4 * len(test)} texts)...")
        report_step(handle, "Computing features and fitting the head", 0, None)
        result, rates = rm.train_quick(train, test, steps=max(t.max_steps, 1)), ()
    else:
        def on_step(step: int, total: int, loss: float) -> None:
            report_step(handle, "Training the reward model", step, total, f"loss {loss:.3f}")
            handle.raise_if_cancelled()

        rates = (m.full_reward_lr(), m.reward_head_lr)
        report_step(handle, "Training the reward model", 0, t.max_steps)
        yield StageEvent("train", f"Training a full reward model on {len(train)} pairs: {t.max_steps} steps of "
                                  f"{m.reward_batch} pairs...")
        result = rm.train_full(train, test, steps=t.max_steps, lr=rates[0], batch_pairs=m.reward_batch,
                               lora_r=m.lora_rank, on_step=on_step, head_lr=rates[1])
    seconds = time.perf_counter() - began
    if not all(math.isfinite(v) for v in result.losses):
        raise PlaygroundError("The reward model's loss became non-finite.", "Lower the learning rate.")
    yield StageEvent("probe", "Probing: the reference said twice...")
    report_step(handle, "Probing: the reference said twice", 0, None)
    trained = TrainedRewardModel(rm, result, probe_repeat(rm, test), train, test, seconds, rates,
                                 extra_pairs=len(extra_pairs))
    yield RewardModelEvent(trained.report(cfg), trained)
