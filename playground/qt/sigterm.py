"""SIGTERM (a logout, a service stop, ``kill``) handled like Ctrl+C in the CLI: training stops gracefully.

A Python signal handler cannot run while Qt's event loop sits in C, so the signal is moved into the
loop: ``signal.set_wakeup_fd`` writes its number to one end of a socket pair and a ``QSocketNotifier``
on the other end wakes the loop. Then every running task is asked for a graceful stop
(``Task.request_stop``: a training run ends its step and writes a checkpoint, as the Train page's
Stop does), the app waits for them (at most ``grace`` seconds), and the window is closed, which saves
the settings. A second SIGTERM closes at once.
"""

from __future__ import annotations

import signal
import socket
import sys
import time

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

#: After SIGTERM, how long running work may take to end its step and write its checkpoint.
TERM_GRACE_SECONDS = 60.0


class SigtermStop(QObject):
    """Installs the SIGTERM handling for the app's window and task runner (main thread only)."""

    sig_said = Signal(str)
    """a sentence about the shutdown, also printed on standard error"""

    def __init__(self, window, runner, grace: float = TERM_GRACE_SECONDS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window, self.runner, self.grace = window, runner, grace
        self.deadline: float | None = None  # set once a SIGTERM came
        self._waiting_for: list[str] = []
        self._read, self._write = socket.socketpair()
        for end in (self._read, self._write):
            end.setblocking(False)
        self._old_wakeup = signal.set_wakeup_fd(self._write.fileno(), warn_on_full_buffer=False)
        # A Python handler is needed, or the default action ends the process before the loop wakes.
        self._old_handler = signal.signal(signal.SIGTERM, lambda signum, frame: None)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_wakeup)
        self._timer = QTimer(self)
        self._timer.setInterval(100)
        self._timer.timeout.connect(self._check)

    def uninstall(self) -> None:
        """Put the previous handler and wake-up descriptor back (after the event loop ended)."""
        self._notifier.setEnabled(False)
        self._timer.stop()
        signal.set_wakeup_fd(self._old_wakeup)
        signal.signal(signal.SIGTERM, self._old_handler)
        self._read.close()
        self._write.close()

    def _on_wakeup(self) -> None:
        try:
            data = self._read.recv(512)
        except (BlockingIOError, InterruptedError):
            return
        if int(signal.SIGTERM) in data:
            self.on_sigterm()

    def on_sigterm(self) -> None:
        """Ask the running work to stop gracefully, then close once it has (or the grace ran out)."""
        if self.deadline is not None:
            self._say("A second SIGTERM: closing now.")
            self._close()
            return
        active = self.runner.active
        self._waiting_for = [t.name for t in active]
        self.deadline = time.monotonic() + self.grace
        if active:
            self._say(f"SIGTERM received: stopping {', '.join(self._waiting_for)} after the current step (a "
                      f"training run writes a checkpoint first); the app closes when it has stopped (at most "
                      f"{self.grace:.0f} s).")
        for task in active:
            task.request_stop()
        self._timer.start()
        self._check()

    def _check(self) -> None:
        active = self.runner.active
        if active and time.monotonic() < self.deadline:
            return
        self._timer.stop()
        if active:
            self._say(f"SIGTERM: {', '.join(t.name for t in active)} did not stop within {self.grace:.0f} s; "
                      "closing anyway (the last checkpoint on disk stays).")
        elif self._waiting_for:
            self._say(f"SIGTERM: {', '.join(self._waiting_for)} stopped (a training run wrote its checkpoint); "
                      "saving the settings and closing.")
        else:
            self._say("SIGTERM received: saving the settings and closing.")
        self._close()

    def _close(self) -> None:
        from PySide6.QtWidgets import QApplication

        self.window.close()  # saves the window's state and the settings (MainWindow.closeEvent)
        QApplication.quit()  # also when a dialog is still open

    def _say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)
        status = getattr(self.window, "statusBar", None)
        if status is not None:
            status().showMessage(text)
        self.sig_said.emit(text)
