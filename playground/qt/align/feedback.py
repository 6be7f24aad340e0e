"""Step 1, Feedback: the learner labels pairs of completions; labels are kept in trl's pair
format under the user data folder and export / import as JSONL."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from playground.qt.widgets.make import button, hbox, note_label, spin


#: Heights (px) that keep the dialogue, both summaries and A / B / Tie / Skip on screen at 1200 x 800
DIALOGUE_HEIGHT, SUMMARY_HEIGHT = 150, 130


class FeedbackPage(QWidget):
    sig_labels_changed = Signal(int)
    """the number of the learner's labelled pairs (kept in core's ``learner_labels_path()``)"""
    sig_labels = Signal(list)
    """the learner's labelled pairs (PreferencePair), after each change"""
    sig_dialogue_changed = Signal(object)
    """the bundled PreferencePair of the dialogue the learner picked"""

    def __init__(self, panel) -> None:
        super().__init__()
        from playground.core.align.preferences import bundled_preferences, learner_labels

        self.panel = panel
        self.pairs = bundled_preferences("train")
        self.labels: list = learner_labels()
        self.current: tuple | None = None  # (prompt, a, b, dialogue number)
        lay = QVBoxLayout(self)
        lay.addWidget(panel.lesson(
            "<b>Alignment starts with people's preferences.</b> Pick a dialogue, let the model write two summaries, "
            "and say which is better: each choice becomes a ranked pair (prompt, chosen, rejected), the data "
            "a reward model learns from. The bundled set has 240 such pairs, made by rule: faithful vs invented "
            "facts, concise vs rambling, summary vs copy, neutral vs rude, third vs first person."))
        self.index = spin(1, len(self.pairs), tip="Which bundled dialogue to sample two summaries for.")
        self.sample = button("Sample two summaries", "The current model writes two summaries with random "
                             "sampling (temperature 1).")
        lay.addLayout(hbox(QLabel("Dialogue"), self.index, self.sample, 1))
        self.dialogue = QPlainTextEdit()  # what is being summarized: the learner judges against it
        self.dialogue.setReadOnly(True)
        self.dialogue.setToolTip("The dialogue the two summaries are for (the prompt the model reads).")
        self.dialogue.setMaximumHeight(DIALOGUE_HEIGHT)
        lay.addWidget(self.dialogue)
        self.bundled = note_label()
        lay.addWidget(self.bundled)
        pair = QHBoxLayout()
        self.a, self.b = QPlainTextEdit(), QPlainTextEdit()
        for box, name in ((self.a, "A"), (self.b, "B")):
            box.setReadOnly(True)
            box.setPlaceholderText(f"Summary {name} appears here")
            # a summary of 40 tokens is a few lines: the boxes stay short so A / B / Tie / Skip stay in view
            box.setMaximumHeight(SUMMARY_HEIGHT)
            pair.addWidget(box)
        lay.addLayout(pair)
        buttons = QHBoxLayout()
        self.pick_a, self.pick_b = QPushButton("A is better"), QPushButton("B is better")
        self.tie, self.skip = QPushButton("Tie"), QPushButton("Skip")
        self.tie.setToolTip("Neither is better: a tie teaches a reward model nothing, so it is not stored.")
        for w in (self.pick_a, self.pick_b, self.tie, self.skip):
            w.setEnabled(False)
            buttons.addWidget(w)
        buttons.addStretch(1)
        self.export_btn, self.import_btn = QPushButton("Export labels..."), QPushButton("Import labels...")
        buttons.addWidget(self.export_btn)
        buttons.addWidget(self.import_btn)
        lay.addLayout(buttons)
        self.count = QLabel()
        lay.addWidget(self.count)
        lay.addStretch(1)  # a taller tab (another step's plots) leaves its room below, not in the boxes
        self.sample.clicked.connect(self.sample_two)
        self.pick_a.clicked.connect(lambda: self.label("a"))
        self.pick_b.clicked.connect(lambda: self.label("b"))
        self.tie.clicked.connect(lambda: self.label(None))
        self.skip.clicked.connect(lambda: self.label(None))
        self.export_btn.clicked.connect(self.export_labels)
        self.import_btn.clicked.connect(self.import_labels)
        self.index.valueChanged.connect(self._show_bundled)
        self._show_bundled()
        self._count()
        panel.installEventFilter(self)

    def _show_bundled(self) -> None:
        p = self.pairs[self.index.value() - 1]
        self.dialogue.setPlainText(p.prompt)
        if self.current is not None and self.current[3] != self.index.value():  # another dialogue: its pair goes
            self._clear_pair()
        self.bundled.setText(f"Bundled pair for this dialogue ({p.reason}): chosen = the reference summary; "
                             f"rejected = «{p.rejected[:160]}…»")
        self.sig_dialogue_changed.emit(p)

    def _count(self) -> None:
        from playground.core.align.preferences import learner_labels_path

        arena = sum(p.reason == "arena" for p in self.labels)  # pairs sent from the Evaluate tab's arena
        source = f", {arena} from arena votes" if arena else ""
        self.count.setText(f"Your labels: {len(self.labels)} pairs{source} (kept in {learner_labels_path()})")
        self.sig_labels_changed.emit(len(self.labels))
        self.sig_labels.emit(list(self.labels))

    def announce(self) -> None:
        """Emit the current dialogue and labels (for pages wired after this one was built)."""
        self._show_bundled()
        self._count()

    def reload_labels(self) -> None:
        """Read the labels again from disk (the Evaluate tab's arena adds pairs there) and recount."""
        from playground.core.align.preferences import learner_labels

        fresh = learner_labels()
        if fresh != self.labels:
            self.labels = fresh
            self._count()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.reload_labels()

    def eventFilter(self, watched, event) -> bool:
        from PySide6.QtCore import QEvent

        if watched is self.panel and event.type() == QEvent.Type.Show:
            self.reload_labels()  # the Align tab opened on another step: its reward model sees the arena's pairs
        return super().eventFilter(watched, event)

    def sample_two(self) -> None:
        loaded = self.panel.context.ready_model(self.panel.say)
        if loaded is None:
            return
        from playground.core.align.config import AlignData
        from playground.core.align.preferences import truncate_prompt

        index = self.index.value()
        prompt = truncate_prompt(loaded.tokenizer, self.pairs[index - 1].prompt, AlignData().max_prompt_tokens)

        def work(handle):
            from playground.core.align.policy import sample

            return prompt, sample(loaded.model, loaded.tokenizer, [prompt], 2, 40).texts, index

        self._clear_pair()
        self.a.setPlaceholderText("Sampling summary A...")
        self.b.setPlaceholderText("Sampling summary B...")
        self.sample.setEnabled(False)
        self.panel.slot.start("Sampling two summaries", work, on_done=self._sampled,
                              on_finished=lambda *_: self.sample.setEnabled(True))

    def _clear_pair(self) -> None:
        self.current = None
        self.a.clear()
        self.b.clear()
        for w in (self.pick_a, self.pick_b, self.tie, self.skip):
            w.setEnabled(False)

    def _sampled(self, result) -> None:
        prompt, (a, b), index = result
        if index != self.index.value():  # the learner moved to another dialogue meanwhile
            self.a.setPlaceholderText("Summary A appears here")
            self.b.setPlaceholderText("Summary B appears here")
            return
        self.current = (prompt, a, b, index)
        self.a.setPlaceholderText("Summary A appears here")
        self.b.setPlaceholderText("Summary B appears here")
        self.a.setPlainText(a)
        self.b.setPlainText(b)
        for w in (self.pick_a, self.pick_b, self.tie, self.skip):
            w.setEnabled(True)

    def label(self, better: str | None) -> None:
        from playground.core.align.preferences import PreferencePair, learner_labels_path, save_preferences

        if self.current is None:
            return
        prompt, a, b, _ = self.current
        if better is not None and a.strip() != b.strip():
            chosen, rejected = (a, b) if better == "a" else (b, a)
            self.reload_labels()  # another tab (the arena) may have added pairs since
            self.labels.append(PreferencePair(prompt, chosen, rejected, "learner"))
            save_preferences(self.labels, learner_labels_path())
        self._clear_pair()
        self._count()
        self.next_pair()

    def next_pair(self) -> None:
        """After a label (or Tie / Skip): the next dialogue, and two new summaries for it."""
        self.index.setValue(self.index.value() % len(self.pairs) + 1)
        self.sample_two()

    def export_labels(self) -> None:
        from playground.core.align.preferences import save_preferences

        path, _ = QFileDialog.getSaveFileName(self, "Export labels", "labels.jsonl", "JSONL (*.jsonl)")
        if path:
            save_preferences(self.labels, path)
            self.panel.say(f"Exported {len(self.labels)} pairs to {path}.")

    def import_labels(self, path: str = "") -> None:
        from playground.core.align.preferences import learner_labels_path, load_preferences, save_preferences
        from playground.core.base.errors import InputError

        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Import labels", "", "JSONL (*.jsonl)")
        if not path:
            return
        try:
            new = load_preferences(path)
        except InputError as exc:
            self.panel.say(f"{exc.message} {exc.hint}")
            return
        self.labels.extend(new)
        save_preferences(self.labels, learner_labels_path())
        self.panel.say(f"Imported {len(new)} pairs.")
        self._count()
