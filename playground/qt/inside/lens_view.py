"""The logit lens table: layers × positions, the top next token and its probability."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHeaderView,
    QLabel,
    QSpinBox,
    QTableView,
    QWidget,
)

from playground.qt.inside.common import write_csv
from playground.qt.widgets.make import button, hbox, note_label, vbox

WINDOW_CHOICES = [16, 32, 64, 128]


def probability_colour(p: float) -> QColor:
    """White (unsure) to deep blue (sure), the same scale as the attention maps."""
    p = max(0.0, min(1.0, float(p)))
    light, dark = (247, 251, 255), (8, 48, 107)
    return QColor(*[round(a + (b - a) * p ** 0.7) for a, b in zip(light, dark)])


class LensModel(QAbstractTableModel):
    """Rows: the embeddings, then each layer. Columns: token positions."""

    def __init__(self) -> None:
        super().__init__()
        self.result = None

    def set_result(self, result) -> None:
        self.beginResetModel()
        self.result = result
        self.endResetModel()

    def rowCount(self, parent=None) -> int:
        return 0 if self.result is None or (parent is not None and parent.isValid()) else self.result.num_rows

    def columnCount(self, parent=None) -> int:
        return 0 if self.result is None or (parent is not None and parent.isValid()) else len(self.result.positions)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        r = self.result
        if r is None or not index.isValid():
            return None
        row, col = index.row(), index.column()
        token, prob = r.top_tokens[row][col][0], float(r.top_probs[row, col, 0])
        hit = r.next_labels[col] is not None and token == r.next_labels[col]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{token}\n{prob:.0%}"
        if role == Qt.ItemDataRole.BackgroundRole:
            return probability_colour(prob)
        if role == Qt.ItemDataRole.ForegroundRole:
            return QColor("#ffffff") if probability_colour(prob).lightness() < 150 else QColor("#000000")
        if role == Qt.ItemDataRole.FontRole and hit:
            font = QFont()
            font.setBold(True)
            font.setUnderline(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [f"{r.layer_labels[row]}, position {r.positions[col]} ('{r.input_labels[col]}')"]
            lines += [f"  {i + 1}. '{t}'  {float(p):.1%}" for i, (t, p) in
                      enumerate(zip(r.top_tokens[row][col], r.top_probs[row, col]))]
            if r.next_labels[col] is not None:
                lines.append(f"The text goes on with '{r.next_labels[col]}'" + (" (top guess ✓)" if hit else ""))
            return "\n".join(lines)
        return None

    def headerData(self, section: int, orientation, role: int = Qt.ItemDataRole.DisplayRole):
        r = self.result
        if r is None:
            return None
        if orientation == Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return f"{r.positions[section]}\n{r.input_labels[section]}"
            if role == Qt.ItemDataRole.ToolTipRole:
                nxt = r.next_labels[section]
                return (f"Position {r.positions[section]}: the model has read up to '{r.input_labels[section]}'"
                        + (f"; the text goes on with '{nxt}'" if nxt is not None else "; this is the end of the text"))
        elif role == Qt.ItemDataRole.DisplayRole:
            return r.layer_labels[section]
        return None


class LogitLensView(QWidget):
    """The table plus the window of positions to read."""

    sig_window_changed = Signal(int, int)
    """(first position, how many) the user asked the lens to read"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result = None
        self.model = LensModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setDefaultSectionSize(76)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(38)
        self.table.setToolTip("")
        self.start_spin = QSpinBox()
        self.start_spin.setToolTip("The first token position to read. Long texts are read a window at a time, "
                                   "because every cell runs the whole vocabulary through the LM head.")
        self.count_combo = QComboBox()
        for n in WINDOW_CHOICES:
            self.count_combo.addItem(f"{n} positions", n)
        self.count_combo.setCurrentIndex(1)
        self.read_button = button("Read these positions", "Run the lens on the chosen window of positions.",
                                  lambda: self.sig_window_changed.emit(self.start_spin.value(),
                                                                       self.count_combo.currentData()))
        self.status = note_label("Analyse a text to read its layers.")
        controls = hbox(QLabel("Positions from"), self.start_spin, self.count_combo, self.read_button, 1)
        vbox(controls, (self.table, 1), self.status, parent=self)

    def set_length(self, tokens: int) -> None:
        """Adapt the window controls to a text of ``tokens`` tokens (default: the last positions)."""
        self.start_spin.blockSignals(True)
        self.start_spin.setRange(0, max(0, tokens - 1))
        self.start_spin.setValue(max(0, tokens - self.count_combo.currentData()))
        self.start_spin.blockSignals(False)

    def window(self) -> tuple[int, int]:
        return self.start_spin.value(), self.count_combo.currentData()

    @property
    def has_data(self) -> bool:
        return self.result is not None

    def show_result(self, result) -> None:
        self.result = result
        self.model.set_result(result)
        hits = sum(1 for c, nxt in enumerate(result.next_labels) if nxt is not None
                   and result.top_tokens[-1][c][0] == nxt)
        scored = sum(1 for nxt in result.next_labels if nxt is not None)
        self.status.setText(
            f"Positions {result.positions[0]}–{result.positions[-1]}. At the last layer the top guess is the "
            f"token that really follows in {hits} of {scored} positions (bold, underlined cells).")
        # The last layer of the last position (the model's real next-token guess) in full view,
        # not cut at the right edge; after the table has laid out its new columns.
        QTimer.singleShot(0, self.show_last_cell)

    def show_last_cell(self) -> None:
        rows, cols = self.model.rowCount(), self.model.columnCount()
        if rows and cols:
            self.table.scrollTo(self.model.index(rows - 1, cols - 1))

    def clear(self, message: str = "") -> None:
        self.result = None
        self.model.set_result(None)
        self.status.setText(message or "Analyse a text to read its layers.")

    # export ----------------------------------------------------------------------------------
    def export_png(self, path: str) -> None:
        if not self.grab().save(path, "PNG"):
            raise OSError(f"could not write {path}")

    def export_csv(self, path: str) -> None:
        r = self.result
        k = r.top_ids.shape[-1]
        rows: list[list] = [["layer", "position", "input_token", "next_token"]
                            + [f"{kind}{i + 1}" for i in range(k) for kind in ("token", "prob")]]
        for row in range(r.num_rows):
            for col, pos in enumerate(r.positions):
                cells = []
                for i in range(k):
                    cells += [r.top_tokens[row][col][i], f"{float(r.top_probs[row, col, i]):.6g}"]
                rows.append([r.layer_labels[row], pos, r.input_labels[col], r.next_labels[col] or ""] + cells)
        write_csv(path, rows)

