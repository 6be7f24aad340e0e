"""Errors that carry a plain-words message for the person using the app."""

from __future__ import annotations


class PlaygroundError(Exception):
    """An error a user can understand and act on.

    Parameters
    ----------
    message
        What went wrong, in plain words.
    hint
        What to do next (optional).
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class InputError(PlaygroundError):
    """The user's input cannot be used as it is (empty prompt, too long, bad file...)."""


class ModelLoadError(PlaygroundError):
    """A model could not be loaded; the model loaded before stays."""


class Cancelled(Exception):
    """Raised inside long work when the user pressed Stop."""


_FULL_DISK_WORDS = ("no space left", "unexpected pos", "file write failed", "disk quota", "errno 28")


def write_error(exc: BaseException, what: str, where, kept: str = "") -> PlaygroundError | None:
    """Plain words for a failed write (full disk, read-only, no permission), or None for other errors.

    ``what`` names what was being written ("the checkpoint of step 40"), ``where`` the path, and
    ``kept`` what is still safe (the last checkpoint), since every save here is atomic.
    """
    import errno

    code = getattr(exc, "errno", None)
    text = str(exc).lower()
    safe = f" {kept}" if kept else ""
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)) or any(w in text for w in _FULL_DISK_WORDS):
        return PlaygroundError(f"The disk is full: writing {what} to {where} failed.{safe}",
                               "Free some space on that disk (or choose an output folder on another one), "
                               "then continue with --resume or the Runs list.")
    if code in (errno.EROFS,) or "read-only file system" in text:
        return PlaygroundError(f"Cannot write {what}: {where} is on a read-only disk.{safe}",
                               "Choose an output folder you can write to.")
    if isinstance(exc, PermissionError) or code in (errno.EACCES, errno.EPERM):
        return PlaygroundError(f"Cannot write {what}: no permission to write in {where}.{safe}",
                               "Choose an output folder you can write to, or change the folder's permissions.")
    return None


class writing:
    """``with writing("the report", folder, kept):`` turns a failed write into ``write_error``'s words."""

    def __init__(self, what: str, where, kept: str = "") -> None:
        self.what, self.where, self.kept = what, where, kept

    def __enter__(self) -> "writing":
        return self

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, (OSError, RuntimeError)):
            err = write_error(exc, self.what, self.where, self.kept)
            if err is not None:
                raise err from None
        return False


def describe_exception(exc: BaseException) -> tuple[str, str]:
    """Turn any exception into (message, hint) in plain words.

    Known errors keep their own words; out-of-memory and the like get a hint; anything else
    keeps its type name so a bug report stays useful.
    """
    if isinstance(exc, PlaygroundError):
        return exc.message, exc.hint
    if isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryError":
        return (
            "The computer ran out of memory for this work.",
            "Close other programs, choose a smaller model, or lower the batch size or length.",
        )
    if isinstance(exc, Cancelled):
        return "Stopped.", ""
    text = str(exc).strip() or type(exc).__name__
    return f"Something went wrong: {text}", f"({type(exc).__name__})"
