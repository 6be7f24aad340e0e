"""Which lab steps a learner has done, kept across restarts (one JSON file, written atomically)."""

from __future__ import annotations

import json
from pathlib import Path

VERSION = 1


class LabProgress:
    """Done steps and the step on show, per lab. A step once done stays done until the lab is reset."""

    def __init__(self, path: str | Path | None = None) -> None:
        if path is None:
            from playground.core.base.paths import user_dirs

            path = user_dirs().data / "labs-progress.json"
        self.path = Path(path)
        self.problem = ""
        self._data: dict[str, dict] = {}
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if isinstance(raw, dict) and raw.get("version") == VERSION and isinstance(raw.get("labs"), dict):
                self._data = {k: v for k, v in raw["labs"].items() if isinstance(v, dict)}
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            self.problem = f"Lab progress in {self.path} could not be read ({exc}); it starts afresh."

    def _lab(self, lab_id: str) -> dict:
        return self._data.setdefault(lab_id, {"done": [], "current": 0})

    def done(self, lab_id: str) -> set[str]:
        return set(self._data.get(lab_id, {}).get("done", []))

    def mark_done(self, lab_id: str, step_id: str) -> bool:
        """Record a step as done; True when it was not done before (and the file was written)."""
        lab = self._lab(lab_id)
        if step_id in lab["done"]:
            return False
        lab["done"].append(step_id)
        self.save()
        return True

    def current(self, lab_id: str) -> int:
        value = self._data.get(lab_id, {}).get("current", 0)
        return value if isinstance(value, int) and value >= 0 else 0

    def set_current(self, lab_id: str, index: int) -> None:
        lab = self._lab(lab_id)
        if lab.get("current") != index:
            lab["current"] = int(index)
            self.save()

    def reset(self, lab_id: str) -> None:
        self._data[lab_id] = {"done": [], "current": 0}
        self.save()

    def save(self) -> None:
        from playground.core.base.paths import atomic_write_text

        atomic_write_text(self.path, json.dumps({"version": VERSION, "labs": self._data}, indent=1))
