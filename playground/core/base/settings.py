"""Versioned app settings stored as JSON under the user config dir, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playground.core.base.paths import atomic_write_text, user_dirs
from playground.core.base.settings_schema import SETTINGS_VERSION, check_values, migrate


class Settings:
    """A small key/value store checked against the schema in settings_schema.

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

    def get(self, key: str, default: Any = None) -> Any:
        return self._values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value

    def save(self) -> None:
        payload = {"version": SETTINGS_VERSION, "values": self._values}
        # Private to the user, as it always was (recent folders and the last model's path are theirs).
        atomic_write_text(self.path, json.dumps(payload, indent=2, sort_keys=True), private=True)
