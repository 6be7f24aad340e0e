"""Versioned app settings stored as JSON under the user config dir, written atomically."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playground.core.paths import atomic_write_text, user_dirs

SETTINGS_VERSION = 1


class Settings:
    """A small key/value store. Unknown or corrupt files are kept aside, never crash the app."""

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
            if not isinstance(raw, dict) or raw.get("version", 0) > SETTINGS_VERSION:
                raise ValueError("unknown settings format")
            self._values = dict(raw.get("values", {}))
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
        atomic_write_text(self.path, json.dumps(payload, indent=2, sort_keys=True))
