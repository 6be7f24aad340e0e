"""Where the app keeps its settings, data and caches.

Everything lives under platformdirs' user dirs. ``PLAYGROUND_HOME`` moves all of them under one
folder (the tests use it so they never touch the real user dirs).
"""

from __future__ import annotations

import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

APP_DIR_NAME = "llm-playground"


@dataclass(frozen=True)
class UserDirs:
    config: Path
    data: Path
    cache: Path

    @property
    def models_cache(self) -> Path:
        return self.cache / "models"


def user_dirs() -> UserDirs:
    """The app's user folders (created on demand by the callers that write)."""
    home = os.environ.get("PLAYGROUND_HOME")
    if home:
        base = Path(home)
        return UserDirs(base / "config", base / "data", base / "cache")
    import platformdirs

    return UserDirs(
        Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)),
        Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False)),
        Path(platformdirs.user_cache_dir(APP_DIR_NAME, appauthor=False)),
    )


def resources_dir() -> Path:
    """The shipped ``resources/`` folder (datasets, prompt templates, icons).

    In a checkout it sits beside the ``playground`` package; a frozen app (PyInstaller) carries it
    at the bundle's root, ``sys._MEIPASS``.
    """
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[3] / "resources"


def writable_user_dirs() -> tuple[UserDirs, str]:
    """The user dirs, or a fallback under the temp folder when they cannot be written.

    Returns the dirs to use and, on fallback, a plain message saying where things go instead.
    """
    dirs = user_dirs()
    bad = []
    for folder in (dirs.config, dirs.data, dirs.cache):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / ".write-test"
            probe.write_bytes(b"ok")
            probe.unlink()
        except OSError:
            bad.append(str(folder))
    if not bad:
        return dirs, ""
    base = Path(tempfile.gettempdir()) / f"{APP_DIR_NAME}-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    os.environ["PLAYGROUND_HOME"] = str(base)
    fallback = user_dirs()
    for folder in (fallback.config, fallback.data, fallback.cache):
        folder.mkdir(parents=True, exist_ok=True)
    return fallback, (f"The app cannot write to {', '.join(bad)}. Settings, history and the model cache go to "
                      f"{base} for this session instead (it may be cleared when the computer restarts).")


def _umask() -> int:
    """The process's umask, read without changing it (os.umask would, for a moment, in every thread)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022


def atomic_write_bytes(path: Path, data: bytes, private: bool = False) -> None:
    """Write a file so that a crash leaves either the old file or the new one, never half.

    The file gets the permissions any new file gets (0644 under the usual umask), so a handout or an
    export can be shared; ``private`` keeps it to its owner (0600), as the temporary file starts.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    if not private and hasattr(os, "fchmod"):
        os.fchmod(fd, 0o666 & ~_umask())
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def atomic_write_text(path: Path, text: str, private: bool = False) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), private)
