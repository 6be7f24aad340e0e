"""Both kinds side by side: one sentence through the decoder (SmolLM2, causal) and the encoder
(MiniLM, bidirectional), per layer and head, with their tokenizers' pieces as the axis labels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QSlider,
    QWidget,
)

from playground.qt.inside.common import (
    ATTENTION_CMAP,
    make_canvas,
    matrix_rows,
    short,
    write_csv,
)
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, hbox, note_label, vbox

SENTENCE = "The animal didn't cross the street because it was too tired."
MAX_LABELS = 40


class BothKindsView(QWidget):
    """Type a sentence; see a decoder's and an encoder's attention on it next to each other."""

    def __init__(self, context, parent=None) -> None:
        super().__init__(parent)
        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.sides = []
        self.has_data = False
        self.edit = QLineEdit(SENTENCE)
        self.edit.setToolTip("One sentence, read by both models (Enter compares).")
        self.edit.returnPressed.connect(self.compare)
        self.button = button("Compare both kinds", "Run the decoder (SmolLM2, or the loaded decoder) and the "
                             "encoder (MiniLM, or the loaded encoder) once each on the sentence, attention "
                             "switched on.", self.compare)
        self.depth = QSlider(Qt.Orientation.Horizontal)
        self.depth.setRange(0, 100)
        self.depth.setValue(100)
        self.depth.setToolTip("How deep in each model: 0% is its first layer, 100% its last (the models "
                              "have different numbers of layers).")
        self.head_combo = QComboBox()
        self.head_combo.addItem("mean of heads", "mean")
        for h in range(9):  # both bundled models have at least 9 heads
            self.head_combo.addItem(f"head {h}", h)
        self.depth.valueChanged.connect(self.redraw)
        self.head_combo.currentIndexChanged.connect(self.redraw)
        self.note = note_label()
        self.slot.say = self.note.setText
        self.figure, self.canvas = make_canvas(9, 4.2)
        self.axes = self.figure.subplots(1, 2)
        self.images = [None, None]
        from playground.qt.widgets.plot import EmptyState

        self.empty = EmptyState(self.figure, "Press Compare: the decoder's and the encoder's attention over the "
                                "same sentence appear here, side by side.", axes=list(self.axes))
        for ax in self.axes:
            ax.grid(False)
            ax.set_xticks([])
            ax.set_yticks([])
        self.depth_label = QLabel("")
        vbox(hbox((self.edit, 1), self.button),
             hbox(QLabel("depth"), (self.depth, 1), self.depth_label, self.head_combo),
             self.note, (self.canvas, 1), parent=self)

    def compare(self) -> None:
        text = self.edit.text().strip()
        if not text:
            self.note.setText("Type a sentence first.")
            return
        from playground.core.attention.kinds import compare_kinds, pick_pair

        current = self.context.session.current
        self.note.setText("Reading the sentence with both models…")

        def work(handle):
            decoder, encoder = pick_pair(current, handle)
            return compare_kinds(text, decoder, encoder, handle)

        self.task = self.slot.start("both kinds", work, on_done=self._show)

    def layer_of(self, side) -> int:
        n = side.result.main.num_layers
        return round(self.depth.value() / 100 * (n - 1))

    def _show(self, sides) -> None:
        self.sides = sides
        self.has_data = True
        lines = []
        for s in sides:
            amap = s.result.main
            lines.append(f"<b>{s.loaded_name}</b> ({s.kind}, {amap.num_layers} layers × {amap.num_heads} heads, "
                         f"{len(s.pieces)} tokens from a {s.vocabulary:,}-token vocabulary): "
                         f"{s.above_diagonal:.1%} of the attention goes to later tokens")
        self.note.setText("<br>".join(lines) + "<br>A causal decoder sees only earlier tokens (the triangle); an "
                          "encoder sees the whole sentence both ways.")
        self.images = [None, None]
        self.redraw()

    def redraw(self) -> None:
        if not self.sides:
            return
        self.empty.show(False)
        head = self.head_combo.currentData()
        depth_text = []
        for i, (ax, side) in enumerate(zip(self.axes, self.sides)):
            amap = side.result.main
            layer = self.layer_of(side)
            matrix = side.result.matrix(amap.name, layer, head)
            depth_text.append(f"{side.loaded_name.split()[0]} layer {layer}")
            if self.images[i] is None or self.images[i].get_array().shape != matrix.shape:
                ax.clear()
                self.images[i] = ax.imshow(matrix, cmap=ATTENTION_CMAP, vmin=0, vmax=max(float(matrix.max()), 1e-6))
                labels = [short(p, 10) for p in side.pieces]
                if len(labels) <= MAX_LABELS:
                    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
                    ax.set_yticks(range(len(labels)), labels, fontsize=7)
                ax.set_xlabel("attended-to token (key)", fontsize=8)
                ax.set_ylabel("attending token (query)", fontsize=8)
            else:
                self.images[i].set_data(matrix)
                self.images[i].set_clim(0, max(float(matrix.max()), 1e-6))
            head_name = "mean of heads" if head == "mean" else f"head {head}"
            ax.set_title(f"{side.loaded_name} ({side.kind})\nlayer {layer} · {head_name}", fontsize=9)
        self.depth_label.setText(", ".join(depth_text))
        self.canvas.draw_idle()

    def export_png(self, path: str) -> None:
        self.figure.savefig(path)

    def export_csv(self, path: str) -> None:
        head = self.head_combo.currentData()
        rows = []
        for side in self.sides:
            amap = side.result.main
            layer = self.layer_of(side)
            rows.append([f"{side.loaded_name} ({side.kind}) layer {layer} {head}"])
            rows += matrix_rows(side.result.matrix(amap.name, layer, head), side.pieces, side.pieces)
            rows.append([])
        write_csv(path, rows)
