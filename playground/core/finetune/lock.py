"""One run per folder: an OS lock held for the whole life of a run.

The lock is a small file beside the run folder (``.NAME.lock``, so replacing the folder with
--overwrite never removes it), locked with ``fcntl.flock`` (``msvcrt.locking`` on Windows). The
operating system drops such a lock when its process ends, however it ends (``kill -9`` included),
so a lock never outlives the run that took it. Where neither is available, a file created
exclusively with the owner's process id stands in, and one whose process is gone is taken over.
"""

from __future__ import annotations

import os
from pathlib import Path

from playground.core.base.errors import InputError

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
try:
    import msvcrt
except ImportError:
    msvcrt = None


def lock_path(run_dir: str | Path) -> Path:
    run_dir = Path(run_dir).absolute()
    return run_dir.parent / f".{run_dir.name}.lock"


class RunLock:
    """The lock of one run folder; ``acquire`` refuses at once when another run holds it."""

    def __init__(self, run_dir: str | Path) -> None:
        self.run_dir = Path(run_dir)
        self.path = lock_path(run_dir)
        self._fd: int | None = None
        self._pid_file = False

    @property
    def held(self) -> bool:
        return self._fd is not None or self._pid_file

    def acquire(self) -> "RunLock":
        if self.held:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if fcntl is None and msvcrt is None:
            return self._acquire_pid_file()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            else:
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            os.close(fd)
            raise self._busy() from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return self

    def _acquire_pid_file(self) -> "RunLock":
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            except FileExistsError:
                if _alive(self.owner()):
                    raise self._busy() from None
                self.path.unlink(missing_ok=True)  # its process is gone: the lock is stale
                continue
            os.write(fd, str(os.getpid()).encode())
            os.close(fd)
            self._pid_file = True
            return self
        raise self._busy()

    def owner(self) -> int | None:
        """The process id written by the holder (None when unknown)."""
        try:
            return int(self.path.read_text(encoding="ascii").strip() or "x")
        except (OSError, ValueError):
            return None

    def _busy(self) -> InputError:
        pid = self.owner()
        who = f" (process {pid})" if pid else ""
        return InputError(
            f"The run folder {self.run_dir} is in use by another run that is still going{who}.",
            "Wait for it to finish or stop it first; to start another run, choose another output folder. "
            "A folder in use is never replaced, even with --overwrite.")

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                elif msvcrt is not None:
                    msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            finally:
                os.close(fd)
        elif self._pid_file:
            self._pid_file = False
            self.path.unlink(missing_ok=True)

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


def is_locked(run_dir: str | Path) -> bool:
    """Whether a run holds the folder's lock now (tries to take it and lets go)."""
    if not lock_path(run_dir).exists():
        return False
    try:
        RunLock(run_dir).acquire().release()
    except InputError:
        return True
    return False


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
