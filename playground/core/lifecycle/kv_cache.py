"""What a KV cache holds and costs, from a model's config: bytes per token, the grouped-query saving,
and cache memory against context length for the loaded model and for bundled published configs.

Every layer keeps, for every token seen, one key and one value vector per KV head. So one token costs
2 (K and V) x layers x KV heads x head size x bytes per value. Grouped-query attention (GQA) lets
several query heads share one KV head: the cache shrinks by query heads / KV heads, the queries do not.
The configs under ``resources/model_configs/`` are published config values written by hand (no weights).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.base.units import format_bytes

DTYPE_BYTES = {"float32": 4, "float": 4, "float16": 2, "half": 2, "bfloat16": 2, "float64": 8, "int8": 1}
BUNDLED_CONFIGS = ("SmolLM2-1.7B", "Llama-3.1-8B", "Llama-3.1-70B")


@dataclass(frozen=True)
class CacheShape:
    """The numbers of a model's config that decide its KV cache size."""

    name: str
    layers: int
    heads: int            # query heads
    kv_heads: int         # key/value heads (== heads for full multi-head attention)
    head_dim: int         # values per head
    bytes_per_value: int
    dtype: str
    context_window: int

    @property
    def bytes_per_token(self) -> int:
        """2 x layers x KV heads x head size x bytes per value."""
        return 2 * self.layers * self.kv_heads * self.head_dim * self.bytes_per_value

    @property
    def mha_bytes_per_token(self) -> int:
        """What the same model would hold per token with one KV head per query head (full multi-head)."""
        return 2 * self.layers * self.heads * self.head_dim * self.bytes_per_value

    @property
    def group(self) -> int:
        """Query heads sharing one KV head (1: full multi-head attention)."""
        return max(1, self.heads // max(1, self.kv_heads))

    @property
    def is_gqa(self) -> bool:
        return self.kv_heads < self.heads

    def bytes_at(self, tokens: int) -> int:
        """Cache bytes once ``tokens`` positions are cached (batch of one)."""
        return int(tokens) * self.bytes_per_token

    def summary(self) -> str:
        """One short line: 'Llama-3.1-8B: 128 KiB per token (8 KV heads for 32 query heads; full MHA 512 KiB)'."""
        if not self.is_gqa:
            return (f"{self.name}: {format_bytes(self.bytes_per_token)} per token ({self.kv_heads} KV heads, "
                    "full multi-head)")
        return (f"{self.name}: {format_bytes(self.bytes_per_token)} per token ({self.kv_heads} KV heads for "
                f"{self.heads} query heads; full MHA {format_bytes(self.mha_bytes_per_token)})")

    def arithmetic(self) -> str:
        """The bytes-per-token sum with this model's numbers, and what full multi-head would hold."""
        line = (f"2 (K and V) × {self.layers} layers × {self.kv_heads} KV heads × {self.head_dim} values × "
                f"{self.bytes_per_value} bytes ({self.dtype}) = {self.bytes_per_token:,} bytes "
                f"({format_bytes(self.bytes_per_token)}) per token")
        if self.is_gqa:
            line += (f". Grouped-query attention: {self.heads} query heads share {self.kv_heads} KV heads "
                     f"({self.group} per group); full multi-head attention would keep {self.heads} KV heads, "
                     f"{self.mha_bytes_per_token:,} bytes ({format_bytes(self.mha_bytes_per_token)}) per token, "
                     f"{self.group}× as much")
        else:
            line += f". Full multi-head attention: each of the {self.heads} query heads has its own K and V"
        return line + "."


def _field(cfg, *names, default=None):
    for name in names:
        value = cfg.get(name) if isinstance(cfg, dict) else getattr(cfg, name, None)
        if value is not None:
            return value
    return default


def shape_from_config(config, name: str = "", dtype: str | None = None) -> CacheShape:
    """The cache shape of a transformers config (or its dict), at ``dtype`` (else the config's dtype).

    Raises
    ------
    InputError
        The config does not say its layers and heads (a model with no attention, such as Mamba).
    """
    cfg = _field(config, "text_config", default=None) or config
    layers = _field(cfg, "num_hidden_layers", "n_layer", "num_layers")
    heads = _field(cfg, "num_attention_heads", "n_head", "num_heads")
    hidden = _field(cfg, "hidden_size", "n_embd", "d_model")
    if not layers or not heads or not (hidden or _field(cfg, "head_dim")):
        raise InputError(f"{name or 'This model'}'s config does not give layers and attention heads: it has no "
                         "KV cache to measure.", "Load a transformer decoder such as the bundled SmolLM2.")
    kv_heads = _field(cfg, "num_key_value_heads", "n_head_kv", default=heads)
    head_dim = _field(cfg, "head_dim", default=None) or int(hidden) // int(heads)
    if dtype is None:
        dtype = str(_field(config, "torch_dtype", "dtype", default="float32")).replace("torch.", "")
    dtype = str(dtype).replace("torch.", "")
    window = int(_field(cfg, "max_position_embeddings", "n_positions", "n_ctx", default=2048))
    return CacheShape(name=name or str(_field(config, "_name", "name_or_path", default="model")),
                      layers=int(layers), heads=int(heads), kv_heads=int(kv_heads), head_dim=int(head_dim),
                      bytes_per_value=DTYPE_BYTES.get(dtype, 4), dtype=dtype, context_window=window)


def shape_of_loaded(loaded) -> CacheShape:
    """The loaded model's cache shape, at the dtype its weights (and so its cache) are in."""
    import torch

    model = loaded.model
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), torch.float32)
    return shape_from_config(model.config, loaded.info.name, str(dtype).replace("torch.", ""))


def configs_dir() -> Path:
    from playground.core.base.paths import resources_dir

    return resources_dir() / "model_configs"


def bundled_shapes() -> list[CacheShape]:
    """The published configs shipped with the app (SmolLM2-1.7B, Llama-3.1-8B, Llama-3.1-70B), in BF16."""
    out = []
    for name in BUNDLED_CONFIGS:
        data = json.loads((configs_dir() / f"{name}.json").read_text(encoding="utf-8"))
        out.append(shape_from_config(data, data.get("_name", name)))
    return out


def context_lengths(limit: int, start: int = 128) -> list[int]:
    """Powers of two from ``start`` up to ``limit`` (``limit`` itself last): the chart's x values."""
    out, n = [], start
    while n < limit:
        out.append(n)
        n *= 2
    return out + [int(limit)]


@dataclass(frozen=True)
class MemoryCurve:
    label: str
    tokens: list[int]
    bytes: list[int]
    dashed: bool = False  # the full multi-head counterfactual of a GQA model


def memory_curves(shapes: list[CacheShape]) -> list[MemoryCurve]:
    """Cache bytes against context length for each shape, up to its own window, and for each GQA model the
    same model with full multi-head attention (dashed)."""
    curves = []
    for s in shapes:
        xs = context_lengths(s.context_window)
        curves.append(MemoryCurve(f"{s.name} ({s.kv_heads} KV heads, {s.dtype})", xs, [s.bytes_at(x) for x in xs]))
        if s.is_gqa:
            curves.append(MemoryCurve(f"{s.name} as full MHA ({s.heads} KV heads)", xs,
                                      [x * s.mha_bytes_per_token for x in xs], dashed=True))
    return curves


def memory_table(shapes: list[CacheShape], lengths=(4096, 32768, 131072)) -> str:
    """A plain table: bytes per token and the cache at a few context lengths (dash past the window)."""
    head = f"{'model':<32} {'KV/Q heads':>10} {'per token':>11} " + " ".join(f"{n:>10,}" for n in lengths)
    rows = [head]
    for s in shapes:
        cells = [format_bytes(s.bytes_at(n)) if n <= s.context_window else "—" for n in lengths]
        rows.append(f"{s.name[:32]:<32} {f'{s.kv_heads}/{s.heads}':>10} {format_bytes(s.bytes_per_token):>11} "
                    + " ".join(f"{c:>10}" for c in cells))
    return "\n".join(rows)


def measured_cache_bytes(cache) -> int:
    """The bytes the cache's tensors hold now: numel × element size of every layer's keys and values."""
    total = 0
    for layer in getattr(cache, "layers", ()):
        for t in (getattr(layer, "keys", None), getattr(layer, "values", None)):
            if t is not None:
                total += t.numel() * t.element_size()
    return total


def per_layer_lengths(cache) -> list[int]:
    """Positions cached in each layer (``layers[i].keys`` is batch × KV heads × positions × head size)."""
    out = []
    for layer in getattr(cache, "layers", ()):
        keys = getattr(layer, "keys", None)
        out.append(int(keys.shape[-2]) if keys is not None and keys.dim() == 4 else 0)
    return out
