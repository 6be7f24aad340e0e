"""How long an epoch will take: a few real training steps on a copy of the model, timed.

A formula cannot know this computer's speed; a short measurement can. The model is copied, so
the app's model is never changed, and the copy is dropped afterwards.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

from playground.core.finetune.config import FinetuneConfig
from playground.core.base.handle import TaskHandle, ensure_handle


@dataclass
class SpeedEstimate:
    """Training speed measured on this computer, and what it means for one epoch."""

    tokens_per_s: float
    measured_tokens: int
    measured_seconds: float
    epoch_tokens: int
    device: str


def measure_training_speed(loaded, cfg: FinetuneConfig, epoch_tokens: int, micro_batches: int = 3,
                           handle: TaskHandle | None = None) -> SpeedEstimate:
    """Time ``micro_batches`` forward/backward passes and optimizer steps on training examples.

    Parameters
    ----------
    loaded
        The app's LoadedModel (copied, never changed).
    cfg
        The job (method, data, micro-batch size, precision, gradient checkpointing).
    epoch_tokens
        Tokens in one epoch of the training split (after the maximum length).
    micro_batches
        How many micro-batches to time after one untimed warm-up.
    handle
        Stop between micro-batches.

    Raises
    ------
    InputError
        Bad data or method settings (as the job would raise).
    """
    import torch

    from playground.core.models.device import pick_device
    from playground.core.finetune.batching import collate
    from playground.core.finetune.dataset import ExampleEncoder
    from playground.core.finetune.prepare import load_split_rows
    from playground.core.finetune.loss import batch_to, completion_loss_sum
    from playground.core.finetune.methods import apply_method, num_virtual_tokens

    handle = ensure_handle(handle)
    device = pick_device(cfg.model.device)
    enc_dec = loaded.is_encoder_decoder
    tok = loaded.tokenizer
    mbs = cfg.training.micro_batch_size
    rows = load_split_rows(cfg.data, cfg.training.seed)["train"][0][: mbs * (micro_batches + 1) * 2]
    enc = ExampleEncoder(tok, cfg.data.template, cfg.data.max_length, cfg.data.truncation, enc_dec,
                         cfg.data.use_chat_template)
    examples = [ex for ex in (enc.encode(r)[0] for r in rows) if ex is not None]
    if not examples:
        from playground.core.base.errors import InputError

        raise InputError("No training example fits the maximum length.", "Raise the maximum length.")
    handle.report(None, "Copying the model to time a few training steps…")
    model = copy.deepcopy(loaded.model).float().to(device)
    model.train()
    torch.manual_seed(cfg.training.seed)
    model, _ = apply_method(model, cfg, loaded.info.folder, enc_dec)
    vt = num_virtual_tokens(model)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate)
    pad = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    precision = cfg.model.precision
    if precision == "auto":
        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if device.startswith("cuda") else "no"
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    batches = [examples[i:i + mbs] for i in range(0, len(examples), mbs)][: micro_batches + 1]
    tokens, seconds = 0, 0.0
    try:
        for i, group in enumerate(batches):
            handle.raise_if_cancelled()
            batch = batch_to(collate(group, pad, enc_dec), device)
            real = batch.pop("real_tokens")
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            began = time.perf_counter()
            with torch.autocast(device.split(":")[0], dtype=dtype, enabled=dtype is not None):
                loss, n = completion_loss_sum(model, batch, enc_dec, vt)
            (loss / max(1, n)).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)
            if device.startswith("cuda"):
                torch.cuda.synchronize()
            if i > 0:  # the first pass pays one-off costs (allocations, kernel selection)
                tokens += real
                seconds += time.perf_counter() - began
            handle.report((i + 1) / len(batches), f"Timing training step {i + 1}/{len(batches)}")
    finally:
        del model, opt
    if tokens == 0:  # a single batch: time it anyway
        tokens, seconds = real, time.perf_counter() - began
    return SpeedEstimate(tokens / max(1e-9, seconds), tokens, seconds, int(epoch_tokens), device)
