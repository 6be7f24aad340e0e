"""Giving memory back when the app falls idle, and saying what it holds (issue 35, part 2).

``MemoryKeeper`` watches the task runner: when the last task of a stretch of work longer than
``WORK_SECONDS`` ends (a fine-tuning run, an alignment run, a sweep, a model load), or the model is
replaced (another precision, a pruned copy), it drops encoders
not used for ``ENCODER_IDLE_SECONDS``, collects what is unreachable (frozen objects included) and
trims the heap, then says so with ``sig_released`` (the model bar updates its figure).
"""

from __future__ import annotations

import time
import weakref

from PySide6.QtCore import QObject, QTimer, Signal
from shiboken6 import isValid

#: work shorter than this (a slider's next-token read, one generation) does not trigger a release
WORK_SECONDS = 1.5
#: an encoder not asked for in this long is dropped from its cache (loading it again takes ~3 s)
ENCODER_IDLE_SECONDS = 120.0
#: a full collection (the frozen objects included) holds the window for about a second on a busy 2-core
#: machine, so it runs only when the process grew this much since the last one, or a model was replaced;
#: otherwise only the heap is trimmed (milliseconds)
GROWTH_BYTES = 192 * 1024 * 1024


def shared_base(context):
    """The model a run copies, as loaded (a precision copy in use points back to it), or None."""
    base = context.session.base
    if base is None:
        return None
    return base.extras.get("precision_of", base).model


def held_now(context) -> list:
    """What the process holds, as ``Held`` lines: the session's models, the encoders, the copies tabs
    keep (named with ``core.base.memory.hold``), then "other" (Python, Qt, libraries, caches)."""
    from playground.core.base.memory import held_breakdown, holdings, resident_bytes, session_holdings
    from playground.core.models.encoder import encoders_alive

    named = session_holdings(context.session) + [("encoder", m) for m in encoders_alive()] + holdings()
    return held_breakdown(named, resident_bytes())


class MemoryKeeper(QObject):
    """Releases what is no longer used when the runner falls idle after real work."""

    sig_released = Signal()
    """nothing: memory was given back (what is held changed)"""

    def __init__(self, context, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.releases = 0  # how many times memory was given back (a test reads it)
        self._work_started: float | None = None
        self._due = False  # a model was replaced while a task ran: release once the runner is idle
        self._full = True  # the next automatic release collects everything (a model was replaced, or at start)
        self._resident_after = 0  # the resident bytes after the last full release
        self._pending = QTimer(self)
        self._pending.setSingleShot(True)
        self._pending.setInterval(300)  # late results and their widgets settle first
        self._pending.timeout.connect(self._release_when_worth_it)
        self._encoders = QTimer(self)  # an encoder unused for a while goes even when nothing else runs
        self._encoders.setInterval(int(ENCODER_IDLE_SECONDS * 1000) // 2)
        self._encoders.timeout.connect(self._drop_idle_encoders)
        self._encoders.start()
        context.runner.sig_active_changed.connect(self._active_changed)
        context.runner.sig_shutdown.connect(self.stop)
        # a model replaced (another precision, a pruned copy) leaves the old one behind; the Adapter switch does not
        self._base_id = None
        context.sig_model_changed.connect(self._model_changed)
        self._deferred = False  # a release is queued for the event loop's next turn
        self._stopped = False

    def stop(self) -> None:
        """No more releases (the window is closing, or a test's context is done with)."""
        self._stopped = True
        self._pending.stop()
        self._encoders.stop()

    def _model_changed(self, _loaded) -> None:
        base = self.context.session.base
        if id(base) != self._base_id:
            replaced = self._base_id is not None
            self._base_id = id(base)
            self._full = self._full or replaced
            if replaced and self.context.runner.active:
                self._due = True  # "Use this precision" replaces the model from its task's result
            elif replaced:
                self._pending.start()

    def _active_changed(self, count: int) -> None:
        if count > 0:
            if self._pending.isActive():  # new work came first: the release waits for it to end
                self._pending.stop()
                self._due = True
            if self._work_started is None:
                self._work_started = time.monotonic()
            return
        started, self._work_started = self._work_started, None
        if self._due or (started is not None and time.monotonic() - started >= WORK_SECONDS):
            self._due = False
            self._pending.start()

    @property
    def pending(self) -> bool:
        """A release is due in a moment (the bench waits for it before it reads the figure)."""
        return self._pending.isActive() or self._deferred

    def _drop_idle_encoders(self) -> None:
        from playground.core.models.encoder import release_idle_encoders

        if not self.context.runner.active and release_idle_encoders(ENCODER_IDLE_SECONDS):
            self._release_soon()

    def _release_soon(self) -> None:
        """Release from the event loop's next turn, not from inside a slot.

        A full collection may delete Qt objects that only unreachable Python objects held (a closed
        window, a replaced panel); deleting a timer or a sender while its own signal is being
        delivered crashes the process. Run from a single-shot call of a module function, nothing of
        what can be collected is on the stack.
        """
        if not self._deferred and not self._stopped:
            self._deferred = True
            QTimer.singleShot(0, lambda ref=weakref.ref(self): _deferred_release(ref))

    def _release_when_worth_it(self) -> None:
        from playground.core.base.memory import resident_bytes, trim_heap

        grown = (resident_bytes() or 0) - self._resident_after
        if self._full or grown >= GROWTH_BYTES:
            self._release_soon()
        elif not self.context.runner.active:
            trim_heap()
            self.sig_released.emit()

    def release_now(self) -> None:
        """Give back what nothing uses any more (postponed while a task runs: a load pauses the collector).

        Call it from plain code, never from a slot of an object the collection may free (the keeper's
        own timers use ``_release_soon``)."""
        self._deferred = False
        if self._stopped:
            return
        if self.context.runner.active:
            self._due = True  # once the runner is idle
            return
        from playground.core.base.memory import release_unused
        from playground.core.models.encoder import release_idle_encoders

        from playground.core.base.memory import resident_bytes

        release_idle_encoders(ENCODER_IDLE_SECONDS)
        release_unused()
        self._full, self._resident_after = False, resident_bytes() or 0
        self.releases += 1
        if isValid(self):  # the collection freed what was unreachable; the keeper itself is in use
            self.sig_released.emit()


def _deferred_release(ref) -> None:
    keeper = ref()
    if keeper is not None and isValid(keeper):
        keeper.release_now()
