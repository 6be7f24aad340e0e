"""How many CPU threads the shared decode step uses, and whether this CPU does BF16 natively.

Where a decode step's time goes (bundled 135M model, one token, FP32, one thread, 2-core CPU at
load 11; ``bench/generation.py --profile``): 138 ms = the 210 matrix-vector products of the 30
layers 84-101 ms (their weights, 424 MB, read once per token), the layers' other work (about 400
small ops: norms, rotary, attention, Python and dispatch) 30-42 ms, the tied 49,152-row output
layer and argmax 23-27 ms. With two threads the same step took 510-600 ms: the matrix products
took no longer, the small ops took ten times longer. Each op torch splits over threads ends at a
barrier where every thread waits for the slowest, and when other programs keep the cores busy one
of them is often descheduled. The choice of the token (a softmax over 49k scores is split too)
suffered the same: 70 ms per greedy token with two threads, 1.6 ms with one. So one-sequence
decoding, with its choice of token, uses as many threads as there are idle cores, at least one,
read from what the cores did in the last tenth of a second (the load average trails by a minute).

The thread count never changes the precision; it can change the last bits of the scores (the
sums are split differently: up to 4e-5 on the bundled model's logits over 40 greedy tokens).
Greedy text was the same at one and two threads in the bench.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import torch

ENV_THREADS = "PLAYGROUND_DECODE_THREADS"  # a fixed count (bench, tests); unset: chosen from the load

_lock = threading.Lock()
_last_sample: tuple[float, float] | None = None  # (wall clock, this process's CPU time)
_own_share = 0.0


def native_bf16() -> bool:
    """True where the CPU multiplies BF16 natively (AVX-512 BF16 or AMX), so BF16 weights speed up
    the matrix work instead of paying conversions."""
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    for name in checks:
        fn = getattr(torch.cpu, name, None)
        try:
            if fn is not None and fn():
                return True
        except Exception:  # a torch build without the probe: fall back to the flags below
            pass
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return bool({"avx512_bf16", "amx_bf16"} & set(line.split()))
    except OSError:
        pass
    return False


def _own_load() -> float:
    """Cores this process kept busy since the last call (0 for the first call, or after > 5 minutes)."""
    global _last_sample, _own_share
    now, cpu = time.monotonic(), time.process_time()
    with _lock:
        if _last_sample is not None:
            wall = now - _last_sample[0]
            if 1.0 <= wall <= 300.0:
                _own_share = max(0.0, (cpu - _last_sample[1]) / wall)
            elif wall > 300.0:
                _own_share = 0.0
        if _last_sample is None or now - _last_sample[0] >= 1.0:
            _last_sample = (now, cpu)
        return _own_share


#: a fresh reading of how busy the cores are watches them this long (a run's start waits for it)
STAT_WINDOW = 0.1
_last_stat: tuple[float, float, float] | None = None  # (wall clock, all cores' busy seconds, this process's CPU)
_last_value: float | None = None  # the figure that reading gave


def _cores_busy_seconds() -> float | None:
    """Seconds all cores together have spent busy since boot (Linux ``/proc/stat``), None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            parts = fh.readline().split()
        ticks = [int(x) for x in parts[1:9]]  # user nice system idle iowait irq softirq steal
        hz = os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError):
        return None
    if not parts or parts[0] != "cpu" or len(ticks) < 5 or hz <= 0:
        return None
    return (sum(ticks) - ticks[3] - ticks[4]) / hz


def _others_busy_now() -> float | None:
    """Cores other programs keep busy now: every core's busy time less this process's, over the last
    0.05-1 s (since the previous reading, or a fresh 0.1 s one); None where the cores cannot be read.

    Readings closer together than half the window give the last figure again, so making many
    decoders in a row (a speculative run makes two per sample) waits at most once."""
    global _last_stat, _last_value
    for _attempt in range(2):
        now, own, busy = time.monotonic(), time.process_time(), _cores_busy_seconds()
        if busy is None:
            return None
        with _lock:
            last = _last_stat
            elapsed = None if last is None else now - last[0]
            if elapsed is not None and elapsed < STAT_WINDOW / 2 and _last_value is not None:
                return _last_value
            if elapsed is not None and STAT_WINDOW / 2 <= elapsed <= 1.0:
                _last_stat = (now, busy, own)
                _last_value = max(0.0, ((busy - last[1]) - (own - last[2])) / elapsed)
                return _last_value
            if elapsed is None or elapsed > 1.0:
                _last_stat = (now, busy, own)  # a fresh reading starts here
        time.sleep(STAT_WINDOW)
    return None


def busy_cores() -> float:
    """About how many cores other programs keep busy right now (0.0 where it cannot be read).

    Read from the cores' use over the last tenth of a second (Linux); elsewhere the 1-minute load
    average less this process's own recent use. The load average trails: a job that started ten
    seconds ago counts for a sixth of a core in it (bench/generation.py with a job started beside it:
    the app chose two threads and decoded at 6.8 tok/s where one thread gave 16.8)."""
    now = _others_busy_now()
    if now is not None:
        return now
    try:
        load = os.getloadavg()[0]
    except (OSError, AttributeError):
        return 0.0
    return max(0.0, load - _own_load())


def decode_threads(device: str = "cpu") -> int:
    """Intra-op threads for decoding one sequence on ``device``: the idle cores, at least one.

    ``PLAYGROUND_DECODE_THREADS`` fixes the count. Off the CPU the caller's setting is kept.
    """
    current = torch.get_num_threads()
    fixed = os.environ.get(ENV_THREADS, "").strip()
    if fixed.isdigit() and int(fixed) > 0:
        return int(fixed)
    if str(device).split(":")[0] != "cpu" or current <= 1:
        return current
    idle = current - busy_cores()
    return max(1, min(current, int(idle + 0.5)))


@contextmanager
def intra_op_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` intra-op threads, then give the calling thread its count back.

    The count belongs to the calling thread (OpenMP's per-thread setting), so other threads'
    work (the window, a training run) keeps its own."""
    before = torch.get_num_threads()
    if n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
