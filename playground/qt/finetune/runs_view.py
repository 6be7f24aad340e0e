"""The runs the wizard has made, with their status; a stopped or interrupted run can be resumed,
a finished one shown again."""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.core.finetune.methods import METHOD_FACTS
from playground.core.finetune.runs import RunSummary, list_runs

STATUS_TEXT = {"finished": "finished", "resumable": "stopped — can resume", "started": "stopped before step 1",
               "failed": "failed — can resume", "running": "training…"}


class RunsView(QWidget):
    """A table of run folders, newest first."""

    sig_resume = Signal(str)
    """run folder to continue from its newest checkpoint"""
    sig_show = Signal(str)
    """finished run folder whose result to show"""
    sig_load_job = Signal(str)
    """run folder whose job settings to load into the wizard"""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.runs: list[RunSummary] = []
        self.running = ""
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Run", "Method", "Status", "Step"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in (1, 2, 3):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(110)
        self.table.setToolTip("Every run keeps its folder: the job, checkpoints while it trains, then the "
                              "adapter (or model) and the report.")
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue the selected run from its newest checkpoint, with its optimizer "
                                      "state: the next steps are the ones it would have taken.")
        self.show_button = QPushButton("Show result")
        self.show_button.setToolTip("Open the selected finished run on the Result step.")
        self.job_button = QPushButton("Use its settings")
        self.job_button.setToolTip("Load the selected run's settings into the wizard, to train a variant.")
        self.resume_button.clicked.connect(lambda: self._emit(self.sig_resume))
        self.show_button.clicked.connect(lambda: self._emit(self.sig_show))
        self.job_button.clicked.connect(lambda: self._emit(self.sig_load_job))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        buttons = QHBoxLayout()
        for b in (self.resume_button, self.show_button, self.job_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self._selection_changed()

    def refresh(self, running: str = "", method: str = "") -> None:
        """The run folders, newest first; ``running`` (training now, with ``method``) is listed even
        before its folder holds anything."""
        self.running = running
        selected = self.selected()
        self.runs = list_runs()
        if running and not any(str(r.path) == running for r in self.runs):
            self.runs.insert(0, RunSummary(Path(running), "running", method, 0, time.time()))
        self.table.setRowCount(len(self.runs))
        for i, run in enumerate(self.runs):
            status = "running" if str(run.path) == running else run.status
            facts = METHOD_FACTS.get(run.method)
            cells = [run.path.name, facts.label if facts else run.method, STATUS_TEXT.get(status, status),
                     str(run.step)]
            for j, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(f"{run.path}\nstarted {time.strftime('%Y-%m-%d %H:%M', time.localtime(run.started))}"
                                + (f"\n{run.message}" if run.message else ""))
                self.table.setItem(i, j, item)
            if selected is not None and run.path == selected.path:
                self.table.selectRow(i)
        self._selection_changed()

    def show_running_step(self, step: int) -> None:
        """The running run's row follows its steps."""
        for i, run in enumerate(self.runs):
            if self.running and str(run.path) == self.running and self.table.item(i, 3) is not None:
                self.table.item(i, 3).setText(str(step))

    def selected(self) -> RunSummary | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.runs):
            return None
        return self.runs[rows[0].row()]

    def select_path(self, path: str) -> None:
        for i, run in enumerate(self.runs):
            if str(run.path) == str(path):
                self.table.selectRow(i)

    def _selection_changed(self) -> None:
        run = self.selected()
        busy = bool(self.running)
        self.resume_button.setEnabled(run is not None and run.status in ("resumable", "started", "failed")
                                       and not busy)
        self.show_button.setEnabled(run is not None and run.status == "finished")
        self.job_button.setEnabled(run is not None)

    def _emit(self, signal) -> None:
        run = self.selected()
        if run is not None:
            signal.emit(str(run.path))
