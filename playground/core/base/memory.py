"""What the process holds in memory, and giving back what is no longer used (issue 35, part 2).

Two things kept memory after a learner was done with it:

* model loads pause the cyclic garbage collector and then *freeze* every object alive
  (``runtime.quiet_loading``), so later collections skip them. A copy that was frozen and later
  dropped while it sat in a reference cycle (a peft model, a training job's state) was never
  collected again; :func:`release_unused` unfreezes, collects and freezes the survivors again.
* glibc keeps freed blocks in its arenas; ``malloc_trim(0)`` gives the free pages back to the system.

Copies a tab keeps for the learner (a fine-tuned model not in use yet, a precision copy) are named
with :func:`hold`, so the model bar can say what is held (:func:`held_breakdown`). A holder is
referenced weakly: a copy released elsewhere leaves the list by itself.
"""

from __future__ import annotations

import ctypes
import gc
import sys
import threading
import weakref
from dataclasses import dataclass
from typing import Any, Iterable

_holders: dict[int, tuple[str, weakref.ref]] = {}
_holders_lock = threading.Lock()


@dataclass(frozen=True)
class Held:
    """One line of what the process holds: what it is, and its bytes (counted once)."""

    label: str
    bytes: int


def resident_bytes() -> int | None:
    """The process's resident memory (VmRSS on Linux, psutil elsewhere), None when it cannot be read."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        import psutil

        return int(psutil.Process().memory_info().rss)
    except Exception:  # noqa: BLE001 (no psutil, or no permission: the figure is simply not shown)
        return None


def trim_heap() -> bool:
    """Give glibc's free heap pages back to the system (Linux with glibc; elsewhere False)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):
        return False


def release_unused() -> None:
    """Collect every unreachable object, frozen ones included, then trim the heap.

    Call it when no model is loading (the app does it when its task runner falls idle): a full
    collection holds the interpreter for a fraction of a second. The survivors are frozen again, so
    later automatic collections stay as cheap as ``quiet_loading`` made them.
    """
    from playground.core.base import runtime

    with runtime._lock:  # noqa: SLF001 (one lock for the collector's state)
        if runtime._paused == 0:  # noqa: SLF001 (a load in progress keeps the collector paused)
            frozen = gc.get_freeze_count()
            gc.unfreeze()
            gc.collect()
            if frozen:
                gc.freeze()
    trim_heap()


def hold(label: str, obj: Any) -> None:
    """Name a copy a tab keeps (a model, a LoadedModel), so the memory figure can say what it is."""
    if obj is None:
        return
    key = id(obj)
    with _holders_lock:
        _holders[key] = (label, weakref.ref(obj, lambda _r, k=key: _forget(k)))


def unhold(obj: Any) -> None:
    """Stop naming ``obj`` (it is still freed only when nothing else refers to it)."""
    if obj is not None:
        _forget(id(obj))


def _forget(key: int) -> None:
    with _holders_lock:
        _holders.pop(key, None)


def holdings() -> list[tuple[str, Any]]:
    """(label, object) of every named copy still alive."""
    with _holders_lock:
        items = list(_holders.values())
    return [(label, obj) for label, ref in items if (obj := ref()) is not None]


def _module_of(obj: Any):
    """The torch module behind a LoadedModel, a (model, tokenizer) pair, or a module itself."""
    model = getattr(obj, "model", obj)
    if isinstance(obj, tuple) and obj:
        model = obj[0]
    return model if hasattr(model, "parameters") else None


def _storages(model) -> Iterable[tuple[int, int]]:
    """(address, bytes) of each distinct storage behind a module's parameters and buffers."""
    seen = set()
    tensors = list(model.parameters()) + list(model.buffers())
    for t in tensors:
        for part in _plain_parts(t):
            try:
                st = part.untyped_storage()
                key = (st.data_ptr(), st.nbytes())
            except (RuntimeError, NotImplementedError):
                continue
            if key not in seen and key[0]:
                seen.add(key)
                yield key


def _plain_parts(t) -> list:
    if hasattr(t, "__tensor_flatten__"):  # a tensor subclass (quantized weights): its inner tensors
        names, _ = t.__tensor_flatten__()
        return [p for n in names for p in _plain_parts(getattr(t, n))]
    return [t]


def held_breakdown(named: Iterable[tuple[str, Any]], rss: int | None = None) -> list[Held]:
    """What is held, each storage counted once, in the order given; then "other" (the rest of ``rss``:
    Python, Qt, the libraries, caches) when ``rss`` is known.

    ``named`` gives (label, model-like object); lines of one label are added up, empty ones left out.
    """
    counted: set[tuple[int, int]] = set()
    totals: dict[str, int] = {}
    for label, obj in named:
        model = _module_of(obj)
        if model is None:
            continue
        fresh = [k for k in _storages(model) if k not in counted]
        counted.update(fresh)
        totals[label] = totals.get(label, 0) + sum(n for _, n in fresh)
    lines = [Held(label, n) for label, n in totals.items() if n > 0]
    if rss is not None:
        lines.append(Held("other", max(0, rss - sum(h.bytes for h in lines))))
    return lines


def session_holdings(session) -> list[tuple[str, Any]]:
    """The session's models in words: the model in use, the model it was converted from, the adapter."""
    named: list[tuple[str, Any]] = []
    base = session.base
    if base is not None:
        original = base.extras.get("precision_of")
        if original is not None:
            named += [("precision copy", base), ("model", original)]
        else:
            named.append(("model", base))
    adapter = session.adapter
    if adapter is not None:
        named.append(("fine-tuned copy" if session.adapter_on else "fine-tuned copy (off)", adapter))
    return named


def format_breakdown(lines: list[Held]) -> str:
    """'model 513 MiB, precision copy 260 MiB, encoder 87 MiB, other 700 MiB'."""
    from playground.core.base.units import format_bytes

    return ", ".join(f"{h.label} {format_bytes(h.bytes)}" for h in lines)
