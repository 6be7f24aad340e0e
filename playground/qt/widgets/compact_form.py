"""A compact settings form: label and field in two columns, each field as wide as its value.

A stock ``QFormLayout`` stretches every field to the window's width, so a spin box holding "4" grew
1,100-1,300 px wide on a laptop screen (issue 28). ``compact_form_layout`` keeps a form's fields at
their size hint; ``compact_rows`` puts the rows (label and widget from each field's metadata, as
``binding.form_row`` makes them) in side-by-side columns.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFormLayout, QGridLayout, QSizePolicy, QWidget

from playground.qt.binding import Draft, form_row

#: the widest a field of a compact form may grow (a combo box of long choices stays readable)
FIELD_MAX_WIDTH = 200


def compact_form_layout() -> QFormLayout:
    """A form whose fields keep their size hint (labels right of nothing, left-aligned)."""
    form = QFormLayout()
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    return form


def cap_width(widget: QWidget, most: int = FIELD_MAX_WIDTH) -> QWidget:
    """Keep ``widget`` as wide as its value: its size hint, at least 70 px, at most ``most``."""
    widget.setMaximumWidth(max(70, min(most, widget.sizeHint().width() + 8)))
    return widget


class ColumnForm(QWidget):
    """Label / field pairs in ``max_columns`` side-by-side columns, filled top to bottom, then the next
    column; a stretch after the last column takes the rest of the width."""

    def __init__(self, max_columns: int = 2) -> None:
        super().__init__()
        self.max_columns = max(1, max_columns)
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(10)
        self.grid.setVerticalSpacing(6)
        self.pairs: list[tuple[QWidget, QWidget]] = []
        self.columns = 0
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def add_pair(self, label: QWidget, field: QWidget) -> None:
        self.pairs.append((label, field))
        self.columns = 0
        self._arrange(min(self.max_columns, len(self.pairs)))

    def _arrange(self, columns: int) -> bool:
        """Place the pairs in ``columns`` columns; False when they already are."""
        if columns == self.columns:
            return False
        while self.grid.count():
            self.grid.takeAt(0)
        for c in range(self.grid.columnCount()):
            self.grid.setColumnStretch(c, 0)
        per_column = -(-len(self.pairs) // columns)
        for i, (label, field) in enumerate(self.pairs):
            column, row = divmod(i, per_column)
            self.grid.addWidget(label, row, 3 * column)
            self.grid.addWidget(field, row, 3 * column + 1, Qt.AlignmentFlag.AlignLeft)
            if column:  # the gap before this column
                self.grid.setColumnMinimumWidth(3 * column - 1, 24)
        self.grid.setColumnStretch(3 * columns, 1)
        self.columns = columns
        return True


def compact_rows(draft: Draft, *paths: str, columns: int = 2) -> tuple[ColumnForm, dict[str, QWidget]]:
    """Bound rows for ``paths`` (label and widget from each field's metadata, as ``add_rows`` makes
    them) in a ``ColumnForm`` of up to ``columns`` columns; returns the form and the widgets by path."""
    form = ColumnForm(columns)
    widgets: dict[str, QWidget] = {}
    for path in paths:
        label, widget = form_row(draft, path)
        widget.setMaximumWidth(FIELD_MAX_WIDTH)  # placed left-aligned: as wide as its value, a long choice capped
        form.add_pair(label, widget)
        widgets[path] = widget
    return form, widgets
