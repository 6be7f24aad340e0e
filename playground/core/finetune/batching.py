"""Which examples go into which step, and turning them into tensors with little padding.

The plan is a pure function of (seed, epoch, step), so a resumed run sees exactly the batches an
uninterrupted run would have seen, on every process, without saving a sampler's state.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from playground.core.finetune.dataset import IGNORE, TrainingExample

# Length grouping sorts within windows of this many micro-batches: batches hold similar lengths
# (little padding) while the order stays random at a coarser grain.
GROUP_WINDOW = 32


def epoch_batches(lengths: list[int], micro_batch_size: int, seed: int, epoch: int,
                  length_grouped: bool) -> list[list[int]]:
    """The micro-batches (lists of example indices) of one epoch, in training order."""
    rng = random.Random(seed * 1_000_003 + epoch)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    mbs = micro_batch_size
    if not length_grouped or mbs == 1:
        return [order[i:i + mbs] for i in range(0, len(order), mbs)]
    window = mbs * GROUP_WINDOW
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start:start + window], key=lambda j: lengths[j], reverse=True)
        batches.extend(chunk[i:i + mbs] for i in range(0, len(chunk), mbs))
    rng.shuffle(batches)
    return batches


@dataclass
class StepBatches:
    epoch: int
    micro_batches: list[list[int]]  # this process's micro-batches for the step
    label_tokens: int               # tokens with a label in the whole step, all processes together


def steps_per_epoch(examples: int, micro_batch_size: int, accumulation: int, world: int = 1) -> int:
    """Optimizer steps in one pass over ``examples`` (several processes drop the ragged end)."""
    n_mb = math.ceil(examples / micro_batch_size)
    per_step = accumulation * world
    return math.ceil(n_mb / per_step) if world == 1 else n_mb // per_step


def total_steps(per_epoch: int, epochs: float, max_steps: int = 0) -> int:
    """The run's optimizer steps: ``max_steps`` when set, else ``epochs`` (fractional) passes."""
    if max_steps > 0:
        return max_steps
    return max(1, math.ceil(epochs * per_epoch))


#: Fewer optimizer steps than this show noise more than learning (the Method step says so).
FEW_STEPS = 20


def planned_steps(training, examples: int) -> int:
    """The optimizer steps a job's ``training`` settings give on ``examples`` (one process)."""
    per_epoch = steps_per_epoch(examples, training.micro_batch_size, training.gradient_accumulation_steps)
    return total_steps(per_epoch, training.epochs, training.max_steps)


def describe_steps(training, examples: int) -> str:
    """The number of optimizer steps the settings give, worked out in one sentence, and a plain
    warning when there are so few that the loss curve shows noise rather than learning."""
    t = training
    per_step = t.micro_batch_size * t.gradient_accumulation_steps
    per_epoch = steps_per_epoch(examples, t.micro_batch_size, t.gradient_accumulation_steps)
    steps = planned_steps(t, examples)
    text = (f"{examples:,} training examples, {t.micro_batch_size} per micro-batch × "
            f"{t.gradient_accumulation_steps} accumulated = {per_step} per optimizer step: "
            f"{per_epoch:,} step{'s' if per_epoch != 1 else ''} per epoch")
    if t.max_steps > 0:
        text += f"; max steps {t.max_steps} (epochs do not count) → {steps:,} optimizer steps."
    else:
        text += f" × {t.epochs:g} epoch(s) → {steps:,} optimizer step{'s' if steps != 1 else ''}."
    if steps < FEW_STEPS:
        text += (f" So few steps on {examples:,} examples show noise, not learning: the loss can rise as easily "
                 "as fall. Give it more steps (more epochs or examples, or max steps) before reading the curve.")
    return text


class StepPlan:
    """The micro-batches of every optimizer step, for every process.

    One optimizer step takes ``accumulation`` micro-batches on each of ``world`` processes.
    With one process the last step of an epoch may be short; with several, an epoch's leftover
    micro-batches wait for the next shuffle, so every process always has the same work.
    """

    def __init__(self, examples: list[TrainingExample], micro_batch_size: int, accumulation: int,
                 world: int = 1, rank: int = 0, seed: int = 0, length_grouped: bool = True) -> None:
        self.lengths = [e.num_tokens for e in examples]
        self.label_counts = [sum(1 for x in e.labels if x != IGNORE) for e in examples]
        self.micro_batch_size = micro_batch_size
        self.accumulation = accumulation
        self.world, self.rank = world, rank
        self.seed, self.length_grouped = seed, length_grouped
        self.steps_per_epoch = steps_per_epoch(len(examples), micro_batch_size, accumulation, world)
        self._cache: dict[int, list[list[int]]] = {}

    def total_steps(self, epochs: float, max_steps: int = 0) -> int:
        return total_steps(self.steps_per_epoch, epochs, max_steps)

    def batches_of_epoch(self, epoch: int) -> list[list[int]]:
        if epoch not in self._cache:
            self._cache = {epoch: epoch_batches(self.lengths, self.micro_batch_size, self.seed, epoch,
                                                self.length_grouped)}
        return self._cache[epoch]

    def step(self, global_step: int) -> StepBatches:
        """The work of optimizer step ``global_step`` (0-based) for this process."""
        if self.steps_per_epoch < 1:
            raise ValueError("not enough examples for one step")
        epoch, within = divmod(global_step, self.steps_per_epoch)
        per_step = self.accumulation * self.world
        group = self.batches_of_epoch(epoch)[within * per_step:(within + 1) * per_step]
        per_rank = math.ceil(len(group) / self.world)
        mine = group[self.rank * per_rank:(self.rank + 1) * per_rank]
        labels = sum(self.label_counts[i] for mb in group for i in mb)
        return StepBatches(epoch, mine, labels)


def step_passes(micro_batches: list[list[int]], lengths: list[int], budget: int) -> list[list[int]]:
    """The forward passes of one optimizer step: the step's examples, longest first, run together
    while a pass holds at most ``budget`` tokens (padding included).

    The step's loss is the sum over its completion tokens divided by their number, so how its
    examples are split into passes changes no gradient (up to rounding): fewer, fuller passes only
    spend less time per token. With ``budget`` = micro_batch_size x max_length a pass never holds
    more tokens than one micro-batch of the job's settings could, so the peak memory stays within
    what those settings already allow. An example longer than the budget runs alone.
    """
    order = sorted((j for mb in micro_batches for j in mb), key=lambda j: (-lengths[j], j))
    passes: list[list[int]] = []
    for j in order:
        if passes and (len(passes[-1]) + 1) * lengths[passes[-1][0]] <= budget:
            passes[-1].append(j)
        else:
            passes.append([j])
    return passes


def collate(examples: list[TrainingExample], pad_id: int, encoder_decoder: bool = False) -> dict:
    """Pad a micro-batch to its longest example; labels pad with -100 so padding never counts.

    ``real_tokens`` counts the tokens of the examples, ``processed_tokens`` those the model
    computes on (padding included): their gap is the compute padding wastes.
    """
    import torch

    width = max(len(e.input_ids) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, :len(e.input_ids)] = torch.tensor(e.input_ids)
        mask[i, :len(e.input_ids)] = 1
    lab_width = max(len(e.labels) for e in examples)
    labels = torch.full((len(examples), lab_width), IGNORE, dtype=torch.long)
    for i, e in enumerate(examples):
        labels[i, :len(e.labels)] = torch.tensor(e.labels)
    real = int(mask.sum()) + (sum(len(e.labels) for e in examples) if encoder_decoder else 0)
    processed = ids.numel() + (labels.numel() if encoder_decoder else 0)
    return {"input_ids": ids, "attention_mask": mask, "labels": labels, "real_tokens": real,
            "processed_tokens": processed}
