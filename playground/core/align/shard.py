"""Several processes under ``accelerate launch``: each samples its share of every group.

GRPO and RLOO compare the completions of one prompt with each other, so the group is split
across processes (each samples ``group_size / processes`` completions of the same prompts, from
its own seed) and the rewards are gathered before the advantages: every process then computes
the advantages of the whole group and keeps its own part. DPO and PPO give each process its own
pairs or prompts. Gradients of the (small) LoRA weights are averaged across processes after each
backward pass, so every process takes the same optimizer step: the same as one process would with
the whole batch, since each loss is a mean over completions and every process holds as many.

One process (the GUI, a plain ``playground align``): ``Shard()`` does nothing at all.
"""

from __future__ import annotations

import torch

from playground.core.base.errors import InputError


class Shard:
    def __init__(self, accelerator=None) -> None:
        self.acc = accelerator
        self.world = accelerator.num_processes if accelerator is not None else 1
        self.rank = accelerator.process_index if accelerator is not None else 0

    @property
    def main(self) -> bool:
        return self.rank == 0

    def local_group(self, group_size: int) -> int:
        """Completions of each prompt this process samples."""
        if group_size % self.world:
            raise InputError(f"method.group_size ({group_size}) must be a multiple of the number of processes "
                             f"({self.world}): each process samples an equal share of every group.",
                             f"Use a group size of {self.world * max(1, round(group_size / self.world))}.")
        return group_size // self.world

    def _gather(self, local: torch.Tensor) -> torch.Tensor:
        return self.acc.gather(local.contiguous())

    def whole_groups(self, local: torch.Tensor, n_prompts: int) -> torch.Tensor:
        """This process's values (prompt-major: its share of prompt 0, of prompt 1, ...) -> the
        whole groups' values in the layout one process would have (all of prompt 0, then 1, ...)."""
        if self.world == 1:
            return local
        every = self._gather(local).view(self.world, n_prompts, -1)
        return every.transpose(0, 1).reshape(-1)

    def my_part(self, whole: torch.Tensor, n_prompts: int) -> torch.Tensor:
        """The inverse of ``whole_groups``: this process's share of the whole groups' values."""
        if self.world == 1:
            return whole
        return whole.view(n_prompts, self.world, -1)[:, self.rank].reshape(-1)

    def mean(self, value: float) -> float:
        if self.world == 1:
            return value
        return float(self.acc.reduce(torch.tensor([float(value)]), reduction="mean")[0])

    def total(self, value: float) -> float:
        if self.world == 1:
            return value
        return float(self.acc.reduce(torch.tensor([float(value)]), reduction="sum")[0])

    def any(self, flag: bool) -> bool:
        """True on every process when it is true on one (a Stop on any process stops them all)."""
        return self.total(float(flag)) > 0 if self.world > 1 else flag

    def sync_gradients(self, params) -> None:
        """Average the gradients across processes (every process then takes the same step)."""
        if self.world == 1:
            return
        for p in params:
            if p.grad is not None:
                p.grad = self.acc.reduce(p.grad.contiguous(), reduction="mean")

    def wait(self) -> None:
        if self.world > 1:
            self.acc.wait_for_everyone()
