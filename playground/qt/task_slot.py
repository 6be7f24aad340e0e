"""One task slot per panel: the only place that calls ``runner.submit``.

A panel (or a page, or the model loader) owns one slot per kind of work. ``start`` supersedes the
slot's previous run: it is stopped and whatever it still sends is dropped, so a late result never
overwrites a newer one. The panel's hooks are ``on_item`` / ``on_done`` / ``on_failed`` /
``on_finished``; a failure lands in the panel's message line unless the panel hooks it itself.
Pause, resume and stop (a cancel, or a graceful stop that lets the work save its state) go to the
running task (Orange3's ConcurrentWidgetMixin, superqt's GeneratorWorker).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from shiboken6 import isValid

from playground.core.base.handle import TaskHandle
from playground.qt.runner import Task, TaskRunner

Hook = Callable[..., Any] | None


class TaskSlot(QObject):
    """Runs at most one task at a time for its owner.

    Parameters
    ----------
    runner : the app's TaskRunner (``context.runner``)
    say : where a failure is shown by default (a label's ``setText``); called with "" on start
    on_item, on_done, on_failed, on_finished, on_progress : default hooks, each overridable per
        ``start``. ``on_failed(message, hint)`` replaces the default message; ``on_finished(task)``
        runs last whatever the outcome (done, failed or cancelled), and not for a superseded run.
    """

    sig_busy_changed = Signal(bool)
    """True when the slot's run starts, False when it ends (not when one run replaces another)"""
    sig_paused_changed = Signal(bool)
    """True once the running task is parked by pause, False when it moves again"""

    def __init__(self, runner: TaskRunner, say: Callable[[str], Any] | None = None, *,
                 on_item: Hook = None, on_done: Hook = None, on_failed: Hook = None,
                 on_finished: Hook = None, on_progress: Hook = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.say = say
        self._defaults = dict(on_item=on_item, on_done=on_done, on_failed=on_failed,
                              on_finished=on_finished, on_progress=on_progress)
        self.task: Task | None = None
        # The owner goes away (a closed panel): its run stops, and nothing it sends arrives.
        current = self._current = [None]
        self.destroyed.connect(lambda *_: current[0] is not None and current[0].cancel())

    @property
    def busy(self) -> bool:
        return self.task is not None and not self.task.finished

    @property
    def paused(self) -> bool:
        return self.busy and self.task.paused

    def start(self, name: str, fn: Callable[[TaskHandle], Any], **hooks: Hook) -> Task:
        """Run ``fn(handle)`` off the GUI thread, replacing (and stopping) the slot's current run."""
        unknown = set(hooks) - set(self._defaults)
        if unknown:
            raise TypeError(f"unknown hook(s): {', '.join(sorted(unknown))}")
        hooks = {**self._defaults, **{k: v for k, v in hooks.items() if v is not None}}
        was_busy = self.busy
        if was_busy:
            self.task.cancel()
        if self.say is not None:
            self.say("")
        task = self.runner.submit(name, fn)
        self.task = self._current[0] = task
        # The hooks are looked up in ``held`` and let go once the run has finished: a finished task kept
        # for ``outcome()`` must not keep what its hooks refer to (a model, a stepper) alive (issue 35).
        held = {**hooks, "on_failed": hooks["on_failed"] or self._say_failure}

        def live(name):
            # Bound to this run: once a newer run owns the slot, this one's signals are dropped.
            def call(*args):
                hook = held.get(name)
                if isValid(self) and self.task is task and hook is not None:
                    hook(*args)
            return call

        def finished():
            if isValid(self):
                self._finished(task, held.get("on_finished"))
            held.clear()

        task.sig_item.connect(live("on_item"))
        task.sig_done.connect(live("on_done"))
        task.sig_progress.connect(live("on_progress"))
        task.sig_failed.connect(live("on_failed"))
        task.sig_paused.connect(lambda: isValid(self) and self.task is task and self.sig_paused_changed.emit(True))
        task.sig_resumed.connect(lambda: isValid(self) and self.task is task and self.sig_paused_changed.emit(False))
        task.sig_finished.connect(finished)
        if not was_busy:
            self.sig_busy_changed.emit(True)
        return task

    def _say_failure(self, message: str, hint: str) -> None:
        if self.say is not None:
            self.say(f"{message} {hint}".strip())

    def _finished(self, task: Task, on_finished: Hook) -> None:
        if self.task is not task:
            return  # superseded: the newer run reports for the slot
        self.sig_busy_changed.emit(False)
        if on_finished is not None:
            on_finished(task)  # may start the next run (which then says busy again)

    def stop(self, graceful: bool = False) -> None:
        """Esc / Stop: cancel the running task (its items already delivered stay valid).

        With ``graceful``, ask it instead to end after its current step, saving its state, and
        return normally (``TaskHandle.request_stop``): for work that reads ``stop_requested()``,
        such as a fine-tuning run, which then writes a checkpoint. A paused task wakes up to stop.
        """
        if not self.busy:
            return
        if graceful:
            self.task.request_stop()
        else:
            self.task.cancel()

    def pause(self) -> None:
        if self.busy:
            self.task.pause()

    def resume(self) -> None:
        if self.busy:
            self.task.resume()

    def outcome(self) -> str:
        """The last run's outcome: pending, done, failed or cancelled ('' before any run)."""
        return self.task.outcome if self.task is not None else ""
