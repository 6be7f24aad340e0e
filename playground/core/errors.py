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
