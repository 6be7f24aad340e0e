"""A run that was training when the app last ended (closed, crashed, killed): the marker kept in
the settings while a run goes, and the banner that offers to resume it at the next start."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton

from playground.core.base.settings_schema import FinetuneSection
from playground.qt.finetune.page import WizardPage



class ActiveRun:
    """The run folder being trained, remembered in the app's settings until it ends."""

    def __init__(self, settings) -> None:
        self.settings = settings

    def mark(self, run_dir: str) -> None:
        self.settings.update(FinetuneSection, active_run=run_dir)
        self._save()

    def forget(self) -> None:
        if self.marked() is not None:
            self.settings.update(FinetuneSection, active_run=None)
            self._save()

    def interrupted(self, running: str = "") -> str:
        """The marked run if it did not finish (and is not the one ``running`` now), else ''."""
        from playground.core.finetune.layout import RunFolder

        path = self.marked()
        if not path or not isinstance(path, str) or path == running:
            return ""
        return path if RunFolder(path).status() in ("resumable", "started") else ""

    def marked(self) -> str | None:
        """The run folder marked as training (the ``finetune`` section's ``active_run``)."""
        return self.settings.section(FinetuneSection).active_run

    def _save(self) -> None:
        try:
            self.settings.save()
        except OSError:
            pass  # the marker only helps resume after a crash; training goes on without it


class InterruptedBanner(QFrame):
    """'A fine-tuning run was interrupted … Resume it?' with Resume and Dismiss."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = WizardPage.note("")
        self.resume_button = QPushButton("Resume it")
        self.dismiss_button = QPushButton("Dismiss")
        row = QHBoxLayout(self)
        row.addWidget(self.label, 1)
        row.addWidget(self.resume_button)
        row.addWidget(self.dismiss_button)
        self.setVisible(False)
        self.dismiss_button.clicked.connect(lambda: self.setVisible(False))

    def offer(self, path: str) -> None:
        from playground.core.finetune.layout import RunFolder

        step = RunFolder(path).last_step()
        at = f"its checkpoint at step {step}" if step else "the start (no checkpoint was written yet)"
        self.label.setText(f"<b>A fine-tuning run was interrupted</b> when the app last closed: "
                           f"{html.escape(Path(path).name)}. Resume it from {at}?")
        self.setVisible(True)
