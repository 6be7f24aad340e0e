"""Guards around a fine-tuning run that keep a mistake from costing work or misleading the person:
an absurd learning rate (warned before the first step), weights that have blown up (never saved,
never called a good checkpoint), and a disk that fills while saving (what was needed, where).
"""

from __future__ import annotations

import contextlib
import math
import shutil
from pathlib import Path

from playground.core.base.errors import PlaygroundError, write_error

#: A rate this many times the method's usual one is warned about before training starts.
ABSURD_RATE_FACTOR = 1000
#: Trained weights beyond this size (and beyond 100 times their size at the start) have blown up:
#: ordinary weights stay within a few units; a runaway rate pushes them to 1e30 in one AdamW step.
SANE_WEIGHT_LIMIT = 1e4


def absurd_rate_warning(cfg) -> str:
    """A warning ('' when none) for a learning rate far above the method's usual one."""
    from playground.core.finetune.methods import METHOD_FACTS

    facts = METHOD_FACTS[cfg.method.name]
    lr = cfg.learning_rate
    if not (math.isfinite(lr) and lr <= ABSURD_RATE_FACTOR * facts.learning_rate):
        return (f"Warning: the learning rate {lr:g} is {lr / facts.learning_rate:,.0f} times the usual rate for "
                f"{facts.label} ({facts.learning_rate:g}). Training will most likely blow up at the first step; "
                "stop now and lower training.learning_rate (or set it to \"auto\") unless that is what you want "
                "to see.")
    return ""


def weight_scale(model) -> float:
    """The largest absolute value among the trained weights (inf or nan when some are not finite)."""
    import torch

    top = 0.0
    with torch.no_grad():
        for p in model.parameters():
            if p.requires_grad and p.is_floating_point() and p.numel():
                top = max(top, float(p.detach().abs().max()))
    return top


def refuse_blown_up(model, where: str, start_scale: float, learning_rate: float, method: str) -> None:
    """Raise instead of saving weights far beyond where they started (a runaway learning rate)."""
    from playground.core.finetune.methods import METHOD_FACTS

    scale = weight_scale(model)
    if scale <= max(SANE_WEIGHT_LIMIT, 100 * start_scale):
        return
    facts = METHOD_FACTS[method]
    raise PlaygroundError(
        f"The trained weights have blown up (values up to {scale:.2g}, against {start_scale:.2g} at the start): "
        f"nothing was saved to {where}, and no checkpoint of them is kept.",
        f"The learning rate {learning_rate:g} is far too high for {facts.label}: set training.learning_rate near "
        f"its usual {facts.learning_rate:g} (or \"auto\") and start the run again.")


def saved_weights_scale(folder: Path) -> float:
    """The largest absolute value in the safetensors files of a saved adapter or model folder
    (inf / nan when some value is not finite, 0 when there are none)."""
    import torch
    from safetensors.torch import load_file

    top = 0.0
    for f in sorted(Path(folder).glob("*.safetensors")):
        for t in load_file(str(f)).values():
            if t.is_floating_point() and t.numel():
                value = float(t.float().abs().max())
                if not math.isfinite(value) or math.isnan(value):
                    return math.inf
                top = max(top, value)
    return top


def vet_divergence(exc, run) -> Exception:
    """A divergence error, checked: it calls the newest checkpoint good only if that checkpoint's
    weights are finite and sane; otherwise it says the checkpoint is not a good point to go on from."""
    kept = run.latest_checkpoint() if run is not None else None
    claim = f"The last good checkpoint is kept: {kept}."
    if kept is None or claim not in exc.message:
        return exc
    try:
        scale = saved_weights_scale(kept / "model")
    except Exception:  # unreadable: do not vouch for it
        scale = math.inf
    if scale <= SANE_WEIGHT_LIMIT:
        return exc
    size = "values that are not finite" if math.isinf(scale) else f"values up to {scale:.2g}"
    message = exc.message.replace(claim, f"Its newest checkpoint ({kept.name}) holds blown-up weights ({size}): "
                                         "it is not a good point to go on from.")
    return type(exc)(message, exc.hint.replace("start the run again", "start the run again (--overwrite)"),
                     exc.step, exc.reason)


def _is_full_disk(exc: BaseException) -> bool:
    import errno

    from playground.core.base.errors import _FULL_DISK_WORDS

    code = getattr(exc, "errno", None)
    return code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)) or any(w in str(exc).lower() for w in _FULL_DISK_WORDS)


def save_sizes(model) -> tuple[int, int]:
    """(bytes of the trained weights as saved, bytes of a checkpoint: those plus AdamW's two states)."""
    from playground.core.finetune.methods import count_parameters

    trainable, total = count_parameters(model)
    whole = trainable == total
    seen, weights = set(), 0
    for p in model.parameters():
        if id(p) in seen or not (whole or p.requires_grad):
            continue
        seen.add(id(p))
        weights += p.numel() * (p.element_size() if whole else 4)  # peft keeps adapters in float32
    return weights, weights + 2 * trainable * 4


@contextlib.contextmanager
def saving(model, run_dir: Path, kept: Path | None):
    """Around a save: a full disk (an OSError, or safetensors' SafetensorError wrapping one) becomes a
    plain message naming the run folder, the space the save needs and what is free there; a read-only
    folder or a missing permission gets ``write_error``'s words."""
    try:
        yield
    except Exception as exc:
        if not isinstance(exc, OSError) and type(exc).__name__ != "SafetensorError":
            raise
        safe = f" The last checkpoint is safe: {kept}." if kept else ""
        if _is_full_disk(exc):
            from playground.core.finetune.memory import format_bytes

            weights, checkpoint = save_sizes(model)
            try:
                free = f"{format_bytes(shutil.disk_usage(run_dir).free)} is free there"
            except OSError:
                free = "the free space could not be read"
            raise PlaygroundError(
                f"The disk is full: saving the trained weights to {run_dir} failed. They need about "
                f"{format_bytes(weights)} (a checkpoint, with the optimizer's state, about {format_bytes(checkpoint)}); "
                f"{free}.{safe}",
                "Free that much space on the disk (or choose an output folder on another one), then continue "
                "with --resume or from the Runs list.") from None
        err = write_error(exc, "the trained weights", run_dir, safe.strip())
        if err is None:
            raise
        raise err from None
