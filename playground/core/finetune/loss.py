"""The loss on the completion (summary) tokens of a micro-batch, and over a whole split."""

from __future__ import annotations

from playground.core.finetune.batching import collate
from playground.core.finetune.dataset import IGNORE, TrainingExample


def completion_loss_sum(model, batch: dict, encoder_decoder: bool, virtual_tokens: int = 0):
    """(sum of the per-token losses, number of label tokens) for one padded micro-batch.

    For decoder-only models the output head runs only at positions that predict a label token:
    the prompt makes up most of each example, and projecting its positions onto the whole
    vocabulary would cost compute for logits the loss then ignores.
    """
    import torch
    import torch.nn.functional as F

    labels = batch["labels"]
    n = int((labels != IGNORE).sum())
    if encoder_decoder:
        out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], labels=labels,
                    use_cache=False)
        return out.loss * n, n
    predicts = torch.zeros_like(labels, dtype=torch.bool)
    predicts[:, :-1] = labels[:, 1:] != IGNORE
    keep = predicts
    if virtual_tokens:  # the soft prompt sits before the input and predicts nothing
        keep = torch.cat([torch.zeros(labels.shape[0], virtual_tokens, dtype=torch.bool, device=labels.device),
                          predicts], dim=1)
    out = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], logits_to_keep=keep,
                use_cache=False)
    logits = out.logits.reshape(-1, out.logits.shape[-1])
    targets = labels[:, 1:][predicts[:, :-1]]
    return F.cross_entropy(logits.float(), targets, reduction="sum"), n


def batch_to(batch: dict, device) -> dict:
    return {k: (v.to(device) if hasattr(v, "to") else v) for k, v in batch.items()}


def loss_totals(model, examples: list[TrainingExample], pad_id: int, encoder_decoder: bool, virtual_tokens: int,
                device, batch_size: int = 4) -> tuple[float, int]:
    """(sum of losses, label tokens) over examples, in length-sorted batches (little padding)."""
    import torch

    order = sorted(range(len(examples)), key=lambda i: examples[i].num_tokens)
    total, count = 0.0, 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(order), batch_size):
                batch = collate([examples[i] for i in order[start:start + batch_size]], pad_id, encoder_decoder)
                loss_sum, n = completion_loss_sum(model, batch_to(batch, device), encoder_decoder, virtual_tokens)
                total += float(loss_sum)
                count += n
    finally:
        model.train(was_training)
    return total, count
