"""The bar above the tabs: which model is loaded, where it runs, in which precision, its size.

One line at every width, zoom and with the Labs dock open (issue 28: it wrapped into a ten-line column
and pushed the tabs 150 px down): the short facts are elided when the room runs out, and every detail
(parameters, memory, device, precision, context window, vocabulary, chat template, adapter) is in the
bar's tooltip.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from playground.core.base.units import format_bytes
from playground.qt.context import AppContext
from playground.qt.widgets.make import show_progress


NO_ADAPTER = "No adapter"
NAME_CHARS = 18  # an adapter's name is cut to this many characters in the bar (whole in the tooltip)
ROOM_CHARS = 10  # the room kept for the adapter's name: about this many characters, then it ends in "…"
FACTS_TIP = ("Parameters: the number of learned weights. Memory: weights × bytes per weight (4 for float32, 2 for "
             "float16/bfloat16). Context: the most tokens the model can read at once.")
MEMORY_REFRESH_MS = 5000  # how often the memory figure is read again (a /proc read and a walk of a few models)
MEMORY_WORDS = {
    "model": "the weights of the model every tab uses",
    "precision copy": "the model converted in Lifecycle → Precision ('Use this precision'); the model as loaded "
                      "stays too, so it can be converted again",
    "fine-tuned copy": "the fine-tuned or aligned model the Adapter switch puts in every tab (the weights it did not "
                       "change are shared with the model)",
    "fine-tuned copy (off)": "the attached fine-tuned model, switched off (the weights it did not change are shared)",
    "encoder": "the sentence encoder (MiniLM) for similarity and retrieval; let go after two minutes unused",
    "fine-tune result": "the model a Fine-tune run just trained, kept for 'Use in playground'",
    "aligned copy": "the model an Align run just trained, kept for 'Use this model'",
    "other": "Python, Qt, torch and the other libraries, tokenizers, the results tabs show, and free heap "
             "not yet given back",
}


def memory_tip(held) -> str:
    """The memory figure's tooltip: each line of what is held, with what it is."""
    from playground.core.base.units import format_bytes

    if not held:
        return ""
    rows = "".join(f"<tr><td><b>{html.escape(h.label)}</b></td><td>{format_bytes(h.bytes)}</td>"
                   f"<td>{html.escape(MEMORY_WORDS.get(h.label, ''))}</td></tr>" for h in held)
    total = format_bytes(sum(h.bytes for h in held))
    return (f"<p><b>In memory: {total}</b> resident (what this program holds in RAM). Copies no longer used "
            f"are given back when a long job ends.</p><table>{rows}</table>")


class ElidedLabel(QLabel):
    """A one-line label that ends in "…" when it has less room than its text (``text()`` stays whole).

    Its minimum width is a few characters, so a long line never sets the window's minimum width
    (at a projector's zoom it pushed the window wider than the screen) and never wraps.
    """

    def __init__(self, text: str = "", parent: QWidget | None = None, keep: int = 4) -> None:
        super().__init__(text, parent)
        self.setWordWrap(False)
        self.keep = keep  # characters kept before it elides (a model's name keeps more than its facts)

    def minimumSizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(min(fm.horizontalAdvance(self.text()), fm.horizontalAdvance("n" * self.keep + "…")),
                     fm.height())

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance(self.text()) + 2, fm.height())

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, rect.width())
        if shown != self.text() and len(shown) <= self.keep:
            shown = "…"  # a stub such as "135…" says nothing: the tooltip has it all
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), shown)


class ModelBar(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        # The app loads a model right after the window paints: "No model loaded" read as a failure
        # for the seconds before the load starts.
        self.name_label = ElidedLabel("Loading the model…", keep=12)
        font = self.name_label.font()
        font.setBold(True)
        self.name_label.setFont(font)
        self.details_label = ElidedLabel("")
        self.details_label.setObjectName("modelFacts")
        # What the process holds, in words (issue 35): "model 513 MiB · encoder 87 MiB · other 700 MiB".
        self.memory_label = ElidedLabel("", keep=0)  # gives way first: the facts and the name keep their room
        self.memory_label.setObjectName("modelMemory")
        self.held: list = []  # the Held lines last shown
        self.loaded_info = None
        self._update_tooltip()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.setVisible(False)
        # Always there, at one width (disabled while no adapter is attached): attaching one must not
        # make the bar's details wrap onto a second line and push every tab down.
        self.adapter_check = QCheckBox(NO_ADAPTER)
        self.adapter_check.setToolTip(
            "On: every tab uses the fine-tuned model (the base model plus the adapter trained in the Fine-tune "
            "tab). Off: the base model as it was. Flip it to compare the two on the same prompt. "
            "'Use in playground' on a Fine-tune result attaches one.")
        self.adapter_check.setEnabled(False)
        # The room is reserved by a box of fixed width; the check box keeps its natural size inside
        # it (a stretched QCheckBox ignores clicks beside its text).
        self.adapter_box = QWidget()
        box = QHBoxLayout(self.adapter_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.adapter_check)
        box.addStretch(1)
        self._fit_adapter_check()
        self.adapter_check.toggled.connect(self.context.use_adapter)
        self.adapter_check.toggled.connect(lambda _: self._update_tooltip())  # after the switch
        self.change_button = QPushButton("Change model…")
        self.change_button.setToolTip("Load the bundled model, a local folder, a model from the "
                                      "Hugging Face cache, or download one from the Hub.")
        self.title_label = QLabel("Model:")
        layout.addWidget(self.title_label)
        # The name keeps its room before the facts do; both give way (elided) rather than wrap.
        layout.addWidget(self.name_label, 0)
        layout.addWidget(self.details_label, 1)
        layout.addWidget(self.memory_label, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.adapter_box)
        layout.addWidget(self.change_button)
        context.sig_model_loading.connect(self._on_loading)
        context.sig_model_changed.connect(self._on_changed)
        context.sig_model_load_failed.connect(self._on_failed)
        context.sig_busy.connect(self._on_busy)
        context.sig_adapter_changed.connect(self._on_adapter)
        self._memory_timer = QTimer(self)  # the resident figure moves as tabs work: read it now and then
        self._memory_timer.setInterval(MEMORY_REFRESH_MS)
        self._memory_timer.timeout.connect(self.refresh_memory)
        self._memory_timer.start()
        keeper = getattr(context, "memory", None)
        if keeper is not None:
            keeper.sig_released.connect(self.refresh_memory)
        if context.session.current is not None:  # a bar made after the load still shows it
            self._on_changed(context.session.current)
        if context.session.adapter is not None:  # and the adapter attached before it
            self._on_adapter(context.session.adapter)

    def _fit_adapter_check(self) -> None:
        fm = self.adapter_check.fontMetrics()
        indicator = self.adapter_check.sizeHint().width() - fm.horizontalAdvance(self.adapter_check.text())
        self.adapter_box.setFixedWidth(indicator + fm.horizontalAdvance("Adapter: " + "n" * ROOM_CHARS))
        self._indicator = indicator
        if getattr(self, "_adapter_name", None):
            self._show_adapter_name()

    def _show_adapter_name(self) -> None:
        """'Adapter: <name>', the name cut to the box (to NAME_CHARS characters at most; whole in the tooltip)."""
        name = self._adapter_name
        short = name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"
        fm = self.adapter_check.fontMetrics()
        room = self.adapter_box.width() - self._indicator - fm.horizontalAdvance("Adapter: ")
        self.adapter_check.setText("Adapter: " + fm.elidedText(short, Qt.TextElideMode.ElideRight, room))

    def changeEvent(self, event) -> None:
        from PySide6.QtCore import QEvent

        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # the presenter's zoom
            self._fit_adapter_check()

    def _on_loading(self, name: str) -> None:
        self.progress.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress.setFormat("Loading…")  # the name is in name_label: a 220 px bar cuts it
        self.progress.setToolTip(f"Loading {name}…")
        if self.context.session.current is None:
            self.name_label.setText(f"Loading {name}…")

    def _on_busy(self, message: str, fraction) -> None:
        if not message:
            self.progress.setVisible(False)
            return
        self.progress.setVisible(True)
        show_progress(self.progress, fraction)
        self.progress.setToolTip(message)

    def _on_changed(self, loaded) -> None:
        if self.context.session.adapter is None:
            self._on_adapter(None)
        info = loaded.info
        self.loaded_info = info
        self.progress.setVisible(False)
        self.name_label.setText(info.name)
        self.details_label.setText(
            f"{info.parameters / 1e6:,.0f}M parameters · {format_bytes(info.memory_bytes)} · {info.device} · "
            f"{info.dtype} · context {info.context_window:,} tokens")
        self.refresh_memory()

    def refresh_memory(self) -> None:
        """Read what the process holds now and show it (the line and the tooltip)."""
        from playground.qt.memory import held_now

        self.held = held_now(self.context)
        self.memory_label.setText(f"In memory: {self.held_text(' · ')}" if self.held else "")
        tip = memory_tip(self.held)
        self.memory_label.setToolTip(tip)
        self._update_tooltip()

    def held_text(self, sep: str = ", ") -> str:
        """'model 513 MiB, encoder 87 MiB, other 712 MiB' (empty before the first reading)."""
        from playground.core.base.units import format_bytes

        return sep.join(f"{h.label} {format_bytes(h.bytes)}" for h in self.held)

    def details(self) -> list[tuple[str, str]]:
        """What the bar's tooltip lists: (what, value) for the loaded model and its adapter."""
        info = self.loaded_info
        if info is None:
            return []
        session = self.context.session
        adapted = session.adapter
        if adapted is None:
            adapter = "none (the base model)"
        else:
            name = adapted.extras.get("adapter_name") or "fine-tuned"
            adapter = f"{name} ({'on' if session.adapter_on else 'off: the base model answers'})"
        return [("Kind", info.kind), ("Parameters", f"{info.parameters:,} ({info.parameters / 1e6:,.0f}M)"),
                ("Memory", f"{format_bytes(info.memory_bytes)} of weights"), ("Device", info.device),
                ("Precision", info.dtype), ("Context window", f"{info.context_window:,} tokens"),
                ("Vocabulary", f"{info.vocab_size:,} tokens"),
                ("Chat template", "yes" if info.has_chat_template else "no"), ("Adapter", adapter)] + (
                    [("In memory", f"{format_bytes(sum(h.bytes for h in self.held))}: {self.held_text()}")]
                    if self.held else [])

    def _update_tooltip(self) -> None:
        rows = "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
                       for k, v in self.details())
        name = html.escape(self.loaded_info.name) if self.loaded_info is not None else "No model yet"
        tip = (f"<p><b>{name}</b>: the model every tab uses. A language model predicts the next token from the "
               f"ones before it.</p>{'<table>' + rows + '</table>' if rows else ''}<p>{html.escape(FACTS_TIP)}</p>")
        for w in (self, self.name_label, self.details_label):
            w.setToolTip(tip)

    def _on_adapter(self, adapted) -> None:
        session = self.context.session
        self.adapter_check.setEnabled(adapted is not None)
        if adapted is not None:
            name = adapted.extras.get("adapter_name") or "fine-tuned"
            self._adapter_name = name
            self._show_adapter_name()
            self.adapter_check.setStatusTip(name)
        else:
            self._adapter_name = None
            self.adapter_check.setText(NO_ADAPTER)
        self.adapter_check.blockSignals(True)
        self.adapter_check.setChecked(session.adapter_on)
        self.adapter_check.blockSignals(False)
        self.refresh_memory()

    def _on_failed(self, message: str, hint: str) -> None:
        self.progress.setVisible(False)
        if self.context.session.current is None:
            self.name_label.setText("No model loaded")
