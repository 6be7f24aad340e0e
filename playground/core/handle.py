"""A small handle that long-running core work uses to report progress and see a Stop."""

from __future__ import annotations

import threading
from collections.abc import Callable

from playground.core.errors import Cancelled

ProgressFn = Callable[[float | None, str], None]


class TaskHandle:
    """Progress reporting and cancellation for one piece of long work.

    Core functions take a handle (or None) so they run the same from a test, the command line
    or the GUI's task runner. ``report`` may be called from any thread; the receiver decides how
    to move it to its own thread.
    """

    def __init__(self, on_progress: ProgressFn | None = None) -> None:
        self._on_progress = on_progress
        self._cancel = threading.Event()

    def report(self, progress: float | None, message: str = "") -> None:
        """Report progress in [0, 1] (None when unknown) with a short message."""
        if self._on_progress is not None:
            self._on_progress(progress, message)

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def wait_cancelled(self, timeout: float | None = None) -> bool:
        """Block until the work is cancelled (True) or ``timeout`` seconds pass (False)."""
        return self._cancel.wait(timeout)

    def raise_if_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()


NULL_HANDLE = TaskHandle()


def ensure_handle(handle: TaskHandle | None) -> TaskHandle:
    return handle if handle is not None else TaskHandle()
