"""The installed Qt binding keeps Python's reference counts: PySide6 6.12.0 dropped a reference to True on
every ``Signal.emit()`` and to None on every ``QTimer.singleShot(0, fn)`` called from Python, so a session
that emitted a few hundred progress signals aborted with "bool_dealloc" (hence the pin in pyproject.toml)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Signal


class _Emitter(QObject):
    sig = Signal(object)


def test_emitting_a_signal_keeps_the_reference_counts(qapp):
    emitter = _Emitter()
    got = []
    emitter.sig.connect(got.append)
    true_before, none_before = sys.getrefcount(True), sys.getrefcount(None)
    for i in range(50):
        emitter.sig.emit(i)
    assert got == list(range(50))
    # Other objects may take or drop a few references meanwhile; a leak loses one per emit.
    assert abs(sys.getrefcount(True) - true_before) < 25
    assert abs(sys.getrefcount(None) - none_before) < 25


def test_single_shot_timers_keep_the_reference_counts(qapp, qtbot):
    import gc

    fired = []
    n = 2000  # None has millions of references: a leak of one per call must stand out from what else runs
    gc.collect()
    qapp.processEvents()
    none_before = sys.getrefcount(None)
    for _ in range(n):
        QTimer.singleShot(0, lambda: fired.append(1))
    qtbot.waitUntil(lambda: len(fired) == n)
    assert sys.getrefcount(None) - none_before > -n // 4
