"""The Data step's right side: what the model will see (split sizes, what a maximum length cuts or
drops, the token-length histogram, the first examples as prompt and completion), or why the data
cannot be used yet."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QGroupBox, QLabel, QPushButton, QTextBrowser, QVBoxLayout

from playground.qt.finetune.charts import LengthHistogram
from playground.qt.finetune.page import WizardPage

SHOW_LINES = 12


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:SHOW_LINES])
    return shown + (f" … (+{len(lines) - SHOW_LINES} more)" if len(lines) > SHOW_LINES else "")


def say(label: QLabel, text: str) -> None:
    """Show ``text`` in ``label``; an empty label takes no room (no blank gap)."""
    label.setText(text)
    label.setVisible(bool(text))


class DataLook(QGroupBox):
    """'What the model will see': fed a DataPreview, or an error in plain words."""

    def __init__(self, parent=None) -> None:
        super().__init__("What the model will see", parent)
        self.status_label = WizardPage.note("")
        self.problem_label = WizardPage.error_label()
        for label in (self.status_label, self.problem_label):
            label.setVisible(False)
        self.mapping_button = QPushButton("Change the column mapping")
        self.mapping_button.setToolTip("Pick which columns hold the conversation and the summary.")
        self.mapping_button.setVisible(False)
        self.sizes_label = WizardPage.note("")
        self.histogram = LengthHistogram()
        self.histogram.setToolTip("How long the training examples are, in tokens. The red line is the maximum: "
                                  "examples to its right are cut or dropped.")
        self.preview_view = QTextBrowser()
        self.preview_view.setMinimumHeight(220)
        self.preview_view.setToolTip("The first training examples as the model sees them. Grey: the prompt "
                                     "(no loss). Highlighted: the completion the model learns to write.")
        lv = QVBoxLayout(self)
        for w in (self.status_label, self.problem_label, self.mapping_button, self.sizes_label, self.histogram):
            lv.addWidget(w)
        lv.addWidget(self.preview_view, 1)

    def status(self, text: str) -> None:
        say(self.status_label, text)

    def show_error(self, message: str, hint: str, offer_mapping: bool, max_length: int) -> None:
        self.status("")
        self.sizes_label.setText("")
        self.preview_view.clear()
        self.histogram.set_lengths([], max_length)
        self.histogram.setVisible(False)  # nothing to show until the data can be read
        self.preview_view.setVisible(False)
        say(self.problem_label, f"<b>{html.escape(message)}</b><br>{html.escape(hint)}")
        column_trouble = "column" in message.lower()
        self.mapping_button.setVisible(offer_mapping and column_trouble)

    def clear_error(self) -> None:
        say(self.problem_label, "")
        self.mapping_button.setVisible(False)

    def show_preview(self, preview, max_length: int, policy: str) -> None:
        self.histogram.setVisible(True)
        self.preview_view.setVisible(True)
        self.status("")
        self.histogram.set_lengths(preview.splits["train"].lengths, max_length)
        self.show_outcome(preview, max_length, policy)
        self.show_samples(preview)

    def show_outcome(self, p, max_len: int, policy: str) -> None:
        """Split sizes, and the rows a maximum length and policy would cut or drop (by line)."""
        self.histogram.set_max(max_len)
        sizes = p.sizes(max_len, policy)
        parts = [f"<b>{sizes[s]}</b> {s}" for s in ("train", "validation", "test")]
        text = "Examples: " + " · ".join(parts) + "."
        notes = []
        name = Path(p.splits["train"].source).name
        for sp in p.splits.values():
            if sp.empty_lines:
                notes.append(f"{len(sp.empty_lines)} empty row(s) skipped in {html.escape(sp.source)}: "
                             f"line(s) {_lines(sp.empty_lines)}")
        out = p.splits["train"].outcome(max_len, policy, p.encoder_decoder)
        if out["truncated"]:
            notes.append(f"{len(out['truncated'])} training example(s) longer than {max_len} tokens will have "
                         f"their conversation cut: line(s) {_lines(out['truncated'])}")
        if out["dropped"]:
            notes.append(f"{len(out['dropped'])} training example(s) longer than {max_len} tokens will be "
                         f"left out: line(s) {_lines(out['dropped'])}")
        lengths = p.splits["train"].lengths
        if lengths:
            ordered = sorted(lengths)
            text += (f" Tokens per training example: median {ordered[len(ordered) // 2]}, "
                     f"longest {ordered[-1]}, {sum(min(n, max_len) for n in lengths):,} in all.")
        if notes:
            text += "<br><small>" + "<br>".join(notes) + "</small>"
        self.sizes_label.setText(text)
        self.sizes_label.setToolTip(f"Rows are counted in {name}, line numbers as in the file.")

    def show_samples(self, preview) -> None:
        blocks = []
        for s in preview.samples:
            prompt = html.escape(s["prompt"]).replace("\n", "<br>")
            completion = html.escape(s["completion"]).replace("\n", "<br>")
            blocks.append(
                f"<p><small>line {s['line']} · prompt {s['prompt_tokens']} tokens · completion "
                f"{s['completion_tokens']} tokens</small><br><span style='color:#777777'>{prompt}</span>"
                f"<span style='background-color:#d7ecd0; color:#000000'>{completion}</span></p>")
        self.preview_view.setHtml("<hr>".join(blocks) or "<i>No training examples.</i>")


