"""Pruning section: fewer weights (zeroed by magnitude, or whole heads and layers removed), measured as the
Precision section measures formats, with the decode speed and the size that say what it bought."""

from __future__ import annotations

import html
from dataclasses import replace

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QWidget,
)

from playground.core.base.units import format_bytes
from playground.qt.binding import Draft, bind, form_row
from playground.qt.lifecycle.common import RunBar, column_beside_plot
from playground.qt.lifecycle.pruning_charts import PruningCharts
from playground.qt.task_slot import TaskSlot

LESSON = ("<b>Pruning removes weights; only removing whole pieces makes the model smaller and faster.</b> "
          "Unstructured pruning zeroes the weights of smallest magnitude, wherever they are; but a zero is still a "
          "number in a dense matrix, so the model keeps its size and its decode speed (it would shrink only if "
          "stored sparse, and that pays only past half zeros). Removing whole attention heads or layers shrinks the "
          "matrices: fewer bytes and faster decoding, at a price in quality. A small model has little to spare: "
          "watch where each curve breaks. Heads and layers are ranked by how much the loss on a few bundled "
          "dialogues rises when each is masked (a first-order estimate), the least important removed first.")
COLUMNS = ["model", "params", "weights", "as sparse", "perplexity", "KL", "top-1", "tok/s"]
TIPS = {"weights": "The bytes of the weights as stored now (dense): zeros take as many bytes as any number.",
        "as sparse": "The bytes if each pruned matrix were stored sparse (CSR: the non-zero values, a 4-byte "
                     "column index each, a row pointer per row): smaller than dense only past 50% zeros.",
        "tok/s": "Greedy decoding speed with the KV cache, in tokens per second, on this machine now (other work "
                 "on the cores changes it).",
        "KL": "Mean KL divergence of the next-token distributions from the dense model's (nats).",
        "top-1": "The share of positions where the pruned model's most likely next token is the dense model's."}


class PruningPage(QWidget):
    notebook_kind = "pruning"
    sig_run_done = Signal(dict)
    """a run finished: {"method", "sparsity" (0-1), "perplexity", "tokens_per_s", "dense_tokens_per_s",
    "params", "dense_params"} (the labs' pruning.run event)"""
    sig_swept = Signal(dict)
    """a sweep finished: {"methods": [...], "points": int} (the labs' pruning.swept event)"""
    sig_used = Signal(dict)
    """the pruned model was put in every tab: {"method", "sparsity"} (the labs' pruning.used event)"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.lifecycle.pruning_options import PruningOptions
        from playground.core.lifecycle.pruning import SCOPE_NOTE

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.use_slot = TaskSlot(context.runner, parent=self)
        self.rows: list = []
        self.mode = "run"
        self.importance = None  # head and layer importance of the model measured, reused by later runs
        self._measured = None  # the model the rows (and the importance) were measured on
        self._run_settings = None  # (method, sparsity, texts, new_tokens) of the last finished run
        self.draft = Draft(PruningOptions(), self)

        label, self.method_combo = form_row(self.draft, "method")
        self.slider = QSlider(Qt.Orientation.Horizontal)
        meta = self.draft.field("sparsity").metadata
        self.slider.setRange(meta["range"][0], meta["range"][1])
        self.slider.setSingleStep(meta["range"][2])
        self.slider.setPageStep(10)
        self.slider.setTickInterval(10)
        self.slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.slider.setToolTip(meta["help"])
        bind(self.slider, self.draft, "sparsity")
        self.sparsity_label = QLabel()
        self.sparsity_label.setMinimumWidth(40)
        self.draft.connect_path("sparsity", self._show_sparsity)
        self._show_sparsity()
        pick = QHBoxLayout()
        pick.addWidget(label)
        pick.addWidget(self.method_combo)
        pick.addWidget(QLabel(meta["label"]))
        pick.addWidget(self.slider, 1)
        pick.addWidget(self.sparsity_label)

        self.bar = RunBar("Run", self.slot, stop_tip="Stop after the current model; finished rows stay (Esc).")
        self.bar.run_button.setToolTip("Prune the loaded model with this method and sparsity, and measure it "
                                       "beside the dense model.")
        self.bar.run_button.clicked.connect(self.run)
        self.sweep_button = QPushButton("Sweep")
        self.sweep_button.setToolTip("Prune each way (unstructured, heads, layers) at 30, 50, 70 and 90% and chart "
                                     "perplexity against sparsity: minutes on the bundled model.")
        self.sweep_button.clicked.connect(self.sweep)
        self.bar.layout().insertWidget(1, self.sweep_button)
        self.slot.sig_busy_changed.connect(lambda busy: self.sweep_button.setEnabled(not busy))

        from playground.qt.widgets.result_header import ResultHeader

        self.header = ResultHeader(empty="No run yet: pick a method and a sparsity and press Run. It prunes the "
                                         "base model, with no adapter, and measures it beside the dense one.")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for c, name in enumerate(COLUMNS):
            if name in TIPS:
                self.table.horizontalHeaderItem(c).setToolTip(TIPS[name])
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.texts = QTextEdit()
        self.texts.setReadOnly(True)
        self.texts.setToolTip("The same prompt's greedy completion by each model; the first token that differs "
                              "from the dense model's is highlighted.")
        self.charts = PruningCharts()
        self.use_button = QPushButton("Use this model")
        self.use_button.setToolTip("Put the last run's pruned model in every tab (the model bar names it); load the "
                                   "model again to go back.")
        self.use_button.setEnabled(False)
        self.use_button.clicked.connect(self.use_pruned)
        self.use_slot.say = self.bar.message.setText
        use_row = QHBoxLayout()
        use_row.addWidget(self.use_button)
        use_row.addStretch(1)
        column_beside_plot(self, [pick, self.bar, self.bar.message, self.header, (self.table, 1), (self.texts, 1),
                                  use_row], self.charts.canvas, stretch=(3, 2),
                           lesson_text=f"{LESSON}<br><br>{html.escape(SCOPE_NOTE)}", strip=self.bar.strip)

    # settings ---------------------------------------------------------------------------------------
    def _show_sparsity(self, *_) -> None:
        self.sparsity_label.setText(f"{self.draft.value.sparsity}%")

    def on_model_changed(self, loaded) -> None:
        base = self._base()
        if base is not self._measured:
            self.importance = None
            self.use_button.setEnabled(False)
            if self.rows:
                self.header.mark_stale("another model is loaded; run again to measure it")

    def _base(self):
        from playground.core.lifecycle.pruning_run import as_loaded

        base = self.context.session.base
        return as_loaded(base) if base is not None else None

    # work ---------------------------------------------------------------------------------------------
    def run(self) -> None:
        o = self.draft.value
        self._start("run", [(o.method, o.sparsity / 100)])

    def sweep(self) -> None:
        from playground.core.lifecycle.pruning_run import sweep_runs

        self._start("sweep", sweep_runs())

    def _start(self, mode: str, runs) -> None:
        loaded = self.context.ready_model(self.bar.message.setText)
        if loaded is None:
            return
        if loaded.info.kind != "decoder-only":
            self.bar.message.setText("Pruning is measured on next-token models: load a decoder-only model.")
            return
        from playground.core.base.errors import InputError
        from playground.core.lifecycle.precision import DEFAULT_PROMPT, default_texts
        from playground.core.lifecycle.pruning import METHODS
        from playground.core.lifecycle.pruning_run import parse_runs, pruning_sweep

        try:
            runs = parse_runs(runs)
        except InputError as exc:
            self.bar.message.setText(f"{exc.message} {exc.hint}".strip())
            return
        base = self._base() or loaded
        if base is not self._measured:
            self.importance = None
        self._measured, self.mode, self.rows = base, mode, []
        self.table.setRowCount(0)
        self.texts.clear()
        o = self.draft.value
        texts = default_texts(o.texts)
        self._pending = (texts, DEFAULT_PROMPT, o.new_tokens)
        adapter = self.context.session.adapter
        off = f"adapter {adapter.extras.get('adapter_name') or adapter.info.name} off · " if adapter is not None else ""
        what = ("sweep: unstructured, heads and layers at 30-90%" if mode == "sweep" else
                f"{METHODS[runs[0][0]].label} at {runs[0][1]:.0%}")
        ranked = " · heads and layers ranked by the loss change when masked (first-order) on 8 dialogues" \
            if any(METHODS[m].structured for m, _ in runs) else ""
        self.header.show_for(base, prompt=f"perplexity on {o.texts} test summaries",
                             settings=f"{what} · {o.new_tokens} greedy tokens", extra=off + "dense model first" + ranked)
        importance = self.importance
        self.slot.start(f"pruning {mode}",
                        lambda h: pruning_sweep(base.model, base.tokenizer, base.device, runs, texts=texts,
                                                new_tokens=o.new_tokens, importance=importance, handle=h),
                        on_item=self._on_item, on_progress=self.bar.on_progress, on_finished=self._finished)

    def _on_item(self, item) -> None:
        from playground.core.lifecycle.pruning_run import Magnitudes, PruningRow
        from playground.core.lifecycle.pruning_structure import Importance

        if isinstance(item, Magnitudes):
            self.charts.show_magnitudes(item.values)
        elif isinstance(item, Importance):
            self.importance = item
        elif isinstance(item, PruningRow):
            self._add_row(item)

    def _add_row(self, row) -> None:
        self.rows.append(row)
        r = self.table.rowCount()
        self.table.insertRow(r)
        values = [row.label, f"{row.params / 1e6:.1f}M", format_bytes(row.weight_bytes), format_bytes(row.sparse_bytes),
                  f"{row.perplexity:.2f}" if row.perplexity < 1000 else f"{row.perplexity:,.0f}", f"{row.kl:.4f}", f"{row.top1 * 100:.1f}%", f"{row.tokens_per_s:.1f}"]
        tip = "; ".join(t for t in (row.removed, row.note) if t)
        for c, v in enumerate(values):
            item = QTableWidgetItem(v)
            item.setToolTip(tip)
            self.table.setItem(r, c, item)
        self._add_text(row)
        if row.note:
            self.texts.append(f"<i>{html.escape(row.label)}: {html.escape(row.note)}</i>")
        if row.method != "dense":
            self.charts.show_row(row)
            if self.mode == "sweep":
                self.charts.show_curves(self.rows)

    def _add_text(self, row) -> None:
        from playground.qt.design import PROBABILITY_COLOURS

        i = row.diverges_at
        pieces = [html.escape(p) for p in row.completion]
        if 0 <= i < len(pieces):
            pieces[i] = f"<span style='background:{PROBABILITY_COLOURS[2][1]}'>{pieces[i]}</span>"
        self.texts.append(f"<b>{html.escape(row.label)}</b>: {''.join(pieces)}")

    def _finished(self, task) -> None:
        pruned = [r for r in self.rows if r.method != "dense"]
        if task.outcome == "cancelled":
            self.bar.message.setText(f"Stopped: {len(self.rows)} finished row(s) kept.")
            if self.header.provenance is not None:
                self.header.show_provenance(replace(self.header.provenance,
                                                    extra=self.header.provenance.extra + " · stopped early"))
        if task.outcome != "done" or not pruned:
            return
        dense = self.rows[0]
        if self.mode == "run":
            row = pruned[0]
            self._run_settings = (row.method, row.sparsity)
            self.use_button.setEnabled(True)
            faster = row.tokens_per_s / dense.tokens_per_s if dense.tokens_per_s else float("nan")
            self.bar.message.setText(
                f"{row.label}: {row.params / dense.params:.0%} of the parameters, {format_bytes(row.weight_bytes)} "
                f"dense ({format_bytes(row.sparse_bytes)} stored sparse), decoding at {faster:.2f}x the dense "
                f"model's speed.")
            self.sig_run_done.emit({"method": row.method, "sparsity": row.sparsity, "perplexity": row.perplexity,
                                    "tokens_per_s": row.tokens_per_s, "dense_tokens_per_s": dense.tokens_per_s,
                                    "params": row.params, "dense_params": dense.params})
        else:
            methods = list(dict.fromkeys(r.method for r in pruned))
            self.bar.message.setText(f"Sweep finished: {len(pruned)} pruned models, {len(methods)} kinds.")
            self.sig_swept.emit({"methods": methods, "points": len(pruned)})

    def use_pruned(self) -> None:
        base = self._base()
        if base is None or self._run_settings is None:
            self.bar.message.setText("Run a pruning first; then its model can be used in every tab.")
            return
        method, sparsity = self._run_settings
        importance = self.importance
        from playground.core.lifecycle.pruning_run import at_pruned

        self.use_slot.start(f"use pruned {method}", lambda h: at_pruned(base, method, sparsity, importance, handle=h),
                            on_done=self._use_done)

    def _use_done(self, loaded) -> None:
        self.context.session.set(loaded)
        self.context.sig_model_changed.emit(loaded)
        p = loaded.extras["pruning"]
        self.bar.message.setText(f"Every tab now uses the pruned model ({p['removed']}).")
        self.sig_used.emit({"method": p["method"], "sparsity": p["sparsity"]})

    # panel protocol -------------------------------------------------------------------------------------
    def lab_events(self) -> dict:
        return {"pruning.run": (self.sig_run_done, dict), "pruning.swept": (self.sig_swept, dict),
                "pruning.used": (self.sig_used, dict)}

    def reveal(self, control: str) -> QWidget | None:
        return {"pruning_run": self.bar.run_button, "pruning_method": self.method_combo,
                "pruning_sweep": self.sweep_button, "pruning_use": self.use_button}.get(control)

    def notebook_state(self) -> dict | None:
        from playground.core.lifecycle.pruning_notebook import pruning_experiment

        row = next((r for r in self.rows if r.method != "dense"), None) if self.mode == "run" else None
        if row is None or not getattr(self, "_pending", None):
            return None
        texts, prompt, new_tokens = self._pending
        return pruning_experiment(row, texts, prompt, new_tokens)
