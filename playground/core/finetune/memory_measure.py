"""Measuring what the activation estimate predicts: the bytes autograd saves for the backward pass.

``saved_tensor_bytes`` runs one forward pass (and its loss) under
``torch.autograd.graph.saved_tensors_hooks`` and counts every tensor autograd keeps, once per storage
(several nodes often keep the same tensor), the model's own parameters left out (they are the
Weights part of the estimate). The tests and ``bench/memory_estimate.py`` compare it with
``memory.estimate_training_memory(...).activations``.
"""

from __future__ import annotations

from collections.abc import Callable


def saved_tensor_bytes(model, forward: Callable[[], object]) -> tuple[int, object]:
    """(bytes autograd keeps for the backward pass of ``forward()``, what ``forward()`` returned).

    Parameters
    ----------
    model
        The model whose parameters are left out of the count.
    forward
        Runs the forward pass and the loss; its result (the loss) is returned, so a caller can
        go on with ``backward()``.
    """
    import torch

    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    saved: dict[int, int] = {}

    def pack(t):
        storage = t.untyped_storage()
        if storage.data_ptr() not in params:
            saved.setdefault(storage.data_ptr(), storage.nbytes())
        return t  # the graph holds it, so no later tensor reuses its address

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        result = forward()
    return sum(saved.values()), result
