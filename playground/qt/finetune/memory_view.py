"""The memory explainer: what training costs, part by part, for each method, and the weights alone
at each number format. After a run, the measured peak stands beside the estimate."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from playground.core.finetune.memory import (
    METHOD_LABELS,
    METHODS,
    PART_LABELS,
    PARTS,
    WEIGHT_FORMATS,
    ModelShape,
    estimate_all_methods,
    format_bytes,
    precision_note,
    weights_by_format,
)
from playground.qt.widgets.make import button, check, spin

PART_COLOURS = {"weights": "#4c72b0", "gradients": "#dd8452", "optimizer": "#c44e52", "activations": "#55a868"}
MEASURED_COLOUR = "#8c8c8c"
FORMAT_LABELS = {"float32": "FP32", "float16": "FP16", "bfloat16": "BF16", "int8": "INT8"}
TIPS = {
    "weights": "Weights: every parameter of the model, stored at the chosen format (4 bytes at FP32).",
    "gradients": "Gradients: one number per trained weight, saying which way to change it. Frozen weights "
                 "need none, so LoRA and prompt tuning keep almost no gradients.",
    "optimizer": "Optimizer states: AdamW keeps two running averages per trained weight (its momentum and "
                 "the size of recent gradients), twice the trained weights again.",
    "activations": "Activations: intermediate results of the forward pass kept for the backward pass. They "
                   "grow with batch size × sequence length and are the same order for every method.",
}


def _shape_text(shape: ModelShape) -> str:
    return (f"{shape.parameters / 1e6:,.0f}M parameters, {shape.num_layers} layers, "
            f"hidden size {shape.hidden_size}")


class MemoryExplainer(QWidget):
    """Stacked bars of training memory for full fine-tuning, LoRA and prompt tuning, side by side,
    and bars of the weights alone at FP32 / FP16 / BF16 / INT8.

    The figure is built once; changing an input moves bar heights in place (debounced).
    """

    sig_estimates_changed = Signal(object)
    """dict method -> MemoryEstimate after the inputs changed"""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from matplotlib.figure import Figure

        from playground.qt.widgets.plot import lazy_canvas

        self.shape: ModelShape | None = None
        self.lora_rank = 8
        self.virtual_tokens = 20
        self.chosen = "lora"
        self.loss_tokens: int | None = None  # positions whose logits the loss needs (None: all)
        self.measured: tuple[str, int, str] | None = None  # (method, bytes, where)
        self.int8_measured: int | None = None  # the loaded model's weights really converted to INT8
        self.estimates: dict = {}

        self.dtype_combo = QComboBox()
        for fmt in ("float32", "bfloat16", "float16"):
            self.dtype_combo.addItem(FORMAT_LABELS[fmt], fmt)
        self.dtype_combo.setToolTip("The number format of the weights while training. FP32 uses 4 bytes per "
                                    "number, FP16 and BF16 use 2. (Mixed precision keeps FP32 weights and "
                                    "computes in 16 bits.)")
        self.batch_spin = spin(1, 256, tip="Examples per forward pass. Activations grow in proportion to it; the "
                               "weights and the optimizer do not.")
        self.seq_spin = spin(8, 32768, 512, "Tokens per example (the longest in a batch). Activations grow with it.")
        self.seq_spin.setSingleStep(64)
        self.checkpoint_check = check("Gradient checkpointing", "Keep only each layer's input and recompute the "
                                      "rest during the backward pass: far fewer activations for about a third more "
                                      "compute.")
        controls = QHBoxLayout()
        for label, w in (("Format", self.dtype_combo), ("Batch", self.batch_spin), ("Tokens", self.seq_spin)):
            controls.addWidget(QLabel(label))
            controls.addWidget(w)
        controls.addStretch(1)
        # a second row: one row of every control was wider than the step with the Labs dock open
        more = QHBoxLayout()
        more.addWidget(self.checkpoint_check)
        more.addStretch(1)
        self.int8_button = button("Measure INT8", "Convert a copy of the loaded model's weights to INT8 "
                                  "(PyTorch's int8 weight-only format, as the Lifecycle tab) and count the bytes "
                                  "they really hold: more than the estimate of 1 byte per parameter, since the input "
                                  "embedding stays FP32 beside the LM head's INT8 copy and every row keeps a scale. "
                                  "Seconds.")
        more.addWidget(self.int8_button)

        self.figure = Figure(figsize=(7.5, 3.0), layout="constrained")
        self.canvas = lazy_canvas(self.figure)
        self.canvas.setMinimumHeight(260)
        self.ax_methods, self.ax_formats = self.figure.subplots(1, 2, width_ratios=[3, 2])
        self._build_bars()
        self.caption = QLabel("")
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.canvas.setToolTip("\n".join(TIPS[p] for p in PARTS))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(controls)
        layout.addLayout(more)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.caption)

        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(80)
        self._debounce.timeout.connect(self.refresh)
        for sig in (self.dtype_combo.currentIndexChanged, self.batch_spin.valueChanged, self.seq_spin.valueChanged,
                    self.checkpoint_check.toggled):
            sig.connect(lambda *_: self._debounce.start())

    # --- figure ------------------------------------------------------------------------------------

    def _build_bars(self) -> None:
        import numpy as np

        ax = self.ax_methods
        x = np.arange(len(METHODS))
        self.stacks = {p: ax.bar(x, [0] * len(METHODS), 0.55, color=PART_COLOURS[p], label=PART_LABELS[p])
                       for p in PARTS}
        # The measured bar sits right of the trained method's bar, hidden until a run reports a peak.
        self.measured_bar = ax.bar([0.0], [0.0], 0.3, color=MEASURED_COLOUR, hatch="//", edgecolor="white",
                                   label="Measured peak")[0]
        self.measured_bar.set_visible(False)
        self.totals = [ax.text(i, 0, "", ha="center", va="bottom", fontsize=8) for i in x]
        self.measured_text = ax.text(0, 0, "", ha="center", va="bottom", fontsize=7, color="#555555")
        ax.set_xticks(x, [METHOD_LABELS[m] for m in METHODS], fontsize=8)
        ax.set_ylabel("memory (GiB)", fontsize=8)
        ax.set_title("Training memory by method (estimate)", fontsize=9)
        ax.tick_params(axis="y", labelsize=8)
        from matplotlib.patches import Patch

        handles = [Patch(color=PART_COLOURS[p], label=PART_LABELS[p]) for p in reversed(PARTS)]
        handles.append(Patch(facecolor=MEASURED_COLOUR, hatch="//", edgecolor="white", label="Measured peak"))
        # Below the axes: bars of any height (and the measured one) never hide under it.
        ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2,
                  frameon=False)
        ax.grid(axis="y", alpha=0.3)

        bx = self.ax_formats
        fx = np.arange(len(WEIGHT_FORMATS))
        self.format_bars = bx.bar(fx, [0] * len(WEIGHT_FORMATS), 0.6, color=PART_COLOURS["weights"])
        self.format_texts = [bx.text(i, 0, "", ha="center", va="bottom", fontsize=7) for i in fx]
        i8 = WEIGHT_FORMATS.index("int8")  # the measured INT8 bar, right of the estimate, shown once measured
        self.int8_bar = bx.bar([i8 + 0.36], [0.0], 0.24, color=MEASURED_COLOUR, hatch="//", edgecolor="white")[0]
        self.int8_bar.set_visible(False)
        self.int8_text = bx.text(i8 + 0.36, 0, "", ha="center", va="bottom", fontsize=7, color="#555555")
        bx.set_xticks(fx, [FORMAT_LABELS[f] for f in WEIGHT_FORMATS], fontsize=8)
        bx.set_ylabel("memory (GiB)", fontsize=8)
        bx.set_title("The weights alone", fontsize=9)
        bx.tick_params(axis="y", labelsize=8)
        bx.grid(axis="y", alpha=0.3)

    # --- inputs ------------------------------------------------------------------------------------

    def set_model(self, shape: ModelShape | None) -> None:
        self.shape = shape
        self.measured = None
        self.int8_measured = None
        self.refresh()

    def set_measured_int8(self, nbytes: int) -> None:
        """The loaded model's weights as really converted to INT8, beside the estimate."""
        self.int8_measured = int(nbytes)
        self.refresh()

    def set_training(self, *, method: str | None = None, batch_size: int | None = None, seq_len: int | None = None,
                     lora_rank: int | None = None, virtual_tokens: int | None = None,
                     gradient_checkpointing: bool | None = None, loss_tokens: int | None = None) -> None:
        """Follow the wizard's settings; the explainer's own controls stay free to play with."""
        if method is not None:
            self.chosen = method
        self.loss_tokens = loss_tokens
        if lora_rank is not None:
            self.lora_rank = lora_rank
        if virtual_tokens is not None:
            self.virtual_tokens = virtual_tokens
        for box, value in ((self.batch_spin, batch_size), (self.seq_spin, seq_len)):
            if value is not None:
                box.blockSignals(True)
                box.setValue(int(value))
                box.blockSignals(False)
        if gradient_checkpointing is not None:
            self.checkpoint_check.blockSignals(True)
            self.checkpoint_check.setChecked(bool(gradient_checkpointing))
            self.checkpoint_check.blockSignals(False)
        self._debounce.start()

    def set_measured(self, method: str, peak_bytes: int, where: str = "") -> None:
        """Draw a run's measured peak beside the estimate for its method."""
        self.measured = (method, int(peak_bytes), where) if peak_bytes else None
        self.refresh()

    @property
    def dtype(self) -> str:
        return self.dtype_combo.currentData()

    # --- drawing -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Recompute the estimates and move the bars (no new artists)."""
        self._debounce.stop()
        if self.shape is None:
            self.caption.setText("Load a model to see what training it costs.")
            return
        ests = estimate_all_methods(self.shape, self.dtype, self.batch_spin.value(), self.seq_spin.value(),
                                    lora_rank=self.lora_rank, virtual_tokens=self.virtual_tokens,
                                    gradient_checkpointing=self.checkpoint_check.isChecked(),
                                    loss_tokens=self.loss_tokens)
        self.estimates = ests
        gb = 2**30
        tops = []
        for i, m in enumerate(METHODS):
            bottom = 0.0
            for p in PARTS:
                rect = self.stacks[p][i]
                h = getattr(ests[m], p) / gb
                rect.set_y(bottom)
                rect.set_height(h)
                bottom += h
            tops.append(bottom)
            self.totals[i].set_position((i, bottom))
            self.totals[i].set_text(format_bytes(ests[m].total))
            self.totals[i].set_fontweight("bold" if m == self.chosen else "normal")
        for i, m in enumerate(METHODS):
            for p in PARTS:
                self.stacks[p][i].set_x(i - 0.275 - (0.16 if self.measured and self.measured[0] == m else 0))
        top = max(tops)
        if self.measured is not None:
            method, peak, _ = self.measured
            i = METHODS.index(method) if method in METHODS else 0
            self.measured_bar.set_visible(True)
            self.measured_bar.set_x(i + 0.13)
            self.measured_bar.set_height(peak / gb)
            self.measured_text.set_position((i + 0.28, peak / gb))
            self.measured_text.set_text(f"measured\n{format_bytes(peak)}")
            top = max(top, peak / gb)
        else:
            self.measured_bar.set_visible(False)
            self.measured_text.set_text("")
        self.ax_methods.set_ylim(0, top * 1.22 or 1)

        sizes = weights_by_format(self.shape.parameters)
        for i, fmt in enumerate(WEIGHT_FORMATS):
            self.format_bars[i].set_height(sizes[fmt] / gb)
            self.format_texts[i].set_position((i, sizes[fmt] / gb))
            self.format_texts[i].set_text(format_bytes(sizes[fmt]))
        self.int8_bar.set_visible(self.int8_measured is not None)
        if self.int8_measured is not None:
            self.int8_bar.set_height(self.int8_measured / gb)
            self.int8_text.set_position((WEIGHT_FORMATS.index("int8") + 0.36, self.int8_measured / gb))
            self.int8_text.set_text(f"measured\n{format_bytes(self.int8_measured)}")
        else:
            self.int8_text.set_text("")
        self.ax_formats.set_ylim(0, sizes["float32"] / gb * 1.22)
        self.ax_formats.set_title(f"The weights alone\n({self.shape.parameters / 1e6:,.0f}M parameters)", fontsize=9)
        self.canvas.draw_idle()
        self.caption.setText(self._caption(ests))
        self.sig_estimates_changed.emit(ests)

    def _caption(self, ests: dict) -> str:
        chosen = ests[self.chosen]
        full = ests["full"]
        parts = ", ".join(f"{PART_LABELS[p]} {format_bytes(v)}" for p, v in chosen.parts())
        text = (f"<b>{METHOD_LABELS[self.chosen]}</b> needs about <b>{format_bytes(chosen.total)}</b>: {parts}. "
                f"Full fine-tuning trains every weight, so it adds a gradient and two AdamW numbers per weight "
                f"({format_bytes(full.gradients + full.optimizer)} here). The rule of thumb: 1B parameters take "
                f"4 GB ({format_bytes(4e9)}) at 32 bits, 2 GB ({format_bytes(2e9)}) at 16 bits, 1 GB "
                f"({format_bytes(1e9)}) at 8 bits — for the weights alone. "
                f"({_shape_text(self.shape)}.)")
        note = precision_note(self.shape, self.dtype, self.batch_spin.value(), self.seq_spin.value(),
                              gradient_checkpointing=self.checkpoint_check.isChecked(), loss_tokens=self.loss_tokens)
        if note:
            text += f"<br>{note}"
        if self.measured is not None:
            method, peak, where = self.measured
            text += (f"<br>Measured peak of the last run ({METHOD_LABELS.get(method, method)}): "
                     f"<b>{format_bytes(peak)}</b>{' ' + where if where else ''}.")
        return text
