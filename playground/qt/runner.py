"""The one task runner: long work runs in a thread pool, results return through the asyncio
loop that qasync runs on the Qt event loop, and reach widgets only as signals on the GUI thread.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from playground.core.base.errors import Cancelled, describe_exception
from playground.core.base.handle import TaskHandle


def ensure_loop() -> asyncio.AbstractEventLoop:
    """The qasync event loop bound to the running QApplication (created once)."""
    import qasync

    loop = asyncio._get_running_loop()
    if isinstance(loop, qasync.QEventLoop) and not loop.is_closed():
        return loop
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("create the QApplication first")
    # already_running: Qt's own exec() (or pytest-qt's waits) drive the loop.
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)
    return loop


THREAD_PREFIX = "playground-task"


class Task(QObject):
    """One piece of work in the runner. Connect to its signals before the loop runs again."""

    sig_progress = Signal(object, object)
    """(fraction in [0, 1] or None when unknown, message: a str, or a StepMessage that keeps its phase and count
    on the way to the progress strip; a ``str`` signal would turn it into a plain str)"""
    sig_item = Signal(object)
    """one item yielded by a generator task, in order"""
    sig_done = Signal(object)
    """the task's return value (None for generator tasks)"""
    sig_failed = Signal(str, str)
    """(plain message, hint) when the work raised"""
    sig_cancelled = Signal()
    """the user stopped the task; items already delivered stay valid"""
    sig_paused = Signal()
    """the worker is now parked between two steps (sent once it has really stopped moving)"""
    sig_resumed = Signal()
    """the parked worker is moving again (after resume or a Stop)"""
    sig_finished = Signal()
    """always last, whatever the outcome"""

    def __init__(self, name: str, fn: Callable[[TaskHandle], Any]) -> None:
        super().__init__()
        self.name = name
        self.fn = fn
        self.handle = TaskHandle()
        self.outcome = "pending"  # then: done, failed, cancelled
        self.error: tuple[str, str] | None = None
        self.parked = False  # the worker is held by pause right now
        self.sig_paused.connect(lambda: setattr(self, "parked", True))
        self.sig_resumed.connect(lambda: setattr(self, "parked", False))

    def cancel(self) -> None:
        self.handle.cancel()

    def request_stop(self) -> None:
        """A graceful stop: the work ends its current step, saves its state and returns normally
        (its outcome is then "done"); work that never reads ``stop_requested()`` runs on."""
        self.handle.request_stop()

    def pause(self) -> None:
        """Hold the work at its next step boundary (a generator's next item, or a core function's
        next ``raise_if_cancelled``); sig_paused follows once it is parked."""
        self.handle.pause()

    def resume(self) -> None:
        self.handle.resume()

    @property
    def paused(self) -> bool:
        """Asked to pause (the worker may still be finishing its step: wait for sig_paused)."""
        return self.handle.paused() and not self.finished

    @property
    def finished(self) -> bool:
        return self.outcome != "pending"


class TaskRunner(QObject):
    """Runs core work off the GUI thread. The only way long work is started in the app."""

    sig_active_changed = Signal(int)
    """number of tasks now running"""
    sig_shutdown = Signal()
    """the runner is stopping for good (the window closes; what watches it stops too)"""

    def __init__(self, max_workers: int = 3, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._loop = ensure_loop()
        self._executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix=THREAD_PREFIX)
        self._tasks: set[Task] = set()
        self._futures: set[asyncio.Future] = set()

    @property
    def active(self) -> list[Task]:
        return [t for t in self._tasks if not t.finished]

    def submit(self, name: str, fn: Callable[[TaskHandle], Any]) -> Task:
        """Start ``fn(handle)`` in a worker. A generator's items arrive one by one as sig_item."""
        task = Task(name, fn)
        loop = self._loop
        task.handle._on_progress = lambda p, m: loop.call_soon_threadsafe(_emit_live, task, task.sig_progress, p, m)
        task.handle._on_parked = lambda parked: loop.call_soon_threadsafe(
            _emit_live, task, task.sig_paused if parked else task.sig_resumed)
        self._tasks.add(task)
        fut = asyncio.ensure_future(self._run(task), loop=loop)
        self._futures.add(fut)
        fut.add_done_callback(self._futures.discard)
        self.sig_active_changed.emit(len(self.active))
        return task

    async def _run(self, task: Task) -> None:
        loop = self._loop

        def work():
            result = task.fn(task.handle)
            if inspect.isgenerator(result):
                try:
                    for item in result:
                        loop.call_soon_threadsafe(_emit_live, task, task.sig_item, item)
                        task.handle.wait_while_paused()  # Pause parks a generator between items
                        if task.handle.cancelled():
                            raise Cancelled()
                finally:
                    result.close()
                if task.handle.cancelled():
                    raise Cancelled()
                return None
            return result

        try:
            result = await loop.run_in_executor(self._executor, work)
        except Cancelled:
            task.outcome = "cancelled"
            _emit_if_alive(task, task.sig_cancelled)
        except BaseException as exc:  # every failure becomes a message, never a crash
            task.outcome = "failed"
            task.error = describe_exception(exc)
            _emit_if_alive(task, task.sig_failed, *task.error)
        else:
            if task.handle.cancelled():
                task.outcome = "cancelled"
                _emit_if_alive(task, task.sig_cancelled)
            else:
                task.outcome = "done"
                _emit_if_alive(task, task.sig_done, result)
        finally:
            task.fn = None  # the work's closure lets go of what it captured (a model, a training copy)
            # The app may have quit while the work ran on: its Qt objects are gone, nobody listens.
            _emit_if_alive(task, task.sig_finished)
            self._tasks.discard(task)
            _emit_if_alive(self, self.sig_active_changed, len(self.active))

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    def shutdown(self, wait: bool = True) -> None:
        """Stop everything; with wait, block until the worker threads have ended."""
        _emit_if_alive(self, self.sig_shutdown)
        self.cancel_all()
        self._executor.shutdown(wait=wait, cancel_futures=True)

    def shutdown_within(self, seconds: float) -> bool:
        """Stop everything and wait at most ``seconds`` for the worker threads; True when they ended.

        Work that never looks at Stop (a model load inside transformers, one long forward pass)
        can run for minutes; the caller decides what to do when this returns False.
        """
        import threading
        import time

        self.shutdown(wait=False)
        deadline = time.monotonic() + seconds
        for thread in threading.enumerate():
            if thread.name.startswith(THREAD_PREFIX):
                thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.name.startswith(THREAD_PREFIX) and t.is_alive() for t in threading.enumerate())


def _emit_if_alive(owner: QObject, signal, *args) -> None:
    """Emit unless ``owner``'s Qt object was deleted (the window closed while the work ran on)."""
    from shiboken6 import isValid

    if isValid(owner):
        signal.emit(*args)


def _emit_live(task: Task, signal, *args) -> None:
    if not task.finished or signal is task.sig_item:
        _emit_if_alive(task, signal, *args)
