"""A copy of the model that shares the weights it did not change with the model it was copied from.

A LoRA run (fine-tuning or alignment) trains a small adapter on a copy of the base model: the
copy's frozen weights are the base's, value for value. Pointing them at the base's tensors makes the
copy cost only its adapter (a few MiB instead of the model's 513 MiB for the bundled one), while
the run and the "Use in playground" copy keep working unchanged (issue 35, part 2).
"""

from __future__ import annotations

#: what peft puts before a wrapped model's names: a LoRA model's ``base_model.model.``, a prompt-tuned one's
#: ``base_model.``
_PEFT_PREFIXES = ("", "base_model.model.", "base_model.")


def _plain_names(name: str) -> list[str]:
    """The names a peft-wrapped parameter may have in the plain model ('base_layer.' segments dropped)."""
    name = name.replace(".base_layer.", ".")
    return [name[len(p):] for p in _PEFT_PREFIXES if name.startswith(p)]


def share_frozen_weights(copy, base) -> int:
    """Point every frozen parameter of ``copy`` equal to ``base``'s parameter of the same name at
    ``base``'s tensor; returns the bytes no longer held twice.

    Only parameters that do not require gradients are shared, and only when shape, dtype, device and
    every value agree: trained weights and weights a run changed (a merged adapter) keep their own
    storage. Neither model may then be changed in place (training makes new tensors only for the
    adapter; the app never trains its base model in place).
    """
    import torch

    if copy is None or base is None or copy is base:
        return 0
    theirs = {name: p for name, p in base.named_parameters(remove_duplicate=False)}
    saved, done = 0, set()
    with torch.no_grad():
        for name, p in copy.named_parameters(remove_duplicate=False):
            if p.requires_grad or id(p) in done:
                continue
            other = next((theirs[n] for n in _plain_names(name) if n in theirs and theirs[n].shape == p.shape), None)
            if other is None or other.untyped_storage().data_ptr() == p.untyped_storage().data_ptr():
                continue
            if other.shape != p.shape or other.dtype != p.dtype or other.device != p.device:
                continue
            if not torch.equal(other, p):
                continue
            saved += p.untyped_storage().nbytes()
            p.data = other.data  # the copy's own Parameter (its flags stay), the base's storage
            done.add(id(p))
    return saved


def lighten(model, base) -> int:
    """A finished run's model made light for keeping: its gradients dropped, and its frozen weights
    shared with ``base`` (see :func:`share_frozen_weights`); returns the bytes saved."""
    if model is None:
        return 0
    saved = 0
    for p in model.parameters():
        if p.grad is not None:
            saved += p.grad.untyped_storage().nbytes()
            p.grad = None
    return saved + share_frozen_weights(model, base)


def lighter_results(events, base):
    """A job's events with its result made light (:func:`lighten`) before it is handed on.

    ``base``: the model the run copied (its frozen weights are shared). Runs in the job's thread, so
    comparing the weights does not hold up the window. Closing this generator closes the job's.
    """
    try:
        for ev in events:
            loaded = getattr(ev, "loaded", None)
            if loaded is not None and hasattr(ev, "artifact"):  # the DoneEvent that carries the trained model
                lighten(loaded.model, base)
            yield ev
    finally:
        close = getattr(events, "close", None)
        if close is not None:
            close()
