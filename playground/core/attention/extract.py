"""Attention weights for a text: every layer's (heads, T, T) tensor with token labels, and for
encoder-decoder models the encoder, decoder and cross-attention separately."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from playground.core.attention.aggregate import (
    attention_rollout,
    group_spans,
    mean_over_heads,
    pool_attention,
)
from playground.core.attention.memory import (
    MemoryPlan,
    attention_shapes,
    hidden_state_bytes,
    plan_memory,
)
from playground.core.attention.taps import (
    eager_attention,
    find_taps,
    layer_input,
    listening,
    pick_output,
)
from playground.core.base.errors import InputError, PlaygroundError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.models.loading import ENCODER_DECODER, LoadedModel
from playground.core.prompting.tokens import TokenPiece, token_labels, tokenize_text

MAP_TITLES = {
    "self": "Self-attention",
    "encoder": "Encoder self-attention",
    "decoder": "Decoder self-attention",
    "cross": "Cross-attention (decoder → encoder)",
}


@dataclass
class AttentionMap:
    """One family of attention maps (e.g. the decoder's self-attention) for every layer.

    ``weights[layer, head, q, k]`` is how much query token ``q`` attends to key token ``k``;
    each row sums to 1. When the view is downsampled, a row or column stands for a group of
    consecutive tokens (``query_spans``/``key_spans``): rows are averaged, columns added.
    """

    name: str
    weights: np.ndarray                    # (layers, heads, Tq, Tk) float32
    query_labels: list[str]
    key_labels: list[str]
    query_spans: list[tuple[int, int]]
    key_spans: list[tuple[int, int]]

    @property
    def title(self) -> str:
        return MAP_TITLES.get(self.name, self.name)

    @property
    def num_layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def num_heads(self) -> int:
        return int(self.weights.shape[1])

    @property
    def is_square(self) -> bool:
        return self.name != "cross"

    @property
    def downsampled(self) -> bool:
        return any(e - s > 1 for s, e in self.query_spans + self.key_spans)

    def layer(self, layer: int) -> np.ndarray:
        """(heads, Tq, Tk) of one layer."""
        return self.weights[layer]


@dataclass
class AttentionResult:
    """Everything one extraction produced."""

    model_name: str
    kind: str
    text: str
    tokens: list[TokenPiece]                    # the input (encoder input for encoder-decoder)
    target_ids: list[int]                       # decoder input ids (encoder-decoder only)
    target_labels: list[str]
    maps: dict[str, AttentionMap]
    plan: MemoryPlan
    hidden_states: dict[str, object] = field(default_factory=dict)  # group -> (L+1, T, d) tensor
    head_means: dict[str, np.ndarray] = field(default_factory=dict)  # map -> (layers, Tq, Tk)
    rollouts: dict[str, np.ndarray] = field(default_factory=dict)    # square map -> (layers, T, T)

    @property
    def main(self) -> AttentionMap:
        return self.maps.get("self") or self.maps["encoder"]

    def matrix(self, name: str, layer: int, head: int | str) -> np.ndarray:
        """One (Tq, Tk) view: a head (int), ``'mean'`` over heads, or ``'rollout'`` up to this layer."""
        amap = self.maps[name]
        if head == "mean":
            if name not in self.head_means:
                self.head_means[name] = mean_over_heads(amap.weights)
            return self.head_means[name][layer]
        if head == "rollout":
            if not amap.is_square:
                raise InputError("Rollout follows attention through the layers of one stack; "
                                 "cross-attention has no such chain.", "Choose a head or the mean of heads.")
            if name not in self.rollouts:
                self.rollouts[name] = attention_rollout(amap.weights)
            return self.rollouts[name][layer]
        return amap.weights[layer, int(head)]


def summarize(result: AttentionResult, handle: TaskHandle | None = None) -> AttentionResult:
    """Compute the mean over heads and the rollout of every map ahead of time (in a worker),
    so that browsing layers later is only a lookup."""
    handle = ensure_handle(handle)
    for i, (name, amap) in enumerate(result.maps.items()):
        handle.raise_if_cancelled()
        report_step(handle, "Averaging heads and rolling out", i, len(result.maps), amap.title.lower())
        result.head_means[name] = mean_over_heads(amap.weights)
        if amap.is_square:
            result.rollouts[name] = attention_rollout(amap.weights)
    return result


def _span_labels(labels: list[str], spans: list[tuple[int, int]]) -> list[str]:
    return [labels[s] if e - s == 1 else f"{labels[s]}…{labels[e - 1]}" for s, e in spans]


def _target_ids(loaded: LoadedModel, source_ids: list[int], target: str | None, max_target_tokens: int) -> list[int]:
    """Decoder input ids: the start token, then the target text's tokens (or, with no target,
    the model's own greedy output for the source)."""
    import torch

    model, tok = loaded.model, loaded.tokenizer
    start = model.config.decoder_start_token_id
    if start is None:
        start = model.config.pad_token_id or 0
    eos = {i for i in (tok.eos_token_id, model.config.eos_token_id) if i is not None}
    if target is not None and target.strip():
        ids = [int(i) for i in tok(target, add_special_tokens=True)["input_ids"]]
    else:
        device = next(model.parameters()).device
        with torch.inference_mode():
            out = model.generate(torch.tensor([source_ids], device=device), max_new_tokens=max_target_tokens,
                                 do_sample=False, num_beams=1)
        ids = [int(i) for i in out[0].tolist()]
        if ids and ids[0] == start:
            ids = ids[1:]
    while ids and ids[-1] in eos:
        ids = ids[:-1]  # an end-of-text input predicts nothing worth showing
    return [int(start)] + ids


def extract_attention(loaded: LoadedModel, text: str, *, target: str | None = None,
                      max_target_tokens: int = 20, limit_bytes: int | None = None,
                      over_limit: str = "refuse", keep_hidden_states: bool = True,
                      handle: TaskHandle | None = None) -> AttentionResult:
    """Run the model once on a text and collect every layer's attention weights.

    Parameters
    ----------
    loaded
        The model. Its attention implementation is switched to eager for this call only.
    text
        The input text (the encoder input for an encoder-decoder model).
    target
        Encoder-decoder only: the decoder's text. None generates it greedily from the input
        (at most ``max_target_tokens`` tokens).
    limit_bytes
        The most memory the kept weights may take (layers × heads × T² × 4 bytes per map).
    over_limit
        'refuse' raises InputError past the limit; 'downsample' pools groups of tokens so the
        weights fit.
    keep_hidden_states
        Keep each layer's hidden states (for the logit lens) when they fit under the limit beside
        the maps; otherwise ``plan.hidden_skipped`` is set and :func:`lens_for` runs the model again.
    handle
        Progress per layer and Stop (checked between layers).

    Returns
    -------
    AttentionResult

    Raises
    ------
    InputError
        Empty text, text longer than the context window, or attention that would not fit.
    PlaygroundError
        A model that gives out no attention weights.
    """
    import torch

    handle = ensure_handle(handle)
    model, tok = loaded.model, loaded.tokenizer
    if getattr(model, "num_virtual_tokens", 0):  # a prompt-tuned model (core.soft_prompt)
        raise PlaygroundError(
            "A prompt-tuned model reads learned virtual tokens before your text; they are not words, so "
            "this view cannot label them.",
            "Prompt tuning leaves the model's weights unchanged: turn the Adapter switch off in the model bar to "
            "look inside the model itself.")
    pieces = tokenize_text(tok, text)
    source_ids = [p.id for p in pieces]
    window = loaded.info.context_window
    if len(source_ids) > window:
        raise InputError(f"The text is {len(source_ids):,} tokens, but this model's context window is {window:,} tokens.",
                         "Shorten the text: the model cannot look at more tokens than its window.")
    taps = find_taps(model, loaded.is_encoder_decoder)
    attention_taps = [t for t in taps if t.key != "hidden_states"]
    if not attention_taps:
        raise PlaygroundError(f"{loaded.info.name} gives out no attention weights (it may not use attention at all).",
                              "Load a transformer model such as the bundled SmolLM2, GPT-2 or FLAN-T5.")
    enc_dec = loaded.info.kind == ENCODER_DECODER
    target_ids: list[int] = []
    if enc_dec:
        handle.report(None, "Writing the decoder's text…" if not target else "Reading the target text…")
        target_ids = _target_ids(loaded, source_ids, target, max_target_tokens)
        if len(target_ids) > window:
            raise InputError(f"The target is {len(target_ids):,} tokens, longer than the window of {window:,}.",
                             "Shorten the target text.")
    shapes = attention_shapes(model.config, loaded.info, len(source_ids), len(target_ids))
    plan = plan_memory(shapes, limit_bytes, over_limit)
    if keep_hidden_states:
        lens_shape = shapes.get("decoder") or shapes["self"]
        keep_hidden_states = plan.fit_hidden(hidden_state_bytes(model.config, lens_shape[0], lens_shape[2]))

    n_src, n_tgt = len(source_ids), len(target_ids)
    f = plan.factor
    collected: dict[str, list[np.ndarray]] = {}
    hidden: dict[str, list] = {}
    lens_group = "decoder" if enc_dec else "self"
    total = len(attention_taps)
    done = [0]

    def on_output(tap, output, args, kwargs) -> None:
        handle.raise_if_cancelled()
        if tap.key == "hidden_states":
            if keep_hidden_states and tap.group == lens_group:
                states = hidden.setdefault(tap.group, [])
                if not states:
                    states.append(layer_input(args, kwargs)[0].detach().float().cpu())
                states.append(pick_output(output, tap.index)[0].detach().float().cpu())
            return
        weights = pick_output(output, tap.index)
        if weights is None:
            raise PlaygroundError(f"{loaded.info.name} did not give out its attention weights.",
                                  "This model's attention cannot be shown; try another model.")
        pooled = pool_attention(weights.detach()[0].float(), f, f)
        collected.setdefault(tap.group, []).append(pooled.cpu().numpy().astype(np.float32, copy=False))
        done[0] += 1
        report_step(handle, "Reading the attention of each layer", done[0], total)

    device = next(model.parameters()).device
    inputs = {"input_ids": torch.tensor([source_ids], device=device), "use_cache": False}
    if enc_dec:
        inputs["decoder_input_ids"] = torch.tensor([target_ids], device=device)
    handle.report(0.0, "Running the model with attention switched on…")
    with torch.inference_mode(), eager_attention(model), listening(taps, on_output):
        model(**inputs)

    src_labels = [p.label for p in pieces]
    tgt_labels = token_labels(tok, target_ids) if enc_dec else []
    labels = {"self": (src_labels, src_labels, n_src, n_src), "encoder": (src_labels, src_labels, n_src, n_src),
              "decoder": (tgt_labels, tgt_labels, n_tgt, n_tgt), "cross": (tgt_labels, src_labels, n_tgt, n_src)}
    maps = {}
    for name in ("self", "encoder", "decoder", "cross"):
        if name not in collected:
            continue
        q_labels, k_labels, tq, tk = labels[name]
        q_spans, k_spans = group_spans(tq, f), group_spans(tk, f)
        maps[name] = AttentionMap(name=name, weights=np.stack(collected[name]),
                                  query_labels=_span_labels(q_labels, q_spans), key_labels=_span_labels(k_labels, k_spans),
                                  query_spans=q_spans, key_spans=k_spans)
    states = {g: torch.stack(v) for g, v in hidden.items()}
    return AttentionResult(model_name=loaded.info.name, kind=loaded.info.kind, text=text, tokens=pieces,
                           target_ids=target_ids, target_labels=tgt_labels, maps=maps, plan=plan,
                           hidden_states=states)
