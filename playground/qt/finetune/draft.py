"""The wizard's job as one typed draft: a FinetuneConfig being edited, and what the pages share.

Every page binds its widgets to the draft's fields (``playground.qt.binding``) and listens to it;
no page reads another page. Besides the config the draft holds the data preview (the Data step's
reading of the examples), whether a run is going, and the last measured memory peak; each change
is announced on ``sig_changed`` with its key ("preview", "busy", "measured", or a config path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject

from playground.core.finetune.config import FinetuneConfig
from playground.core.finetune.runs import checked_config, config_from_saved, wizard_defaults
from playground.qt.binding import Draft, touches

PREVIEW, BUSY, MEASURED = "preview", "busy", "measured"


class JobDraft(Draft):
    """The job the wizard shows (may hold values ``validate`` refuses), plus the shared state."""

    def __init__(self, config: FinetuneConfig | None = None, parent: QObject | None = None) -> None:
        super().__init__(config if config is not None else wizard_defaults(), parent)
        self._shared: dict[str, Any] = {PREVIEW: None, BUSY: False, MEASURED: None}

    @property
    def config(self) -> FinetuneConfig:
        return self.value

    # --- shared state -----------------------------------------------------------------------------

    def _share(self, key: str, value: Any) -> None:
        if self._shared[key] is value:
            return
        self._shared[key] = value
        self.sig_changed.emit(key)

    @property
    def preview(self):
        """The DataPreview of the current data settings, or None while they are read (or wrong)."""
        return self._shared[PREVIEW]

    @preview.setter
    def preview(self, value) -> None:
        self._share(PREVIEW, value)

    @property
    def busy(self) -> bool:
        """A training run is going (settings that would change it are locked)."""
        return self._shared[BUSY]

    @busy.setter
    def busy(self, value: bool) -> None:
        self._share(BUSY, bool(value))

    @property
    def measured(self) -> tuple[str, int, str] | None:
        """(method, bytes, what was measured) of the last run's memory peak."""
        return self._shared[MEASURED]

    @measured.setter
    def measured(self, value: tuple[str, int, str] | None) -> None:
        self._share(MEASURED, value)

    # --- the job ----------------------------------------------------------------------------------

    def validate(self) -> FinetuneConfig:
        """A checked copy of the job, ready to run (InputError names the setting that is wrong)."""
        return checked_config(self.value)

    def to_dict(self) -> dict:
        """The job as a dict laid out like its TOML file (a copy)."""
        return self.value.to_dict()

    def load(self, job: dict | None) -> None:
        """Show a saved draft, a job file's tables or a past run's job (unknown keys are ignored)."""
        self.replace(config_from_saved(job))

    def on(self, keys: tuple[str, ...], fn: Callable[[str], Any]) -> None:
        """Call ``fn(key)`` when any of ``keys`` (config paths, or shared-state keys) changes."""
        def changed(key: str) -> None:
            if any(touches(key, k) for k in keys):
                fn(key)
        self.sig_changed.connect(changed)
