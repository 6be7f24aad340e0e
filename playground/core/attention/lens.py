"""The logit lens: what the model would predict if it stopped after each layer.

Every layer's hidden state goes through the model's own final norm and LM head, as the last
layer's does; at the last layer this is exactly the model's next-token prediction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from playground.core.base.progress import report_step
from playground.core.base.errors import InputError, PlaygroundError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.models.loading import ENCODER_ONLY, LoadedModel

_NORM_NAMES = ("norm", "final_layer_norm", "ln_f", "final_layernorm", "norm_f", "final_norm")
_CHUNK = 128  # positions per LM-head call: keeps the (positions × vocabulary) logits small


@dataclass
class LogitLensResult:
    """Top-k next tokens for every (layer, position).

    Row 0 is the input embeddings (before any layer); row ``l`` is the output of layer ``l - 1``.
    """

    layer_labels: list[str]
    positions: list[int]
    input_labels: list[str]         # the token at each position
    next_labels: list[str | None]   # the token that actually follows (None after the last)
    top_ids: np.ndarray             # (rows, positions, k) int64
    top_probs: np.ndarray           # (rows, positions, k) float32
    top_tokens: list[list[list[str]]]

    @property
    def num_rows(self) -> int:
        return int(self.top_ids.shape[0])


def final_norm_and_head(loaded: LoadedModel):
    """A function mapping hidden states (..., d) to logits (..., vocab) the way the model's own
    last step does (final norm, output scaling where the model has one, LM head)."""
    model = loaded.model
    if loaded.info.kind == ENCODER_ONLY:
        raise PlaygroundError(f"{loaded.info.name} is an encoder-only model: it has no next-token head.",
                              "The logit lens needs a model that predicts the next token.")
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    if head is None:
        raise PlaygroundError(f"{loaded.info.name} has no LM head to read the layers with.")
    stack = model.get_decoder() if hasattr(model, "get_decoder") else model
    norm = next((getattr(stack, n) for n in _NORM_NAMES if getattr(stack, n, None) is not None), None)
    config = model.config
    scale = model.model_dim ** -0.5 if getattr(config, "scale_decoder_outputs", False) else None
    bias = getattr(model, "final_logits_bias", None)
    cap = getattr(config, "final_logit_softcapping", None)

    def to_logits(hidden):
        h = norm(hidden) if norm is not None else hidden
        if scale is not None:
            h = h * scale
        logits = head(h)
        if bias is not None:
            logits = logits + bias.reshape(-1)[: logits.shape[-1]]
        if cap:
            logits = (logits / cap).tanh() * cap
        return logits

    return to_logits


def logit_lens_from_hidden(loaded: LoadedModel, hidden, labels: list[str], next_labels: list[str | None],
                           positions: list[int] | None = None, top_k: int = 5,
                           handle: TaskHandle | None = None) -> LogitLensResult:
    """The logit lens from hidden states already collected.

    Parameters
    ----------
    hidden
        (layers + 1, T, d) tensor: the input embeddings, then each layer's output (before the
        final norm), as :func:`extract_attention` keeps them.
    labels, next_labels
        The token at each position and the one that follows it.
    positions
        Which positions to read (default all). A window keeps long texts quick.
    top_k
        How many candidates per cell.
    """
    import torch

    handle = ensure_handle(handle)
    rows, t = int(hidden.shape[0]), int(hidden.shape[1])
    positions = list(range(t)) if positions is None else [p for p in positions if 0 <= p < t]
    if not positions:
        raise InputError("No token positions were chosen for the logit lens.")
    to_logits = final_norm_and_head(loaded)
    tok = loaded.tokenizer
    param = next(loaded.model.parameters())
    k = max(1, int(top_k))
    top_ids = np.zeros((rows, len(positions), k), dtype=np.int64)
    top_probs = np.zeros((rows, len(positions), k), dtype=np.float32)
    index = torch.tensor(positions)
    with torch.inference_mode():
        for r in range(rows):
            handle.raise_if_cancelled()
            for c in range(0, len(positions), _CHUNK):
                h = hidden[r, index[c:c + _CHUNK]].to(param.device, dtype=param.dtype)
                probs = to_logits(h).float().softmax(-1)
                p, i = torch.topk(probs, min(k, probs.shape[-1]), dim=-1)
                top_ids[r, c:c + len(h), :p.shape[-1]] = i.cpu().numpy()
                top_probs[r, c:c + len(h), :p.shape[-1]] = p.cpu().numpy()
            report_step(handle, "Logit lens: reading each layer through the LM head", r + 1, rows)
    from playground.core.prompting.tokens import token_label

    cache: dict[int, str] = {}

    def label(i: int) -> str:
        if i not in cache:
            cache[i] = token_label(tok, i)
        return cache[i]

    tokens = [[[label(int(i)) for i in cell] for cell in row] for row in top_ids]
    return LogitLensResult(
        layer_labels=["embeddings"] + [f"layer {i}" for i in range(rows - 1)],
        positions=positions, input_labels=[labels[p] for p in positions],
        next_labels=[next_labels[p] for p in positions], top_ids=top_ids, top_probs=top_probs, top_tokens=tokens)


def logit_lens(loaded: LoadedModel, text: str, positions: list[int] | None = None, top_k: int = 5,
               target: str | None = None, handle: TaskHandle | None = None,
               target_ids: list[int] | None = None) -> LogitLensResult:
    """Run the model on a text and read every layer through the final norm and LM head.

    For an encoder-decoder model the lens reads the decoder's layers, over the target text
    (or the model's own greedy output when ``target`` is None; ``target_ids`` gives the decoder
    input ids directly). Only the chosen positions of each layer are kept, so a window of a long
    text needs little memory.
    """
    import torch

    from playground.core.attention.extract import _target_ids
    from playground.core.attention.taps import (
        find_taps,
        layer_input,
        listening,
        pick_output,
    )
    from playground.core.prompting.tokens import token_labels, tokenize_text

    handle = ensure_handle(handle)
    final_norm_and_head(loaded)  # refuse models without a head before running anything
    pieces = tokenize_text(loaded.tokenizer, text)
    ids = [p.id for p in pieces]
    if len(ids) > loaded.info.context_window:
        raise InputError(f"The text is {len(ids):,} tokens, but this model's context window is "
                         f"{loaded.info.context_window:,} tokens.", "Shorten the text.")
    enc_dec = loaded.is_encoder_decoder
    if enc_dec and target_ids is None:
        target_ids = _target_ids(loaded, ids, target, 20)
    target_ids = list(target_ids or []) if enc_dec else []
    length = len(target_ids) if enc_dec else len(ids)
    positions = list(range(length)) if positions is None else [p for p in positions if 0 <= p < length]
    if not positions:
        raise InputError("No token positions were chosen for the logit lens.")
    keep = None
    group = "decoder" if enc_dec else "self"
    taps = [t for t in find_taps(loaded.model, enc_dec) if t.key == "hidden_states" and t.group == group]
    if not taps:
        raise PlaygroundError(f"The layers of {loaded.info.name} cannot be read one by one.")
    states: list = []

    def on_output(tap, output, args, kwargs) -> None:
        nonlocal keep
        handle.raise_if_cancelled()
        first = layer_input(args, kwargs)[0] if not states else None
        out = pick_output(output, tap.index)[0]
        if keep is None:
            keep = torch.tensor(positions, device=out.device)
        if first is not None:
            states.append(first.detach().index_select(0, keep).float().cpu())
        states.append(out.detach().index_select(0, keep).float().cpu())

    device = next(loaded.model.parameters()).device
    inputs = {"input_ids": torch.tensor([ids], device=device), "use_cache": False}
    if enc_dec:
        inputs["decoder_input_ids"] = torch.tensor([target_ids], device=device)
    with torch.inference_mode(), listening(taps, on_output):
        loaded.model(**inputs)
    labels = token_labels(loaded.tokenizer, target_ids) if enc_dec else [p.label for p in pieces]
    following = labels[1:] + [None]
    result = logit_lens_from_hidden(loaded, torch.stack(states), [labels[p] for p in positions],
                                    [following[p] for p in positions], top_k=top_k, handle=handle)
    result.positions = positions
    return result


def lens_for(loaded: LoadedModel, result, positions: list[int] | None = None, top_k: int = 5,
             handle: TaskHandle | None = None) -> LogitLensResult:
    """The logit lens for an :class:`AttentionResult` whose hidden states were kept."""
    group = "decoder" if result.target_ids else "self"
    hidden = result.hidden_states.get(group)
    if hidden is None:
        # Not kept (they would not fit beside the maps): read only these positions, afresh.
        return logit_lens(loaded, result.text, positions=positions, top_k=top_k, handle=handle,
                          target_ids=result.target_ids or None)
    labels = result.target_labels if result.target_ids else [p.label for p in result.tokens]
    next_labels: list[str | None] = labels[1:] + [None]
    return logit_lens_from_hidden(loaded, hidden, labels, next_labels, positions=positions, top_k=top_k,
                                  handle=handle)
