"""Is training going wrong? A check made between optimizer steps, before the update is applied.

Any training loop (fine-tuning here, the Align tab's trainers later) calls ``divergence`` with the
step's loss, the loss it started from and the gradient norm; a reason back means: do not apply
this update, stop, keep the last good checkpoint and tell the person what to change
(``diverged_error``). ``nonfinite_parameters`` guards every save: NaN or infinite weights are
never written as a result.
"""

from __future__ import annotations

import math

from playground.core.base.errors import PlaygroundError

# "Far above the start": more than FACTOR times the first loss and more than MARGIN above it.
# A fine-tuning loss that starts near 2.6 then stops at 7.8; one from a random model near 10.8
# stops at 32. Ordinary step-to-step noise stays far below either.
FAR_ABOVE_FACTOR = 3.0
FAR_ABOVE_MARGIN = 2.0


class DivergedError(PlaygroundError):
    """Training stopped because it diverged; ``step`` is the step that was refused."""

    def __init__(self, message: str, hint: str, step: int, reason: str) -> None:
        super().__init__(message, hint)
        self.step = step
        self.reason = reason


def divergence(loss: float, start_loss: float | None, grad_norm: float | None = None, *,
               factor: float = FAR_ABOVE_FACTOR, margin: float = FAR_ABOVE_MARGIN) -> str | None:
    """Why this step must not be applied, in plain words, or None when it looks sound.

    Parameters
    ----------
    loss
        The step's mean loss.
    start_loss
        The loss of the run's first step (None on the first step itself).
    grad_norm
        The total gradient norm before clipping (None when not known, e.g. fp16 with a scaler,
        which skips steps with infinite gradients by itself).
    """
    if not math.isfinite(loss):
        return f"the loss became {_word(loss)}"
    if grad_norm is not None and not math.isfinite(grad_norm):
        return f"the gradients became {_word(grad_norm)}"
    if start_loss is not None and math.isfinite(start_loss):
        limit = max(start_loss * factor, start_loss + margin)
        if loss > limit:
            return f"the loss rose from {start_loss:.3f} at the start to {loss:.3f}, far above where it began"
    return None


def _word(x: float) -> str:
    return "NaN (not a number)" if math.isnan(x) else "infinite"


def diverged_error(reason: str, step: int, learning_rate: float | None, last_checkpoint: str = "",
                   setting: str = "training.learning_rate") -> DivergedError:
    """The error a loop raises when ``divergence`` gave a reason at ``step`` (1-based)."""
    kept = (f"The last good checkpoint is kept: {last_checkpoint}." if last_checkpoint
            else "No weights were saved from this run.")
    lower = f" (now {learning_rate:g}; try {learning_rate / 10:g})" if learning_rate else ""
    return DivergedError(
        f"Training diverged at step {step}: {reason}. It was stopped and this step was not applied. {kept}",
        f"Lower {setting}{lower} and start the run again; keep training.max_grad_norm above 0 "
        "(gradient clipping) and a little warmup.", step, reason)


def nonfinite_parameters(model, trainable_only: bool = True) -> list[str]:
    """Names of the parameters that hold NaN or infinite values (empty when all are finite)."""
    import torch

    bad = []
    with torch.no_grad():
        for name, p in model.named_parameters():
            if trainable_only and not p.requires_grad:
                continue
            if p.is_floating_point() and not bool(torch.isfinite(p).all()):
                bad.append(name)
    return bad


def refuse_nonfinite(model, where: str) -> None:
    """Raise instead of saving weights that hold NaN or infinite values."""
    bad = nonfinite_parameters(model)
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise PlaygroundError(
            f"The trained weights hold NaN or infinite values ({', '.join(bad[:3])}{more}): "
            f"nothing was saved to {where}.",
            "Training diverged: lower training.learning_rate and start the run again.")
