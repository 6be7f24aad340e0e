"""A run's peak memory is its own: what the process did before the run is not counted."""

from __future__ import annotations

import gc
import mmap

import pytest

from playground.core.finetune import resources
from playground.core.finetune.resources import PeakMeter

MiB = 2**20


def _touch(n_bytes: int) -> mmap.mmap:
    # A fresh anonymous mapping (not the allocator's heap, whose freed pages may already be
    # resident): writing a byte in each page makes it resident, closing it gives it back.
    block = mmap.mmap(-1, n_bytes)
    for i in range(0, n_bytes, mmap.PAGESIZE):
        block[i] = 1
    return block


@pytest.mark.parametrize("kernel_mark", [True, False], ids=["kernel-high-water-mark", "sampling-thread"])
def test_the_peak_counts_only_what_happened_since_the_start(kernel_mark, monkeypatch):
    if not kernel_mark:
        monkeypatch.setattr(resources, "_reset_linux_hwm", lambda: False)
    elif not resources._reset_linux_hwm():
        pytest.skip("this kernel does not let a process reset its peak resident size")
    big = _touch(300 * MiB)  # before the run: an earlier run or another model
    big.close()
    gc.collect()
    meter = PeakMeter("cpu").start()
    try:
        during = _touch(60 * MiB)
        peak, added = meter.peak(), meter.added()  # read while the block is resident
        during.close()
    finally:
        meter.stop()
    assert added >= 50 * MiB
    # the 300 MiB freed before the start is not in the run's peak
    assert added < 250 * MiB
    assert peak >= meter.start_bytes + 50 * MiB


@pytest.mark.parametrize("kernel_mark", [True, False], ids=["kernel-high-water-mark", "sampling-thread"])
def test_a_phase_counts_what_it_added_and_the_run_keeps_its_peak(kernel_mark, monkeypatch):
    if not kernel_mark:
        monkeypatch.setattr(resources, "_reset_linux_hwm", lambda: False)
    elif not resources._reset_linux_hwm():
        pytest.skip("this kernel does not let a process reset its peak resident size")
    meter = PeakMeter("cpu").start()
    try:
        loading = _touch(200 * MiB)  # loading and scoring, before the training steps
        meter.peak()  # read while resident (the sampling thread might miss so short a peak)
        loading.close()
        gc.collect()
        meter.mark()
        steps = _touch(60 * MiB)
        phase_added, peak = meter.phase_added(), meter.peak()
        steps.close()
    finally:
        meter.stop()
    assert 50 * MiB <= phase_added < 150 * MiB  # the steps' 60 MiB, not the 200 MiB before them
    assert peak >= meter.start_bytes + 190 * MiB  # the run's peak still holds the loading
