"""Log-likelihood of each choice, exactly as lm-evaluation-harness's HF backend (HFLM) computes it.

For one request (context, continuation) with continuation = " " + choice:

1. trailing spaces of the context move to the front of the continuation;
2. the whole string ``context + continuation`` is tokenized, then the context alone; the continuation's
   tokens are the whole's tokens after the context's count (so a word that merges across the boundary is
   tokenized as the model would see it in running text);
3. the model reads ``(context + continuation)[-(window + 1):][:-1]``; the log-softmax at the last
   ``len(continuation)`` positions gives each continuation token's log-probability; their sum is the
   choice's log-likelihood, and "greedy" says whether every token was the model's top choice.

``acc`` picks the choice with the largest sum; ``acc_norm`` divides each sum by the choice's length in
bytes (UTF-8) first, so a long choice is not penalised for having more tokens to pay for. (The harness's
own ``acc_norm`` divides by characters and its ``acc_bytes`` by bytes: the same on ASCII text.)
"""

from __future__ import annotations

from dataclasses import dataclass

from playground.core.base.errors import InputError
from playground.core.evaluation.benchmark import TARGET_DELIMITER, BenchItem

HF_UNSET_LENGTH = 1000000000000000019884624838656  # transformers' "no limit" model_max_length
DEFAULT_WINDOW = 2048  # the harness's fallback when neither config nor tokenizer names one


def context_window(model, tokenizer) -> int:
    """The longest input the model takes, found as the harness finds it: the config's ``n_positions``,
    ``max_position_embeddings`` or ``n_ctx``, else the tokenizer's ``model_max_length``, else 2048."""
    config = getattr(model, "config", None)
    for attr in ("n_positions", "max_position_embeddings", "n_ctx"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value > 0:
            return value
    length = getattr(tokenizer, "model_max_length", None)
    if isinstance(length, int) and 0 < length != HF_UNSET_LENGTH:
        return length
    return DEFAULT_WINDOW


def _encode(tokenizer, text: str) -> list[int]:
    """The harness's ``tok_encode``: the tokenizer's own special-token default, unless the text already
    starts with the BOS token's text."""
    bos = getattr(tokenizer, "bos_token", None)
    if bos and text.startswith(bos):
        return list(tokenizer.encode(text, add_special_tokens=False))
    return list(tokenizer.encode(text))


def encode_pair(tokenizer, context: str, continuation: str) -> tuple[list[int], list[int]]:
    """(context tokens, continuation tokens) split as the harness's ``_encode_pair`` splits them."""
    if not context:
        raise InputError("An item has an empty context.", "Give it the text the model reads before a choice.")
    spaces = len(context) - len(context.rstrip())
    if spaces:
        continuation = context[-spaces:] + continuation
        context = context[:-spaces]
    whole = _encode(tokenizer, context + continuation)
    ctx = _encode(tokenizer, context)
    return ctx, whole[len(ctx):]


@dataclass
class ItemScore:
    """Every choice's log-likelihood for one item, and what ``acc`` and ``acc_norm`` chose."""

    item: BenchItem
    logliks: list[float]
    tokens: list[int]            # each choice's continuation length in tokens
    greedy: list[bool]
    truncated: int = 0           # context tokens cut from the left to fit the window (as the harness does)

    @property
    def byte_lengths(self) -> list[int]:
        return [len(c.encode("utf-8")) for c in self.item.choices]

    @property
    def per_byte(self) -> list[float]:
        return [ll / max(1, b) for ll, b in zip(self.logliks, self.byte_lengths)]

    @property
    def pred(self) -> int:
        """``acc``'s choice: the largest total log-likelihood (the first on a tie, as numpy's argmax)."""
        return max(range(len(self.logliks)), key=lambda i: (self.logliks[i], -i))

    @property
    def pred_norm(self) -> int:
        """``acc_norm``'s choice: the largest log-likelihood per byte."""
        per = self.per_byte
        return max(range(len(per)), key=lambda i: (per[i], -i))

    @property
    def correct(self) -> bool:
        return self.pred == self.item.gold

    @property
    def correct_norm(self) -> bool:
        return self.pred_norm == self.item.gold

    def disagreement(self) -> str:
        """Why acc and acc_norm chose differently, in words ("" when they agree)."""
        a, b = self.pred, self.pred_norm
        if a == b:
            return ""
        la, lb = self.byte_lengths[a], self.byte_lengths[b]
        longer, shorter = (b, a) if lb > la else (a, b)
        return (f"acc picks choice {a + 1} ({self.logliks[a]:.2f} in total), acc_norm picks choice {b + 1} "
                f"({self.per_byte[b]:.3f} per byte). Choice {longer + 1} is longer "
                f"({self.byte_lengths[longer]} bytes against {self.byte_lengths[shorter]}): every extra token "
                "adds a negative log-probability, so its total is lower even when each word fits well; dividing "
                "by the length removes that penalty.")


def _requests(tokenizer, context: str, item: BenchItem, window: int) -> tuple[list[list[int]], list[int], int]:
    """Each choice's model input and continuation tokens (left-truncated to the window), and how many
    context tokens were cut."""
    inputs, conts, cut = [], [], 0
    for number, choice in enumerate(item.choices, start=1):
        ctx, cont = encode_pair(tokenizer, context, TARGET_DELIMITER + choice)
        if not cont:
            raise InputError(f"Item {item.id}: choice {number} adds no token after the context.",
                             "Give every choice some text.")
        if len(cont) >= window:
            raise InputError(f"Item {item.id}: choice {number} is {len(cont)} tokens long, longer than the model's "
                             f"context window of {window} tokens.", "Shorten the choice, or use a model with a "
                             "longer context window.")
        whole = ctx + cont
        cut = max(cut, len(whole) - (window + 1))
        inputs.append(whole[-(window + 1):][:-1])
        conts.append(cont)
    return inputs, conts, max(0, cut)


def _padded(rows: list[list[int]], pad_id: int, device):
    """The rows as one right-padded tensor of token ids on ``device``."""
    import torch

    ids = torch.full((len(rows), max(len(r) for r in rows)), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return ids.to(device)


def _forward(model, rows: list[list[int]], keep: int, pad_id: int):
    """Log-probabilities (float32) of the last ``keep`` positions of each right-padded row, from one
    forward pass. Right padding needs no attention mask in a causal model (as in the harness): a real
    position never attends to the pads after it."""
    import torch
    import torch.nn.functional as F

    width = max(len(r) for r in rows)
    ids = _padded(rows, pad_id, next(model.parameters()).device)
    with torch.inference_mode():
        try:  # only the positions that score a token go through the output layer (its vocabulary is big)
            logits = model(input_ids=ids, use_cache=False, logits_to_keep=keep).logits
        except TypeError:
            logits = model(input_ids=ids, use_cache=False).logits
    logits = logits[:, -keep:, :].float()
    return F.log_softmax(logits, dim=-1), width


SHARED_MIN = 8  # the shortest shared beginning worth reading once (shorter: the plain padded batch)


def _shared_length(inputs: list[list[int]], conts: list[list[int]]) -> int:
    """How many leading tokens every row has in common, stopping before any row's first scored position
    (so every log-probability that is read comes from the second pass)."""
    limit = min(len(r) - len(c) for r, c in zip(inputs, conts))
    first = inputs[0]
    shared = 0
    while shared < limit and all(r[shared] == first[shared] for r in inputs):
        shared += 1
    return shared


def _forward_shared(model, rows: list[list[int]], conts: list[list[int]], shared: int, pad_id: int):
    """Each choice's log-likelihood and greedy flag, reading the rows' shared beginning (the context) once.

    The shared tokens go through the model alone and leave their keys and values in the cache; the cache is
    repeated once per row and the rows' remaining tokens (right-padded) go through together after it. Each
    position attends to the same earlier tokens as in the whole-row pass, so the numbers are the same up to
    float rounding. Returns None when the model gives no cache that can be repeated (the caller then uses
    the plain padded batch)."""
    import torch

    device = next(model.parameters()).device
    with torch.inference_mode():
        head = torch.tensor([rows[0][:shared]], dtype=torch.long, device=device)
        try:
            out = model(input_ids=head, use_cache=True, logits_to_keep=1)
        except TypeError:
            out = model(input_ids=head, use_cache=True)
        cache = getattr(out, "cache", None)  # transformers 5 (past_key_values is its deprecated name)
        if cache is None or not hasattr(cache, "batch_repeat_interleave"):
            return None
        if len(rows) > 1:
            cache.batch_repeat_interleave(len(rows))
        tails = [r[shared:] for r in rows]
        width = max(len(t) for t in tails)
        keep = max(width - (len(t) - len(c)) for t, c in zip(tails, conts))
        ids = _padded(tails, pad_id, device)
        try:
            logits = model(input_ids=ids, cache=cache, use_cache=True, logits_to_keep=keep).logits
        except TypeError:
            logits = model(input_ids=ids, cache=cache, use_cache=True).logits
    import torch.nn.functional as F

    logprobs = F.log_softmax(logits[:, -keep:, :].float(), dim=-1)
    return [_gather(logprobs, width, i, len(t), c) for i, (t, c) in enumerate(zip(tails, conts))]


def _gather(logprobs, width: int, row: int, inplen: int, cont: list[int]) -> tuple[float, bool]:
    import torch

    keep = logprobs.shape[1]
    start = inplen - len(cont) - (width - keep)
    piece = logprobs[row, start: start + len(cont)]
    target = torch.tensor(cont, dtype=torch.long, device=piece.device)
    total = float(piece.gather(1, target[:, None]).sum())
    greedy = bool((piece.argmax(dim=-1) == target).all())
    return total, greedy


def score_item(model, tokenizer, item: BenchItem, context: str, *, batched: bool = True,
               window: int | None = None) -> ItemScore:
    """Every choice's log-likelihood after ``context`` (the item's text, with any shots before it).

    Parameters
    ----------
    batched
        True: the context the choices share is read once (its keys and values are kept in the cache) and the
        choices' own tokens go through together after it, as right-padded rows; when they share too little,
        every whole row goes through in one padded pass. False: one forward pass per choice, each reading
        the whole context (the same numbers, slower).
    window
        The model's context window (found from the model when None).
    """
    window = window or context_window(model, tokenizer)
    inputs, conts, cut = _requests(tokenizer, context, item, window)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    logliks, greedy = [], []
    shared = _shared_length(inputs, conts) if batched else 0
    scored = _forward_shared(model, inputs, conts, shared, pad) if shared >= SHARED_MIN else None
    if scored is not None:
        logliks = [total for total, _ in scored]
        greedy = [top for _, top in scored]
    elif batched:
        width = max(len(r) for r in inputs)
        keep = max(width - (len(r) - len(c)) for r, c in zip(inputs, conts))
        logprobs, width = _forward(model, inputs, keep, pad)
        for i, (row, cont) in enumerate(zip(inputs, conts)):
            total, top = _gather(logprobs, width, i, len(row), cont)
            logliks.append(total)
            greedy.append(top)
    else:
        for row, cont in zip(inputs, conts):
            logprobs, width = _forward(model, [row], len(cont), pad)
            total, top = _gather(logprobs, width, 0, len(row), cont)
            logliks.append(total)
            greedy.append(top)
    return ItemScore(item=item, logliks=logliks, tokens=[len(c) for c in conts], greedy=greedy, truncated=cut)
