"""The same sentence through a decoder (SmolLM2) and an encoder (MiniLM): the causal triangle
against full bidirectional attention, with the share of weight above the diagonal as the number
that says which is which (0 for a causal model: no token sees a later one)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.models.loading import DECODER_ONLY, ENCODER_ONLY, LoadedModel

_bundled: dict[str, LoadedModel] = {}
_lock = threading.Lock()


def above_diagonal_share(weights) -> float:
    """Mean share of each row's attention that goes to later tokens (keys right of the query).

    ``weights`` is (..., T, T) with rows summing to 1; the result averages over rows and over any
    leading axes (layers, heads).
    """
    w = np.asarray(weights, dtype=np.float64)
    t = w.shape[-1]
    upper = np.triu(np.ones((t, t), dtype=bool), k=1)
    return float((w * upper).sum(-1).mean())


def _bundled_model(kind: str, handle: TaskHandle) -> LoadedModel:
    """The bundled decoder ('bundled') or encoder ('encoder'), loaded once for this comparison."""
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    with _lock:
        if kind not in _bundled:
            handle.report(None, f"Loading the bundled {'decoder' if kind == 'bundled' else 'encoder'}…")
            _bundled[kind] = load_model(ModelSource(kind), device="cpu", dtype="float32", handle=handle)
        return _bundled[kind]


def pick_pair(current: LoadedModel | None, handle: TaskHandle | None = None) -> tuple[LoadedModel, LoadedModel]:
    """(decoder, encoder): the loaded model stands for its own kind, the bundled one for the other."""
    handle = ensure_handle(handle)
    is_decoder = current is not None and current.info.kind == DECODER_ONLY and \
        not getattr(current.model, "num_virtual_tokens", 0)
    is_encoder = current is not None and current.info.kind == ENCODER_ONLY
    decoder = current if is_decoder else _bundled_model("bundled", handle)
    encoder = current if is_encoder else _bundled_model("encoder", handle)
    return decoder, encoder


@dataclass
class KindSide:
    """One model's attention on the sentence, and how much of it looks ahead."""

    loaded_name: str
    kind: str
    result: object  # AttentionResult
    above_diagonal: float  # over every layer and head
    vocabulary: int

    @property
    def pieces(self) -> list[str]:
        return [t.piece for t in self.result.tokens]


def compare_kinds(text: str, decoder: LoadedModel, encoder: LoadedModel,
                  handle: TaskHandle | None = None) -> list[KindSide]:
    """Extract every layer's attention of both models on ``text`` (decoder first).

    Raises InputError for an empty text or one past either model's window (MiniLM: 512 tokens).
    """
    from playground.core.attention.extract import extract_attention

    handle = ensure_handle(handle)
    sides = []
    for i, loaded in enumerate((decoder, encoder)):
        handle.report(i / 2, f"Reading the sentence with {loaded.info.name}…")
        result = extract_attention(loaded, text, keep_hidden_states=False, handle=handle)
        handle.raise_if_cancelled()
        sides.append(KindSide(loaded.info.name, loaded.info.kind, result,
                              above_diagonal_share(result.main.weights), len(loaded.tokenizer)))
    handle.report(1.0, "")
    return sides
