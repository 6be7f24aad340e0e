"""Loss on the completion tokens, validation loss, and summaries of the test split scored with ROUGE."""

from __future__ import annotations

from typing import Callable, Iterator

from playground.core.finetune.batching import collate
from playground.core.finetune.dataset import IGNORE, Example


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


def loss_totals(model, examples: list[Example], pad_id: int, encoder_decoder: bool, virtual_tokens: int,
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


def rouge_scores(predictions: list[str], references: list[str]) -> dict:
    """Mean ROUGE-1/2/L/Lsum F1 (0-1). Uses playground.core.metrics.rouge when present."""
    try:
        from playground.core.metrics import rouge  # the evaluation feature's shared scorer
    except ImportError:
        rouge = None
    if rouge is not None:
        return dict(rouge(predictions, references))
    from rouge_score import rouge_scorer

    keys = ("rouge1", "rouge2", "rougeL", "rougeLsum")
    scorer = rouge_scorer.RougeScorer(list(keys), use_stemmer=True)
    sums = dict.fromkeys(keys, 0.0)
    for pred, ref in zip(predictions, references):
        scores = scorer.score(ref, pred)
        for k in keys:
            sums[k] += scores[k].fmeasure
    n = max(1, len(predictions))
    return {k: v / n for k, v in sums.items()}


def first_line(text: str) -> str:
    """The summary part of a generation: its first non-empty line (references are one line)."""
    for line in text.strip().splitlines():
        if line.strip():
            return line.strip()
    return ""


def generate_summaries(model, tokenizer, examples: list[Example], max_new_tokens: int, device,
                       encoder_decoder: bool, cancelled: Callable[[], bool] | None = None) -> Iterator[str]:
    """Greedy summaries of the examples' prompts, one by one (yields each as it is done)."""
    import torch

    was_training = model.training
    model.eval()
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    try:
        for ex in examples:
            if cancelled is not None and cancelled():
                return
            ids = torch.tensor([ex.prompt_ids], device=device)
            with torch.no_grad():
                out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                     max_new_tokens=max_new_tokens, eos_token_id=eos, pad_token_id=pad,
                                     use_cache=True)
            new = out[0] if encoder_decoder else out[0, ids.shape[1]:]
            # A peft prompt-tuning model returns only the new tokens for decoder-only models.
            if not encoder_decoder and out.shape[1] < ids.shape[1]:
                new = out[0]
            yield first_line(tokenizer.decode(new, skip_special_tokens=True))
    finally:
        model.train(was_training)
