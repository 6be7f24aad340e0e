"""A small handle that long-running core work uses to report progress and see a Stop.

Two kinds of Stop: ``cancel()`` tears the work down (``cancelled()``; the task runner drops it),
``request_stop()`` asks it to end gracefully (``stop_requested()``): the work finishes its current
step, saves its state and returns normally. Work that has no graceful ending never looks at
``stop_requested()`` and simply runs on, so ask for a graceful stop only of work that reads it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from playground.core.base.errors import Cancelled

ProgressFn = Callable[[float | None, str], None]


class TaskHandle:
    """Progress reporting, pause and the two Stops for one piece of long work.

    Core functions take a handle (or None) so they run the same from a test, the command line
    or the GUI's task runner. ``report`` may be called from any thread; the receiver decides how
    to move it to its own thread.
    """

    def __init__(self, on_progress: ProgressFn | None = None) -> None:
        self._on_progress = on_progress
        self._cancel = threading.Event()
        self._stop = threading.Event()  # any Stop: graceful, or a cancel
        self._running = threading.Event()  # cleared while paused
        self._running.set()
        self._on_parked: Callable[[bool], None] | None = None  # (parked) from the worker thread

    def report(self, progress: float | None, message: str = "") -> None:
        """Report progress in [0, 1] (None when unknown) with a short message."""
        if self._on_progress is not None:
            self._on_progress(progress, message)

    def cancel(self) -> None:
        self._cancel.set()
        self._stop.set()
        self._running.set()  # a paused worker wakes up to see the Stop

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    # graceful stop: the work ends its current step, saves its state and returns normally ---------
    def request_stop(self) -> None:
        """Ask the work to end after its current step (a paused worker wakes up to do so)."""
        self._stop.set()
        self._running.set()

    def stop_requested(self) -> bool:
        """True once a graceful stop was asked for, or the work was cancelled (a cancel is a stop
        too: work that checks only this still ends at its next step)."""
        return self._stop.is_set()

    def ending_on_stop(self) -> "TaskHandle":
        """This handle for a part of the work with nothing to save (loading, scoring): there a
        graceful stop reads as a cancel, so functions that only know ``cancelled()`` end at their
        next boundary. Progress, pause and both Stops stay this handle's own."""
        return _EndingOnStop(self)

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block until the work is cancelled (True) or ``timeout`` seconds pass (False)."""
        return self._cancel.wait(timeout)

    def raise_if_cancelled(self) -> None:
        """A point between two steps: hold here while paused, then stop if cancelled."""
        self.wait_while_paused()
        if self.cancelled():
            raise Cancelled()

    # pause / resume: the work parks at its next step boundary, with its state in memory -------
    def pause(self) -> None:
        if not self._stop.is_set():  # a stopping worker is never held
            self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> bool:
        """Hold the calling (worker) thread while paused; return when resumed or cancelled.

        Returns True if it parked at all. ``_on_parked(True)`` is called once the thread is
        actually parked and ``_on_parked(False)`` when it leaves, so a GUI can say "paused" only
        when the work has really stopped moving.
        """
        if self._running.is_set() or self._stop.is_set():
            return False
        if self._on_parked is not None:
            self._on_parked(True)
        try:
            self._running.wait()
        finally:
            if self._on_parked is not None:
                self._on_parked(False)
        return True


class _EndingOnStop(TaskHandle):
    """A view of a handle in which a graceful stop is a cancel (see ``TaskHandle.ending_on_stop``)."""

    def __init__(self, outer: TaskHandle) -> None:
        # Not a copy: the very same flags and callbacks, so whatever the outer handle's owner sets
        # later (the runner's progress and parking callbacks) holds for the view too.
        self.__dict__ = outer.__dict__

    def cancelled(self) -> bool:
        return self._stop.is_set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        return self._stop.wait(timeout)


NULL_HANDLE = TaskHandle()


def ensure_handle(handle: TaskHandle | None) -> TaskHandle:
    return handle if handle is not None else TaskHandle()
