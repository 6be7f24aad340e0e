"""How much memory attention weights take, checked before any extraction starts.

Each map keeps layers × heads × T_query × T_key float32 numbers: 4 bytes each. Past the limit
the user set, the extraction is refused, or (if the user prefers) downsampled: groups of
consecutive tokens are pooled so the kept numbers fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from playground.core.base.errors import InputError
from playground.core.base.units import format_bytes  # the app's one unit system (re-exported)

DEFAULT_LIMIT_BYTES = 512 * 2**20
BYTES_PER_WEIGHT = 4
OVER_LIMIT_CHOICES = ("refuse", "downsample")


@dataclass
class MemoryPlan:
    """What an extraction will keep: the full-size estimate, the limit and the pooling factor."""

    estimate_bytes: int
    limit_bytes: int
    factor: int = 1          # 1 = every token its own row and column
    planned_bytes: int = 0   # what is kept after pooling
    hidden_bytes: int = 0    # each layer's output, kept for the logit lens (0: not kept)
    hidden_skipped: bool = False  # they would not fit beside the maps: the lens reads them again

    @property
    def downsampled(self) -> bool:
        return self.factor > 1

    def describe(self) -> str:
        full = f"{format_bytes(self.estimate_bytes)} at full size"
        if self.downsampled:
            text = (f"{full}; downsampled to groups of {self.factor} tokens "
                    f"({format_bytes(self.planned_bytes)}) to stay under {format_bytes(self.limit_bytes)}")
        else:
            text = f"{full} (limit {format_bytes(self.limit_bytes)})"
        if self.hidden_skipped:
            text += "; the layer outputs did not fit as well, so the logit lens runs the model again"
        return text

    def fit_hidden(self, hidden_bytes: int) -> bool:
        """Whether the layer outputs (for the logit lens) also fit under the limit beside the maps;
        records the answer."""
        if self.planned_bytes + hidden_bytes <= self.limit_bytes:
            self.hidden_bytes = int(hidden_bytes)
            return True
        self.hidden_skipped = True
        return False


def hidden_state_bytes(config, layers: int, tokens: int) -> int:
    """Bytes of every layer's output for ``tokens`` positions: (layers + 1) × tokens × width × 4."""
    text_cfg = config.get_text_config() if hasattr(config, "get_text_config") else config
    width = (getattr(text_cfg, "hidden_size", None) or getattr(text_cfg, "d_model", None)
             or getattr(text_cfg, "n_embd", None) or 0)
    return (int(layers) + 1) * int(tokens) * int(width) * BYTES_PER_WEIGHT


def stack_sizes(config, info=None) -> dict[str, tuple[int, int]]:
    """(layers, heads) of each attention stack: 'self' for one stack, or 'encoder'/'decoder'."""
    if getattr(config, "is_encoder_decoder", False):
        enc_layers = (getattr(config, "encoder_layers", None) or getattr(config, "num_layers", None)
                      or getattr(config, "num_hidden_layers", 0))
        dec_layers = (getattr(config, "decoder_layers", None) or getattr(config, "num_decoder_layers", None)
                      or enc_layers)
        heads = getattr(config, "num_heads", None) or getattr(config, "num_attention_heads", 0)
        enc_heads = getattr(config, "encoder_attention_heads", None) or heads
        dec_heads = getattr(config, "decoder_attention_heads", None) or heads
        return {"encoder": (int(enc_layers), int(enc_heads)), "decoder": (int(dec_layers), int(dec_heads))}
    layers = getattr(info, "num_layers", 0) if info is not None else 0
    heads = getattr(info, "num_heads", 0) if info is not None else 0
    text_cfg = config.get_text_config() if hasattr(config, "get_text_config") else config
    layers = layers or getattr(text_cfg, "num_hidden_layers", 0) or getattr(text_cfg, "n_layer", 0)
    heads = heads or getattr(text_cfg, "num_attention_heads", 0) or getattr(text_cfg, "n_head", 0)
    return {"self": (int(layers), int(heads))}


def attention_shapes(config, info, n_source: int, n_target: int = 0) -> dict[str, tuple[int, int, int, int]]:
    """(layers, heads, T_query, T_key) of every map an extraction would produce."""
    sizes = stack_sizes(config, info)
    if "self" in sizes:
        layers, heads = sizes["self"]
        return {"self": (layers, heads, n_source, n_source)}
    (el, eh), (dl, dh) = sizes["encoder"], sizes["decoder"]
    return {"encoder": (el, eh, n_source, n_source), "decoder": (dl, dh, n_target, n_target),
            "cross": (dl, dh, n_target, n_source)}


def attention_bytes(shapes: dict[str, tuple[int, int, int, int]], factor: int = 1) -> int:
    """Bytes the weights take, with groups of ``factor`` tokens pooled into one row/column."""
    total = 0
    for layers, heads, tq, tk in shapes.values():
        total += layers * heads * math.ceil(tq / factor) * math.ceil(tk / factor) * BYTES_PER_WEIGHT
    return total


def _free_memory() -> int | None:
    try:
        import psutil

        return int(psutil.virtual_memory().available)
    except (ImportError, OSError, AttributeError):  # no psutil or no such figure here: rely on the limit
        return None


def plan_memory(shapes: dict[str, tuple[int, int, int, int]], limit_bytes: int | None = None,
                over_limit: str = "refuse") -> MemoryPlan:
    """Check the weights fit before extracting them.

    Parameters
    ----------
    shapes
        From :func:`attention_shapes`.
    limit_bytes
        The user's limit (None: the default, 512 MiB). Half the free memory caps it too.
    over_limit
        'refuse' or 'downsample'.

    Raises
    ------
    InputError
        Past the limit with 'refuse', with the numbers and what to change.
    """
    if over_limit not in OVER_LIMIT_CHOICES:
        raise InputError(f"Unknown choice '{over_limit}' for attention over the memory limit.",
                         "Use 'refuse' or 'downsample'.")
    limit = int(limit_bytes if limit_bytes is not None else DEFAULT_LIMIT_BYTES)
    if limit <= 0:
        raise InputError("The attention memory limit must be above zero.")
    estimate = attention_bytes(shapes)
    free = _free_memory()
    effective = min(limit, free // 2) if free else limit
    if estimate <= effective:
        return MemoryPlan(estimate, limit, 1, estimate)
    (layers, heads, tq, tk) = next(iter(shapes.values()))
    formula = f"{layers} layers × {heads} heads × {tq}×{tk} tokens × 4 bytes"
    why = (f"the limit of {format_bytes(limit)}" if effective == limit
           else f"half the free memory ({format_bytes(effective)})")
    if over_limit == "refuse":
        raise InputError(
            f"The attention for this text would take {format_bytes(estimate)} ({formula}), more than {why}.",
            "Shorten the text, raise the memory limit, or choose a downsampled view.")
    longest = max(max(s[2], s[3]) for s in shapes.values())
    for factor in range(2, longest + 1):
        planned = attention_bytes(shapes, factor)
        if planned <= effective:
            return MemoryPlan(estimate, limit, factor, planned)
    raise InputError(f"Even downsampled, the attention for this text would not fit in {why}.",
                     "Shorten the text or raise the memory limit.")
