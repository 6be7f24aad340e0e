"""The Evaluate tab's dataset: the bundled splits or a file of your own, and its columns."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QGroupBox, QHBoxLayout

from playground.core.base.errors import InputError
from playground.qt.widgets.make import ask_table_file, button, form, group, note_label

USER_FILE = "user"


class DataMixin:
    """The dataset box of EvaluatePanel and what it does; expects ``draft`` (the panel's
    ``EvaluateSettings``) and ``message_label``."""

    def _build_data_box(self) -> QGroupBox:
        from playground.qt.binding import form_row

        data_label, self.data_combo = form_row(self.draft, "data")  # the bundled splits, from the field
        self.data_combo.addItem("Your own file…", USER_FILE)
        self.data_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.data_combo.setMinimumContentsLength(10)
        self.open_button = button("Open…", on_click=self.choose_data_file)
        self.input_column = QComboBox()
        self.input_column.setToolTip("The column the model reads (the text to summarize).")
        self.reference_column = QComboBox()
        self.reference_column.setToolTip("The column holding the reference (the summary a person wrote).")
        self.data_label = note_label()
        count_label, self.count_spin = form_row(self.draft, "count")
        self.count_spin.setMaximumWidth(110)  # as wide as its number, not the column
        row = QHBoxLayout()
        row.addWidget(self.data_combo, 1)
        row.addWidget(self.open_button)
        return group("Dataset", form(
            (data_label, row), ("Input column", self.input_column), ("Reference column", self.reference_column),
            (count_label, self.count_spin), self.data_label))

    def _data_changed(self) -> None:
        user = self.draft.value.data == USER_FILE
        for w in (self.open_button, self.input_column, self.reference_column):
            w.setEnabled(user)
        if user:
            if self.user_data is None:
                self.data_label.setText("Choose a CSV, JSONL or Parquet file, then its columns.")
            return
        self.input_column.clear()
        self.reference_column.clear()
        try:
            from playground.core.evaluation.datasets import load_split

            n = len(load_split(self.draft.value.data))
            self.data_label.setText(f"<small>{n} dialogues with reference summaries.</small>")
            self.count_spin.setMaximum(n)
        except InputError as exc:
            self.data_label.setText(str(exc))

    def choose_data_file(self) -> None:
        path = ask_table_file(self, "Choose a dataset")
        if path:
            self.open_data_file(path)

    def open_data_file(self, path: str) -> bool:
        """Use a file of your own: read its columns and guess which is the input and the reference."""
        from playground.core.evaluation.datasets import guess_columns, read_records

        self.draft.set("data", USER_FILE)
        self.message_label.setText("")
        try:
            columns, rows = read_records(path)
            if not rows:
                raise InputError(f"{path.rsplit('/', 1)[-1]} has no rows.", "Choose a file with at least one example.")
        except InputError as exc:
            self.user_data = None
            self.message_label.setText(str(exc))
            return False
        self.user_data = path
        for combo in (self.input_column, self.reference_column):
            combo.clear()
            combo.addItems(columns)
        guess_in, guess_ref = guess_columns(columns)
        if guess_in:
            self.input_column.setCurrentText(guess_in)
        if guess_ref:
            self.reference_column.setCurrentText(guess_ref)
        self.count_spin.setMaximum(max(1, len(rows)))
        self.data_label.setText(f"<small>{path}: {len(rows)} rows.</small>")
        return True

    def dataset(self):
        from playground.core.evaluation.datasets import load_split, load_table

        data = self.draft.value.data
        if data == USER_FILE:
            if not self.user_data:
                raise InputError("No file is chosen yet.", "Click Open… and choose a CSV, JSONL or Parquet file.")
            return load_table(self.user_data, self.input_column.currentText() or None,
                              self.reference_column.currentText() or None)
        return load_split(data)

