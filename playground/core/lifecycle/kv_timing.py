"""Time per new token with the KV cache and without it, at several context lengths, measured live.

With the cache, a new token costs one pass over that token alone (its query reads the cached keys and
values). Without it, every step recomputes the whole prefix: a pass over all ``length + 1`` positions
for the same one token. The gap grows with the length. Both sides compute the next-token scores of the
last position only (``logits_to_keep=1`` where the model takes it), so the difference is the prefix.
"""

from __future__ import annotations

import inspect
import statistics
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step

DEFAULT_LENGTHS = (32, 64, 128, 256, 512, 1024)
BENCH_LENGTHS = (64, 256, 1024)


@dataclass(frozen=True)
class TimingPoint:
    length: int              # positions already read when the new token is computed
    with_cache_s: float      # median seconds for one token fed on a cache of ``length`` positions
    without_cache_s: float   # median seconds for one pass over the ``length + 1`` positions, no cache
    repeats: int

    @property
    def ratio(self) -> float:
        return self.without_cache_s / self.with_cache_s if self.with_cache_s > 0 else float("nan")


def parse_lengths(text: str | Sequence[int]) -> list[int]:
    """'64, 256, 1024' (or a list) as sorted distinct positive lengths; refuses anything else plainly."""
    items = text.replace(",", " ").split() if isinstance(text, str) else list(text)
    try:
        lengths = sorted({int(x) for x in items})
    except (TypeError, ValueError):
        raise InputError(f"'{text}' is not a list of context lengths.", "Write whole numbers, e.g. 64, 256, 1024.") \
            from None
    if not lengths or lengths[0] < 1:
        raise InputError("Context lengths must be whole numbers of at least 1.", "For example: 64, 256, 1024.")
    return lengths


def check_lengths(loaded, lengths: Sequence[int], repeats: int) -> None:
    """Refuse a context longer than the model's window (each length needs ``repeats`` more positions)."""
    window = loaded.info.context_window
    too_long = [n for n in lengths if n + repeats + 1 > window]
    if too_long:
        raise InputError(f"A context of {too_long[0]:,} tokens (plus {repeats + 1} timed ones) is longer than "
                         f"{loaded.info.name}'s context window of {window:,} tokens.",
                         f"Use lengths up to {max(1, window - repeats - 1):,}.")


def filler_ids(loaded, length: int, seed_ids: Sequence[int] = ()) -> list[int]:
    """``length`` token ids of real text: ``seed_ids`` (a prompt) repeated, else the bundled dialogues."""
    ids = list(seed_ids)
    if len(ids) < 8:
        from playground.core.evaluation.datasets import dialogues_dir, read_jsonl

        text = "\n\n".join(r.get("dialogue", "") for r in read_jsonl(dialogues_dir() / "test.jsonl")[:40])
        ids = loaded.tokenizer(text, add_special_tokens=False)["input_ids"]
    out: list[int] = []
    while len(out) < length:
        out.extend(ids)
    return out[:length]


def _keeps_last_logits(model) -> dict:
    try:
        return {"logits_to_keep": 1} if "logits_to_keep" in inspect.signature(model.forward).parameters else {}
    except (TypeError, ValueError):
        return {}


def time_per_token(loaded, lengths: Sequence[int] = DEFAULT_LENGTHS, *, repeats: int = 3,
                   seed_ids: Sequence[int] = (), handle: TaskHandle | None = None) -> Iterator[TimingPoint]:
    """For each length: the cached prefix is built (not timed), then ``repeats`` new tokens are timed fed
    one at a time on the cache, and the same tokens timed as full passes over the prefix without it.

    Yields one :class:`TimingPoint` per length, shortest first; Stop is seen between passes.

    Raises
    ------
    InputError
        A length past the context window, or fewer than 1 repeat.
    """
    import torch

    from playground.core.decoding.cached_step import CachedDecoder
    from playground.core.decoding.decode_speed import intra_op_threads

    handle = ensure_handle(handle)
    lengths = parse_lengths(lengths)
    if not 1 <= int(repeats) <= 50:
        raise InputError(f"{repeats} repeats cannot be timed.", "Use between 1 and 50.")
    check_lengths(loaded, lengths, repeats)
    model = loaded.model
    device = next(model.parameters()).device
    extra = _keeps_last_logits(model)
    ids = filler_ids(loaded, max(lengths) + repeats + 1, seed_ids)
    total = len(lengths)
    for done, length in enumerate(lengths):
        report_step(handle, "Timing with and without the cache", done, total, f"{length} tokens")
        decoder = CachedDecoder(loaded, ids[:length])
        decoder.start()  # the prefill: built, not timed
        cached, full = [], []
        for r in range(repeats + 1):  # the first pass of each kind warms up and is not counted
            handle.raise_if_cancelled()
            token = ids[length + r]
            t0 = time.perf_counter()
            decoder.feed([token])
            t1 = time.perf_counter()
            with torch.inference_mode(), intra_op_threads(decoder.threads):  # both ways on the same threads
                model(input_ids=torch.tensor([ids[:length + r + 1]], device=device), use_cache=False, **extra)
            t2 = time.perf_counter()
            if r:
                cached.append(t1 - t0)
                full.append(t2 - t1)
        yield TimingPoint(length, statistics.median(cached), statistics.median(full), repeats)
    report_step(handle, "Timing with and without the cache", total, total)


def timing_table(points: Sequence[TimingPoint]) -> str:
    """A plain table: milliseconds per token with and without the cache, and the ratio."""
    rows = [f"{'context':>8} {'with cache':>12} {'without':>12} {'slower by':>10}"]
    for p in points:
        rows.append(f"{p.length:>8,} {p.with_cache_s * 1000:>9.1f} ms {p.without_cache_s * 1000:>9.1f} ms "
                    f"{p.ratio:>9.1f}×")
    return "\n".join(rows)
