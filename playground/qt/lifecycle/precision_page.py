"""Precision section: the same model at FP32 / BF16 / FP16 / INT8 / INT4 (/ INT2), measured."""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QWidget,
)

from playground.qt.lifecycle.common import RunBar, column_beside_plot, make_canvas
from playground.core.base.units import format_bytes
from playground.qt.binding import Draft, bind, persist
from playground.qt.task_slot import TaskSlot

LESSON = ("<b>Quantization stores each weight in fewer bits; the table says what the rounding cost.</b> "
          "BF16 and FP16 halve the bytes; INT8 "
          "and INT4 quantize the weights only (of the linear layers): integers plus a scale per row (INT8, "
          "per channel) or a scale and a shift per group of up to 128 columns (INT4). Perplexity, the KL "
          "divergence from FP32 and the share of equal top-1 tokens say what the rounding cost; the greedy "
          "text shows where it first changes. On a CPU, one-token decoding mostly reads weights, so fewer "
          "bytes can decode faster (PyTorch's INT kernels also multiply in BF16 there); the memory saving "
          "is the lesson.")
COLUMNS = ["format", "weights", "perplexity", "KL from FP32", "top-1 agree", "decode tok/s"]


class PrecisionPage(QWidget):
    sig_swept = Signal(dict)
    """a sweep ended: {"formats": [format names measured], "rows": int} (the labs' precision.run event)"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.lifecycle.options import PrecisionOptions
        from playground.core.lifecycle.precision import BUNDLED_NOTE, FORMATS, TIED_NOTE

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.use_slot = TaskSlot(context.runner, parent=self)
        self.rows = []
        self._measured = None  # the model the rows were measured on
        # The ``lifecycle_precision`` section of the settings: the sweep reads this value, not the boxes.
        self.draft = Draft(PrecisionOptions(), self)
        persist(self.draft, context.settings)
        pick = self._build_formats()
        self.bar = RunBar("Run the sweep", self.slot, stop_tip="Stop after the current format; finished rows "
                                                               "stay (Esc).")
        from playground.qt.widgets.result_header import ResultHeader

        self.header = ResultHeader(empty="No sweep yet: check the formats and press Run the sweep. It measures "
                                         "the base model, with no adapter.")
        self.bar.run_button.setToolTip("Convert the loaded model to each checked format and measure it.")
        self.bar.run_button.clicked.connect(self.run)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.texts = QTextEdit()
        self.texts.setReadOnly(True)
        self.texts.setToolTip("The same prompt's greedy completion at each format; the first token that "
                              "differs from FP32 is highlighted.")
        self.figure, self.canvas = make_canvas()
        self.ax = self.figure.add_subplot(111)
        self.ax.set_xlabel("weight memory (MiB)")
        self.ax.set_ylabel("perplexity on 20 test summaries")
        self.points = self.ax.scatter([], [])
        from playground.qt.widgets.plot import EmptyState

        self.empty = EmptyState(self.figure, "Each format's perplexity against its weight memory appears\n"
                                             "here, one point per format, once the sweep runs.")
        self.point_labels = []
        self.use_combo = QComboBox()
        for name, fmt in FORMATS.items():
            self.use_combo.addItem(fmt.label, name)
        self.use_button = QPushButton("Use this precision")
        self.use_button.setToolTip("Load the app's model at this format for every tab (the model bar shows it).")
        self.use_button.clicked.connect(self.use_precision)
        self.use_slot.say = self.bar.message.setText
        use_row = QHBoxLayout()
        use_row.addWidget(self.use_combo)
        use_row.addWidget(self.use_button)
        use_row.addStretch(1)

        column_beside_plot(self, [pick, self.bar, self.bar.message, self.header, (self.table, 1),
                                  (self.texts, 1), use_row], self.canvas,
                           lesson_text=f"{LESSON}<br><br>{html.escape(TIED_NOTE)} {html.escape(BUNDLED_NOTE)}",
                           strip=self.bar.strip)

    def _build_formats(self) -> QHBoxLayout:
        """One check box per format, each bound to whether its name is in the draft's ``formats``."""
        from playground.core.lifecycle.precision import FORMATS

        meta = self.draft.field("formats").metadata
        label = QLabel(meta["label"])
        label.setToolTip(meta["help"])
        pick = QHBoxLayout()
        pick.addWidget(label)
        self.checks: dict[str, QCheckBox] = {}
        for name, fmt in FORMATS.items():
            box = QCheckBox(fmt.label)
            box.setToolTip(fmt.lesson)
            bind(box, self.draft, "formats", parse=lambda on, name=name: self._with_format(name, on),
                 fmt=lambda formats, name=name: name in formats)
            self.checks[name] = box
            pick.addWidget(box)
        pick.addStretch(1)
        return pick

    def _with_format(self, name: str, on: bool) -> list[str]:
        """The draft's formats with ``name`` in or out, in the table's order."""
        from playground.core.lifecycle.precision import FORMATS

        chosen = (set(self.draft.value.formats) - {name}) | ({name} if on else set())
        return [n for n in FORMATS if n in chosen]

    def on_model_changed(self, loaded) -> None:
        self.use_button.setEnabled(loaded is not None)
        base = self.context.session.base
        base = base.extras.get("precision_of", base) if base is not None else None
        if self.rows and base is not self._measured:
            self.header.mark_stale("another model is loaded; run the sweep again to measure it")

    def chosen(self) -> list[str]:
        """The known formats the draft names, in the table's order."""
        from playground.core.lifecycle.precision import FORMATS

        return [name for name in FORMATS if name in self.draft.value.formats]

    def run(self) -> None:
        loaded = self.context.ready_model(self.bar.message.setText)
        if loaded is None:
            return
        options, formats = self.draft.value, self.chosen()
        if not formats:
            self.bar.message.setText("Check at least one format to measure.")
            return
        if loaded.info.kind != "decoder-only":
            self.bar.message.setText("The precision lab measures next-token models: load a decoder-only model.")
            return
        from playground.core.lifecycle.precision import default_texts, precision_sweep

        self.rows = []
        self.table.setRowCount(0)
        self.texts.clear()
        base = self.context.session.base or loaded
        base = base.extras.get("precision_of", base)  # measure from the model as loaded
        self._measured = base
        adapter = self.context.session.adapter
        # The sweep converts the base model: an adapter attached in the model bar is off here, said so.
        off = f"adapter {adapter.extras.get('adapter_name') or adapter.info.name} off for this sweep · " \
            if adapter is not None else ""
        self.header.show_for(base, prompt=f"perplexity on {options.texts} test summaries",
                             settings=f"{options.new_tokens} greedy tokens", extra=off + "FP32 reference first")
        self.slot.start("precision sweep",
                        lambda h: precision_sweep(base.model, base.tokenizer, base.device, formats,
                                                  texts=default_texts(options.texts), new_tokens=options.new_tokens,
                                                  handle=h),
                        on_item=self._add_row, on_progress=self.bar.on_progress, on_finished=self._finished)

    def _add_row(self, row) -> None:
        self.rows.append(row)
        r = self.table.rowCount()
        self.table.insertRow(r)
        if row.skipped:
            values = [row.label, row.skipped, "", "", "", ""]
        else:
            values = [row.label, format_bytes(row.weight_bytes), f"{row.perplexity:.2f}", f"{row.kl:.4f}",
                      f"{row.top1 * 100:.1f}%", f"{row.tokens_per_s:.1f}"]
        for c, v in enumerate(values):
            item = QTableWidgetItem(v)
            item.setToolTip(row.skipped or row.note)
            self.table.setItem(r, c, item)
        if row.note:
            self.texts.append(f"<i>{html.escape(row.label)}: {html.escape(row.note)}</i>")
        if not row.skipped:
            self._add_text(row)
            self._update_plot()

    def _add_text(self, row) -> None:
        i = row.diverges_at
        pieces = [html.escape(p) for p in row.completion]
        if i >= 0 and i < len(pieces):
            pieces[i] = f"<span style='background:#f6c26b'>{pieces[i]}</span>"
        self.texts.append(f"<b>{row.label}</b>: {''.join(pieces)}")

    def _update_plot(self) -> None:
        done = [r for r in self.rows if not r.skipped]
        xs = [r.weight_bytes / 2**20 for r in done]  # MiB: the unit format_bytes writes in the table
        ys = [r.perplexity for r in done]
        self.points.set_offsets(list(zip(xs, ys)))
        for label in self.point_labels:
            label.remove()
        # Formats of one size (BF16 and FP16) sit on one spot: their labels go right and left of it.
        self.point_labels = []
        for i, (r, x, y) in enumerate(zip(done, xs, ys)):
            twin = any(abs(x - xs[j]) < 1.0 for j in range(i))
            self.point_labels.append(self.ax.annotate(
                r.label, (x, y), fontsize=8, xytext=(-4, -10) if twin else (3, 3), textcoords="offset points",
                ha="right" if twin else "left"))
        self.empty.show(not done)
        self.ax.relim()
        self.ax.update_datalim(list(zip(xs, ys)))
        self.ax.autoscale_view()
        self.canvas.draw_idle()

    def _finished(self, task) -> None:
        outcome = task.outcome
        if outcome == "cancelled":
            self.bar.message.setText(f"Stopped: {len(self.rows)} finished row(s) kept.")
            if self.header.provenance is not None:
                self.header.show_provenance(replace(self.header.provenance,
                                                    extra=self.header.provenance.extra + " · stopped early"))
        elif outcome == "done":
            self.bar.message.setText(f"Sweep finished: {len(self.rows)} format(s).")
            self.sig_swept.emit({"formats": [r.name for r in self.rows if not r.skipped], "rows": len(self.rows)})

    def lab_events(self) -> dict:
        return {"precision.run": (self.sig_swept, dict)}

    def reveal(self, control: str) -> QWidget | None:
        return self.bar.run_button if control == "precision_run" else None

    def use_precision(self) -> None:
        base = self.context.session.base
        if base is None:
            self.bar.message.setText("The model is still loading. Try again in a moment.")
            return
        name = self.use_combo.currentData()
        from playground.core.lifecycle.precision import at_precision

        self.use_slot.start(f"use {name}", lambda h: at_precision(base, name), on_done=self._use_done)

    def _use_done(self, loaded) -> None:
        self.context.session.set(loaded)
        self.context.sig_model_changed.emit(loaded)
        self.bar.message.setText(f"Every tab now uses the model at {loaded.info.dtype}.")
