"""The policy's side of alignment: sampling a group of completions and their per-token
log-probabilities, under the policy and under the reference.

The reference is the same model with its LoRA adapter switched off (``reference()``): no second
copy in memory.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch


@dataclass
class Rollout:
    """Completions sampled for some prompts: ``prompt_ids`` left-padded, ``completion_ids`` right-padded."""

    prompt_ids: torch.Tensor       # (N, P)
    prompt_mask: torch.Tensor      # (N, P)
    completion_ids: torch.Tensor   # (N, T)
    completion_mask: torch.Tensor  # (N, T) 1 up to and including the first EOS
    texts: list


def reference(model):
    """Context in which ``model`` is the reference (its adapter off); a no-op without an adapter."""
    if hasattr(model, "disable_adapter"):
        return model.disable_adapter()
    return contextlib.nullcontext()


def encode_prompts(tokenizer, prompts: list[str], device) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded prompt ids and mask (generation continues from the right edge)."""
    old = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        enc = tokenizer(prompts, return_tensors="pt", padding=True)
    finally:
        tokenizer.padding_side = old
    return enc["input_ids"].to(device), enc["attention_mask"].to(device)


def completion_mask(ids: torch.Tensor, eos_id: int | None) -> torch.Tensor:
    """1 on each completion's tokens up to and including its first EOS, 0 after."""
    if eos_id is None:
        return torch.ones_like(ids)
    is_eos = ids == eos_id
    after = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
    return (~after).long()


@torch.no_grad()
def sample(model, tokenizer, prompts: list[str], group_size: int, max_new_tokens: int,
           temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0) -> Rollout:
    """``group_size`` sampled completions of each prompt (groups consecutive)."""
    device = next(model.parameters()).device
    ids, mask = encode_prompts(tokenizer, [p for p in prompts for _ in range(group_size)], device)
    was_training = model.training
    model.eval()
    try:
        from playground.core.decoding.decode_speed import decode_threads, intra_op_threads

        # Decoding a group is many small steps: on cores another program keeps busy, threads that wait for
        # each other at every op make it slower, so it takes the idle cores' worth (the decode step's rule).
        with intra_op_threads(decode_threads(str(device))):
            out = model.generate(input_ids=ids, attention_mask=mask, do_sample=True, temperature=temperature,
                                 top_k=top_k or None, top_p=top_p, max_new_tokens=max_new_tokens,
                                 pad_token_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None
                                 else tokenizer.eos_token_id)
    finally:
        model.train(was_training)
    comp = out[:, ids.size(1):]
    cmask = completion_mask(comp, tokenizer.eos_token_id)
    texts = [tokenizer.decode(c[m.bool()], skip_special_tokens=True).strip() for c, m in zip(comp, cmask)]
    return Rollout(ids, mask, comp, cmask, texts)


def token_logps(model, prompt_ids, prompt_mask, completion_ids, completion_mask_, with_entropy=False,
                hidden=False, temperature: float = 1.0):
    """Log-probability of each completion token (N, T), and optionally entropies and hidden states.

    Only the completion's logits are materialized (``logits_to_keep``). ``temperature``: the one the
    completions were sampled at (the logits are divided by it, as trl's GRPO does), so the update
    and the KL concern the distribution that was sampled.
    """
    input_ids = torch.cat([prompt_ids, completion_ids], dim=1)
    attention = torch.cat([prompt_mask, completion_mask_], dim=1)
    T = completion_ids.size(1)
    out = model(input_ids=input_ids, attention_mask=attention, logits_to_keep=T + 1, use_cache=False,
                output_hidden_states=hidden)
    logits = out.logits[:, :-1].float() / temperature
    logp = torch.log_softmax(logits, dim=-1)
    picked = logp.gather(-1, completion_ids.unsqueeze(-1)).squeeze(-1)
    entropy = -(logp.exp() * logp).sum(-1) if with_entropy else None
    states = out.hidden_states[-1][:, -T - 1:-1] if hidden else None
    return picked, entropy, states


def _picked(logits, completion_ids, with_entropy: bool, temperature: float):
    """Log-probabilities of the sampled tokens (and entropies) from the logits that predict them."""
    logp = torch.log_softmax(logits.float() / temperature, dim=-1)
    picked = logp.gather(-1, completion_ids.unsqueeze(-1)).squeeze(-1)
    return picked, (-(logp.exp() * logp).sum(-1) if with_entropy else None)


def shares_prompts(prompt_ids: torch.Tensor, group_size: int) -> bool:
    """True when the rows come in consecutive groups of ``group_size`` with the same prompt each."""
    n = prompt_ids.size(0)
    if group_size <= 1 or n % group_size:
        return False
    return torch.equal(prompt_ids, prompt_ids[::group_size].repeat_interleave(group_size, dim=0))


def group_token_logps(model, prompt_ids, prompt_mask, completion_ids, completion_mask_, group_size: int,
                      with_entropy: bool = False, temperature: float = 1.0):
    """``token_logps`` for a group's completions of one prompt, with the prompt computed once per group.

    The prompt runs once (its keys and values kept, gradients and all), the group's completions then
    attend to copies of them: the same numbers as running every row whole (up to rounding), without
    computing the shared prompt ``group_size`` times in the forward and the backward pass. Rows that
    do not share their group's prompt fall back to ``token_logps``. Returns (logps, entropy).
    """
    if not shares_prompts(prompt_ids, group_size) or completion_ids.size(1) < 1:
        picked, entropy, _ = token_logps(model, prompt_ids, prompt_mask, completion_ids, completion_mask_,
                                         with_entropy=with_entropy, temperature=temperature)
        return picked, entropy
    head = model(input_ids=prompt_ids[::group_size], attention_mask=prompt_mask[::group_size], use_cache=True,
                 logits_to_keep=1)
    cache = head.cache
    cache.batch_repeat_interleave(group_size)  # autograd sums the copies' gradients back into the prompt
    first = head.logits[:, -1:].repeat_interleave(group_size, dim=0)  # predicts each completion's first token
    logits = first
    if completion_ids.size(1) > 1:
        attention = torch.cat([prompt_mask, completion_mask_], dim=1)[:, :-1]
        rest = model(input_ids=completion_ids[:, :-1], attention_mask=attention, cache=cache,
                     use_cache=True)
        logits = torch.cat([first, rest.logits], dim=1)
    return _picked(logits, completion_ids, with_entropy, temperature)


def sequence_logps(model, tokenizer, prompts: list[str], completions: list[str], device) -> torch.Tensor:
    """Summed log-probability of each completion after its prompt (DPO's sequence score)."""
    p_ids, p_mask = encode_prompts(tokenizer, prompts, device)
    old = tokenizer.padding_side
    tokenizer.padding_side = "right"
    try:
        enc = tokenizer([c + (tokenizer.eos_token or "") for c in completions], return_tensors="pt",
                        padding=True, add_special_tokens=False)
    finally:
        tokenizer.padding_side = old
    c_ids, c_mask = enc["input_ids"].to(device), enc["attention_mask"].to(device)
    logps, _, _ = token_logps(model, p_ids, p_mask, c_ids, c_mask)
    return (logps * c_mask).sum(-1)
