"""KV cache section: a greedy generation stepped through with its cache in view, what the cache costs per
token (GQA vs full multi-head), its memory against context length, and time per token with vs without it."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QTabWidget, QWidget

from playground.qt.lifecycle.common import RunBar, column_beside_plot
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, check, flexible_height, note_label, spin

LESSON = ("<b>The KV cache: every layer keeps the keys and values of every token read, so each new token "
          "is one pass over itself alone.</b> Prefill reads the whole prompt at once (the slow first token); each "
          "decode step adds one position per layer, and the new token's query reads every cached position. The "
          "price is memory: 2 × layers × KV heads × head size × bytes per token, growing with the context. "
          "Grouped-query attention shares one K and V among several query heads to shrink it.")
DEFAULT_LENGTHS = "32, 64, 128, 256, 512"


class KVCachePage(QWidget):
    sig_stepped = Signal(dict)
    """a pass ran: {"kind": "prefill" | "decode", "step", "positions", "bytes_per_token", "measured_bytes", "model"}"""
    sig_timed = Signal(dict)
    """a timing run ended: {"lengths": [...], "with_ms": [...], "without_ms": [...], "stopped": bool, "model"}"""
    notebook_kind = "kv_cache"

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.lifecycle.kv_stepper import DEFAULT_NEW_TOKENS, default_prompt
        from playground.qt.lifecycle.kv_cache_charts import CacheChart, MemoryChart, TimingChart
        from playground.qt.widgets.result_header import ResultHeader

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.stepper = None
        self.points: list = []
        self._shape = None
        self.prompt_box = flexible_height(QPlainTextEdit(default_prompt()), 4)
        self.prompt_box.setToolTip("The text the model continues. Prefill reads all of it in one pass.")
        self.chat_check = check("Chat template", "Wrap the prompt in the model's chat template, as the Generate "
                                                 "tab does.", checked=True)
        self.new_tokens = spin(1, 512, DEFAULT_NEW_TOKENS, "How many tokens 'Run to end' generates at most "
                                                           "(it also stops at end-of-text).")
        self.prefill_button = button("Prefill", "One pass over the whole prompt: every prompt position enters "
                                                "every layer's cache at once.", self.prefill)
        self.next_button = button("Next step", "Feed the chosen token alone: one position is added to each layer's "
                                               "cache and its query reads all of them.", self.next_step)
        self.run_button = button("Run to end", "Decode step after step until end-of-text or the new-token limit "
                                               "(Stop ends it; the steps made stay).", self.run_to_end)
        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("Which layer's attention row the lower chart shows.")
        self.head_combo = QComboBox()
        self.head_combo.setToolTip("The row averaged over the query heads, or one head's. Query heads of one "
                                   "group read the same cached keys but with their own queries.")
        for box in (self.layer_combo, self.head_combo):
            # Wide enough for '30 of 30' / 'head 9' before the model's layers and heads fill them.
            box.setMinimumContentsLength(8)
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.layer_combo.currentIndexChanged.connect(self._redraw)
        self.head_combo.currentIndexChanged.connect(self._redraw)
        self.header = ResultHeader(empty="No generation yet: press Prefill to read the prompt into the cache.")
        self.step_out = note_label("", "What the last pass did, with the cache's size computed and measured.")
        self.text_out = note_label("")
        self.arith = note_label("")
        self.arith.setToolTip("Bytes per token from the loaded model's config: a key and a value vector per KV "
                              "head, per layer, for every token cached.")
        self.bar = RunBar("Measure with vs without cache", self.slot,
                          stop_tip="Stop after the current pass; the lengths measured stay (Esc).")
        self.bar.run_button.setToolTip("Time one new token at each context length: fed on the cache, and "
                                       "recomputed over the whole prefix without it.")
        self.bar.run_button.clicked.connect(self.measure)
        self.lengths_edit = QLineEdit(DEFAULT_LENGTHS)
        self.lengths_edit.setToolTip("Context lengths to time (tokens of the prompt, repeated), up to the window.")
        self.cache_chart, self.memory_chart, self.timing_chart = CacheChart(), MemoryChart(), TimingChart()
        self.charts = QTabWidget()
        self.charts.addTab(self.cache_chart.canvas, "Cache and attention")
        self.charts.addTab(self.memory_chart.canvas, "Memory vs context")
        self.charts.addTab(self.timing_chart.canvas, "With vs without cache")
        self.slot.say = self.bar.message.setText
        self.slot.sig_busy_changed.connect(self._busy)
        opts = QHBoxLayout()
        for w in (self.chat_check, QLabel("New tokens"), self.new_tokens):
            opts.addWidget(w)
        opts.addStretch(1)
        steps = QHBoxLayout()
        for w in (self.prefill_button, self.next_button, self.run_button):
            steps.addWidget(w)
        steps.addStretch(1)
        view = QHBoxLayout()
        for w in (QLabel("Attention row of layer"), self.layer_combo, QLabel("head"), self.head_combo):
            view.addWidget(w)
        view.addStretch(1)
        lengths = QHBoxLayout()
        lengths.addWidget(QLabel("Lengths"))
        lengths.addWidget(self.lengths_edit, 1)
        column_beside_plot(self, [(self.prompt_box, 1), opts, steps, view, self.header, self.step_out, self.text_out,
                                  self.arith, lengths, self.bar, self.bar.message], self.charts,
                           stretch=(2, 3), lesson_text=LESSON, strip=self.bar.strip)
        self._busy(False)

    # model -------------------------------------------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        from playground.core.base.errors import PlaygroundError
        from playground.core.lifecycle.kv_cache import bundled_shapes, shape_of_loaded

        if self.stepper is not None and loaded is not self.stepper.loaded and not self.slot.busy:
            self.header.mark_stale("another model is loaded; press Prefill to step it")
            self.stepper = None  # its cache belongs to the other model: stepping starts again with Prefill
            self._busy(False)
        self._shape = None
        if loaded is None:
            return
        try:
            self._shape = shape_of_loaded(loaded)
        except PlaygroundError as exc:
            self.arith.setText(html.escape(f"{exc.message} {exc.hint}"))
            self.memory_chart.show(bundled_shapes())
            return
        others = "<br>".join(html.escape(s.summary()) for s in bundled_shapes())
        self.arith.setText(f"<b>Bytes per token, {html.escape(loaded.info.name)}</b>: "
                           f"{html.escape(self._shape.arithmetic())}<br><small>Published configs, "
                           f"BF16:<br>{others}</small>")
        self.memory_chart.show([self._shape, *bundled_shapes()])
        layers = self._shape.layers
        self.layer_combo.blockSignals(True)
        self.layer_combo.clear()
        self.layer_combo.addItems([f"{i + 1} of {layers}" for i in range(layers)])
        self.layer_combo.setCurrentIndex(layers - 1)
        self.layer_combo.blockSignals(False)
        self.head_combo.blockSignals(True)
        self.head_combo.clear()
        self.head_combo.addItems(["mean"] + [f"head {h + 1}" for h in range(self._shape.heads)])
        self.head_combo.blockSignals(False)

    def _busy(self, busy: bool) -> None:
        stepping = self.stepper is not None and self.stepper.started and not self.stepper.finished
        self.prefill_button.setEnabled(not busy)
        self.next_button.setEnabled(not busy and stepping)
        self.run_button.setEnabled(not busy and stepping)
        self.bar.run_button.setEnabled(not busy)

    # stepping ----------------------------------------------------------------------------------------
    def prefill(self) -> None:
        from playground.core.base.errors import PlaygroundError
        from playground.core.decoding.generation import format_prompt
        from playground.core.lifecycle.kv_stepper import KVCacheStepper

        loaded = self.context.ready_model(self.bar.message.setText)
        if loaded is None:
            return
        try:
            prompt = format_prompt(loaded, self.prompt_box.toPlainText(), self.chat_check.isChecked())
            stepper = KVCacheStepper(loaded, prompt, max_new_tokens=self.new_tokens.value())
        except PlaygroundError as exc:
            self.bar.message.setText(f"{exc.message} {exc.hint}".strip())
            return
        self.stepper = stepper
        self.header.show_for(loaded, prompt="chat template" if self.chat_check.isChecked() else "plain text",
                             settings=f"greedy, {stepper.max_new_tokens} new tokens at most",
                             extra=f"{len(stepper.prompt_ids)} prompt tokens · eager attention while stepping")
        self.slot.start("prefill", lambda h: stepper.prefill(), on_done=self._stepped)

    def next_step(self) -> None:
        stepper = self.stepper
        if stepper is None or not stepper.started:
            self.bar.message.setText("Press Prefill first: the prompt must be in the cache.")
            return
        if stepper.finished:
            self.bar.message.setText(stepper.finished_reason())
            return
        self.slot.start("decode step", lambda h: stepper.step(), on_done=self._stepped)

    def run_to_end(self) -> None:
        stepper = self.stepper
        if stepper is None or not stepper.started:
            self.bar.message.setText("Press Prefill first: the prompt must be in the cache.")
            return
        self.slot.start("decode to the end", lambda h: stepper.run(cancelled=h.cancelled), on_item=self._stepped,
                        on_finished=lambda task: self._busy(False))

    def _stepped(self, step) -> None:
        from playground.core.lifecycle.kv_stepper import describe_step

        stepper = self.stepper
        self.step_out.setText(html.escape(describe_step(stepper, step)))
        self.text_out.setText("<b>Generated so far:</b> " + html.escape(stepper.text() or "…"))
        self._redraw()
        positions = step.layer_lengths[0] if step.layer_lengths else 0
        self.memory_chart.mark(positions, step.cache_bytes)
        self._busy(self.slot.busy)
        self.sig_stepped.emit({"kind": step.kind, "step": step.index, "positions": positions,
                               "bytes_per_token": stepper.shape.bytes_per_token, "measured_bytes": step.cache_bytes,
                               "model": stepper.loaded.info.name})

    def _redraw(self) -> None:
        from playground.core.prompting.tokens import token_labels

        stepper = self.stepper
        if stepper is None or not stepper.steps or stepper.steps[-1].attention is None:
            return
        step = stepper.steps[-1]
        layer = max(0, min(self.layer_combo.currentIndex(), step.attention.shape[0] - 1))
        head = self.head_combo.currentIndex() - 1
        head = None if head < 0 or head >= step.attention.shape[1] else head
        labels = token_labels(stepper.loaded.tokenizer, stepper.cached_ids)
        self.cache_chart.show(step, labels, layer, head, labels[-1] if labels else "")

    # timing ------------------------------------------------------------------------------------------
    def measure(self) -> None:
        from playground.core.base.errors import PlaygroundError
        from playground.core.decoding.generation import format_prompt, prompt_token_ids
        from playground.core.lifecycle import kv_timing as T

        loaded = self.context.ready_model(self.bar.message.setText)
        if loaded is None:
            return
        try:
            lengths = T.parse_lengths(self.lengths_edit.text())
            T.check_lengths(loaded, lengths, 2)
            if loaded.is_encoder_decoder or loaded.info.kind != "decoder-only":
                raise PlaygroundError("Timing the cache needs a decoder-only model.", "Load the bundled SmolLM2.")
            text = self.prompt_box.toPlainText()
            seed = prompt_token_ids(loaded.tokenizer, format_prompt(loaded, text, False)) if text.strip() else []
        except PlaygroundError as exc:
            self.bar.message.setText(f"{exc.message} {exc.hint}".strip())
            return
        self.points = []
        self.timing_chart.show([])
        self.charts.setCurrentWidget(self.timing_chart.canvas)
        self._timed_model = loaded.info.name
        self.header.show_for(loaded, prompt="the prompt's tokens repeated to each length",
                             settings=f"lengths {', '.join(map(str, lengths))}; median of 2 tokens each",
                             extra="with vs without the KV cache")
        self.slot.start("time with and without the cache",
                        lambda h: T.time_per_token(loaded, lengths, repeats=2, seed_ids=seed, handle=h),
                        on_item=self._timed, on_progress=self.bar.on_progress, on_finished=self._timing_finished)

    def _timed(self, point) -> None:
        self.points.append(point)
        self.timing_chart.show(self.points)

    def _timing_finished(self, task) -> None:
        from playground.core.lifecycle.kv_timing import timing_table

        self._busy(False)
        if not self.points:
            return
        stopped = task.outcome == "cancelled"
        self.bar.message.setText(("Stopped: the lengths measured stay. " if stopped else "")
                                 + f"Slower without the cache by {self.points[-1].ratio:.1f}× at "
                                   f"{self.points[-1].length} tokens.")
        self.timing_chart.canvas.setToolTip(timing_table(self.points))
        self.sig_timed.emit({"lengths": [p.length for p in self.points],
                             "with_ms": [p.with_cache_s * 1000 for p in self.points],
                             "without_ms": [p.without_cache_s * 1000 for p in self.points],
                             "stopped": stopped, "model": self._timed_model})

    # protocol ----------------------------------------------------------------------------------------
    def lab_events(self) -> dict:
        same = lambda payload: dict(payload)  # noqa: E731 (the signals carry plain data already)
        return {"kv.stepped": (self.sig_stepped, same), "kv.timed": (self.sig_timed, same)}

    def reveal(self, control: str) -> QWidget | None:
        controls = {"kv_prefill": self.prefill_button, "kv_next": self.next_button, "kv_run": self.run_button,
                    "kv_measure": self.bar.run_button}
        widget = controls.get(control)
        if widget is not None and control == "kv_measure":
            self.charts.setCurrentWidget(self.timing_chart.canvas)
        return widget

    def notebook_state(self) -> dict | None:
        stepper = self.stepper
        if stepper is None or not stepper.steps:
            return None
        from playground.core.lifecycle.kv_notebook import kv_cache_experiment

        return kv_cache_experiment(stepper, self.points)
