"""Every run of the prompt lab: search, reopen, compare, delete, export."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.core.prompting.history import History, runs_to_html, runs_to_markdown
from playground.core.base.paths import atomic_write_text
from playground.core.base.units import format_score

COLUMNS = ["When", "Label", "Model", "Template", "Shots", "ROUGE-1 (0–100)", "Tokens", "Output"]


class HistoryView(QWidget):
    sig_reopen = Signal(object)
    """the Run to load back into the editor"""

    def __init__(self, history: History, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.runs = []
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search prompts, outputs, models, templates…")
        self.search.textChanged.connect(self.refresh)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        # Short columns as wide as their content, the output (the last) takes the rest of the width.
        header = self.table.horizontalHeader()
        for c in range(len(COLUMNS) - 1):
            header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _: self.reopen())
        self.problem = QLabel(history.problem)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.setVisible(bool(history.problem))
        buttons = QHBoxLayout()
        exports = QHBoxLayout()  # a second row: the view stays narrow enough to sit beside the Labs dock
        for text, slot, tip in (
                ("Reopen", self.reopen, "Load the selected run's prompt back into the Run view."),
                ("Delete", self.delete_selected, "Delete the selected runs from the history."),
                ("Export Markdown…", lambda: self.export_dialog("md"), "Save the selected runs (or all) as Markdown."),
                ("Export HTML…", lambda: self.export_dialog("html"), "Save the selected runs (or all) side by side as HTML.")):
            b = QPushButton(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            (exports if text.startswith("Export") else buttons).addWidget(b)
        buttons.addStretch(1)
        exports.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.problem)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addLayout(exports)
        self.refresh()

    def refresh(self) -> None:
        self.runs = self.history.search(self.search.text())
        self.table.setRowCount(len(self.runs))
        for row, r in enumerate(self.runs):
            values = [time.strftime("%m-%d %H:%M", time.localtime(r.created)), r.label, r.model, r.template,
                      str(r.shots), format_score(r.scores.get("rouge1"), "rouge1"),
                      str(r.prompt_tokens), r.output.replace("\n", " ")[:200]]
            for col, v in enumerate(values):
                self.table.setItem(row, col, QTableWidgetItem(v))

    def selected_runs(self):
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        return [self.runs[r] for r in rows if r < len(self.runs)]

    def reopen(self) -> None:
        runs = self.selected_runs()
        if runs:
            self.sig_reopen.emit(runs[0])

    def delete_selected(self) -> None:
        runs = self.selected_runs()
        if runs:
            self.history.delete([r.id for r in runs])
            self.refresh()

    def export(self, path: str, fmt: str) -> int:
        runs = self.selected_runs() or self.runs
        text = runs_to_markdown(runs) if fmt == "md" else runs_to_html(runs)
        atomic_write_text(path, text)
        return len(runs)

    def export_dialog(self, fmt: str) -> None:
        filt = "Markdown (*.md)" if fmt == "md" else "HTML (*.html)"
        path, _ = QFileDialog.getSaveFileName(self, "Export runs", f"prompt-runs.{fmt}", filt)
        if path:
            self.export(path, fmt)
