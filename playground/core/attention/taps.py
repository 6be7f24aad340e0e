"""Listening inside a transformers model: eager attention switched on for a while, and forward
hooks that hand over each layer's attention weights and hidden states as they are computed.

Why hooks rather than ``output_attentions=True``: with that flag the model keeps every layer's
(heads, T, T) tensor until the end of the forward pass. A hook sees one layer at a time, so each
can be copied out (or pooled to a smaller size) and let go, which keeps memory to what the user
allowed. The hooks sit on the same modules transformers itself records from
(``_can_record_outputs``), so they see exactly what ``output_attentions=True`` would return.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

# One extraction at a time: the hooks and the attention switch live on the shared model.
# Re-entrant because the switch and the hooks are nested in the same thread.
_LOCK = threading.RLock()

ATTENTION_KEYS = ("attentions", "cross_attentions")


@dataclass
class Tap:
    """A module whose output holds something we want, and where in the output it is."""

    module: object
    key: str      # 'attentions', 'cross_attentions' or 'hidden_states'
    group: str    # 'self' (one stack), 'encoder', 'decoder' or 'cross'
    index: int    # which element of the module's output tuple
    name: str


def _recorder_specs(model) -> list[tuple[str, object]]:
    """The (key, OutputRecorder) pairs a transformers model declares, normalised."""
    from transformers.utils.output_capturing import OutputRecorder

    flags = getattr(model, "_can_record_outputs", None) or {}
    out = []
    for key, specs in flags.items():
        for spec in specs if isinstance(specs, list) else [specs]:
            if not isinstance(spec, OutputRecorder):
                index = 0 if "hidden_states" in key else 1
                spec = OutputRecorder(target_class=None if isinstance(spec, str) else spec, index=index,
                                      class_name=spec if isinstance(spec, str) else None)
            out.append((key, spec))
    return out


def _matches(module, name: str, spec) -> bool:
    hit = (spec.target_class is not None and isinstance(module, spec.target_class)) or \
          (spec.class_name is not None and name.endswith(spec.class_name))
    if hit and spec.layer_name is not None:
        hit = "." + spec.layer_name.strip(".") + "." in name + "."
    return hit


def find_taps(model, is_encoder_decoder: bool) -> list[Tap]:
    """Every module of the model that produces attention weights or a layer's hidden state.

    Each sub-model (a ``PreTrainedModel`` inside another) uses its own recorder list, as
    transformers does. Returns an empty list for a model that declares none (no attention).
    """
    from transformers import PreTrainedModel

    encoder_ids: set[int] = set()
    if is_encoder_decoder and hasattr(model, "get_encoder"):
        encoder = model.get_encoder()
        if encoder is not model:
            encoder_ids = {id(m) for m in encoder.modules()}
    taps: list[Tap] = []
    seen: set[tuple[int, str]] = set()

    def group_of(module, key: str) -> str:
        if key == "cross_attentions":
            return "cross"
        if not is_encoder_decoder:
            return "self"
        return "encoder" if id(module) in encoder_ids else "decoder"

    def visit(module, name: str, specs) -> None:
        for child_name, child in module.named_children():
            child_specs = specs
            if isinstance(child, PreTrainedModel):
                child_specs = _recorder_specs(child) or specs
            visit(child, f"{name}.{child_name}", child_specs)
        for key, spec in specs:
            if key not in ATTENTION_KEYS + ("hidden_states",):
                continue
            if (id(module), key) in seen or not _matches(module, name, spec):
                continue
            seen.add((id(module), key))
            taps.append(Tap(module, key, group_of(module, key), spec.index, name.lstrip(".")))

    visit(model, "", _recorder_specs(model))
    return taps


@contextlib.contextmanager
def eager_attention(model):
    """Switch the model to eager attention (the only kind that returns its weights) for the
    duration of the block, and put the previous implementation back afterwards, even on error."""
    with _LOCK:
        previous = getattr(model.config, "_attn_implementation", None)
        changed = False
        if previous not in (None, "eager") and hasattr(model, "set_attn_implementation"):
            model.set_attn_implementation("eager")
            changed = True
        try:
            yield
        finally:
            if changed:
                model.set_attn_implementation(previous)


@contextlib.contextmanager
def listening(taps: list[Tap], on_output: Callable[[Tap, object, tuple, dict], None]):
    """Install forward hooks on the taps; ``on_output(tap, output, args, kwargs)`` runs after each
    call. Only calls made from this thread are heard, so another tab running the same shared
    model at the same moment never mixes its numbers in. Hooks are removed when the block ends."""
    owner = threading.get_ident()
    handles = []

    def make_hook(tap: Tap):
        def hook(module, args, kwargs, output):
            if threading.get_ident() == owner:
                on_output(tap, output, args, kwargs)
        return hook

    with _LOCK:
        try:
            for tap in taps:
                handles.append(tap.module.register_forward_hook(make_hook(tap), with_kwargs=True))
            yield
        finally:
            for h in handles:
                h.remove()


def pick_output(output, index: int):
    """Element ``index`` of a module output (a tuple, or the tensor itself)."""
    if isinstance(output, (tuple, list)):
        return output[index]
    return output


def layer_input(args: tuple, kwargs: dict):
    """The hidden states a layer was called with (first positional argument or keyword)."""
    if args:
        return args[0]
    return kwargs.get("hidden_states")
