"""Several processes share each group: the gathered rewards give the advantages one process would
compute with the whole group (checked here with a stand-in for accelerate's gather)."""

from __future__ import annotations

import pytest
import torch

from playground.core.align.losses import group_advantages, leave_one_out_advantages
from playground.core.align.shard import Shard
from playground.core.base.errors import InputError


class _Processes:
    """What accelerate's gather returns on each of ``world`` processes: everyone's values in rank order."""

    def __init__(self, locals_):
        self.locals = locals_

    def shard(self, rank):
        procs = self

        class Acc:
            num_processes, process_index = len(procs.locals), rank

            def gather(self, t):
                return torch.cat(procs.locals)

        return Shard(Acc())


@pytest.mark.parametrize("advantages", [group_advantages, leave_one_out_advantages])
def test_shared_groups_give_the_advantages_of_the_whole_group(advantages):
    torch.manual_seed(0)
    n_prompts, group, world = 3, 4, 2
    whole = torch.randn(n_prompts * group)  # one process: prompt 0's 4 completions, then prompt 1's, ...
    per_prompt = whole.view(n_prompts, world, group // world)
    locals_ = [per_prompt[:, r].reshape(-1) for r in range(world)]  # rank r sampled its 2 of each prompt
    procs = _Processes(locals_)
    want = advantages(whole, group).view(n_prompts, world, -1)
    for rank in range(world):
        s = procs.shard(rank)
        assert s.local_group(group) == 2
        assert torch.equal(s.whole_groups(locals_[rank], n_prompts), whole)
        mine = s.my_part(advantages(s.whole_groups(locals_[rank], n_prompts), group), n_prompts)
        assert torch.allclose(mine, want[:, rank].reshape(-1))


def test_one_process_changes_nothing_and_an_uneven_group_is_refused():
    s = Shard()
    x = torch.arange(6.0)
    assert s.whole_groups(x, 2) is x and s.my_part(x, 2) is x and s.mean(2.5) == 2.5 and not s.any(False)
    procs = _Processes([torch.zeros(2), torch.zeros(2)])
    with pytest.raises(InputError, match="must be a multiple of the number of processes"):
        procs.shard(0).local_group(3)
