"""Versioned app settings stored as JSON under the user config dir, written atomically."""

from __future__ import annotations

import json
import dataclasses
from pathlib import Path
from typing import Any, TypeVar

from playground.core.base.paths import atomic_write_text, user_dirs
from playground.core.base.settings_schema import (
    SETTINGS_VERSION,
    build,
    check_section,
    check_values,
    migrate,
    section_default,
    section_key,
)

T = TypeVar("T")


class Settings:
    """The app's settings: typed sections checked against the schema in settings_schema.

    ``section(GenerationSettings)`` reads a section as its dataclass (defaults where the file
    says nothing); ``put(value)`` stores one. ``get`` / ``set`` by key remain for core code and
    tests; the GUI reads and writes sections only (``playground.qt.binding.persist``).

    Unreadable files (not JSON, not an object, from a newer app) are kept aside; a value of the
    wrong type falls back to its default and is reported once in ``load_problem``, and is not
    written back. Neither ever stops the app.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path else user_dirs().config / "settings.json"
        self._values: dict[str, Any] = {}
        self.load_problem = ""
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("unknown settings format")
            raw = migrate(raw)
            if not isinstance(raw.get("values", {}), dict):
                raise ValueError("unknown settings format")
            self._values, problems = check_values(dict(raw.get("values", {})))
            if problems:
                self.load_problem = ("Some settings were not valid and their defaults are used: "
                                     + "; ".join(problems) + ".")
            return
        except (OSError, ValueError) as exc:
            aside = self.path.with_suffix(".json.broken")
            try:
                self.path.replace(aside)
            except OSError:
                pass
            self.load_problem = f"Settings could not be read ({exc}); kept aside as {aside.name}."

    def section(self, kind: type[T], key: str | None = None) -> T:
        """The section stored under ``key`` (found from ``kind`` when not given) as a ``kind``."""
        key = key or section_key(kind)
        default = section_default(key)
        if not isinstance(default, kind):
            raise TypeError(f"the settings key {key!r} holds a {type(default).__name__}, not a {kind.__name__}")
        return build(default, self._values.get(key))

    def put(self, value: Any, key: str | None = None) -> None:
        """Store a section (a dataclass value) under its key."""
        key = key or section_key(type(value))
        # A field the person left unusable (text where a number goes: nan) is not written: the next
        # start reads its default instead of reporting a broken settings file.
        self._values[key], _dropped = check_section(key, dataclasses.asdict(value))

    def update(self, kind: type, **changes: Any) -> None:
        """Change some fields of a section: ``update(WindowSection, zoom=1.25)``."""
        self.put(dataclasses.replace(self.section(kind), **changes))

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value

    def save(self) -> None:
        payload = {"version": SETTINGS_VERSION, "values": self._values}
        # Private to the user, as it always was (recent folders and the last model's path are theirs).
        atomic_write_text(self.path, json.dumps(payload, indent=2, sort_keys=True), private=True)
