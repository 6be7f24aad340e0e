"""What a copy of a model does differently from the reference: perplexity, KL and top-1 agreement on
the same texts, greedy tokens with their decode speed, and where the text first changes.

Shared by the Lifecycle sections that make a changed copy (precision, pruning, distillation).
"""

from __future__ import annotations

import time
from collections.abc import Sequence


def _token_batches(tokenizer, texts: Sequence[str], device: str):
    import torch

    for text in texts:
        ids = tokenizer(text, return_tensors="pt").input_ids
        if ids.shape[1] >= 2:
            yield ids.to(device)


def text_logits(model, tokenizer, texts: Sequence[str], device: str) -> list:
    """Float32 logits of every text (one tensor [tokens, vocab] each), on the CPU."""
    import torch

    out = []
    with torch.no_grad():
        for ids in _token_batches(tokenizer, texts, device):
            out.append((ids.cpu(), model(input_ids=ids).logits[0].float().cpu()))
    return out


def perplexity_from_logits(pairs) -> float:
    """Token-weighted perplexity over all texts: exp(total next-token NLL / predicted tokens)."""
    import math

    import torch

    nll, count = 0.0, 0
    for ids, logits in pairs:
        logp = torch.log_softmax(logits[:-1], dim=-1)
        target = ids[0, 1:]
        nll -= logp.gather(1, target[:, None]).sum().item()
        count += target.numel()
    return math.exp(nll / max(count, 1))


def kl_and_agreement(reference, other) -> tuple[float, float]:
    """Mean KL(P_reference || P_other) per position (nats) and the share of equal top-1 tokens."""
    import torch

    kl_sum, agree, count = 0.0, 0, 0
    for (_, ref), (_, oth) in zip(reference, other, strict=True):
        lp = torch.log_softmax(ref, dim=-1)
        lq = torch.log_softmax(oth, dim=-1)
        kl_sum += (lp.exp() * (lp - lq)).sum(-1).clamp_min(0).sum().item()
        agree += (ref.argmax(-1) == oth.argmax(-1)).sum().item()
        count += ref.shape[0]
    return kl_sum / max(count, 1), agree / max(count, 1)


def greedy_tokens(model, tokenizer, prompt_ids, n: int) -> tuple[list[int], float]:
    """n greedy tokens after the prompt with a KV cache, and the decode speed in tokens/s."""
    import torch

    with torch.no_grad():
        out = model(input_ids=prompt_ids, use_cache=True)
        past, nxt = out.cache, out.logits[0, -1].argmax()
        tokens = [int(nxt)]
        start = time.perf_counter()
        for _ in range(n - 1):
            out = model(input_ids=nxt.view(1, 1), cache=past, use_cache=True)
            past, nxt = out.cache, out.logits[0, -1].argmax()
            tokens.append(int(nxt))
        elapsed = time.perf_counter() - start
    return tokens, (n - 1) / elapsed if elapsed > 0 else float("inf")


def first_divergence(reference: Sequence[int], tokens: Sequence[int]) -> int:
    """Index of the first token that differs from the reference (-1 when none does)."""
    for i, (a, b) in enumerate(zip(reference, tokens)):
        if a != b:
            return i
    return -1 if len(reference) == len(tokens) else min(len(reference), len(tokens))
