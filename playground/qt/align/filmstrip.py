"""The filmstrip: the same held-out dialogues summarized (greedy) at step 0, 5, 10, ... of an
align run, each frame with the reward it would earn, its ROUGE-L and the step's KL, so a learner
sees the policy drift, and a reward that climbs while the summaries get worse."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from playground.core.base.units import format_score


def _cell(sample: dict) -> QTableWidgetItem:
    reward = sample.get("reward")
    score = f"reward {reward:+.3f}, " if reward is not None else ""
    text = sample["completion"] or "(empty)"
    short = text if len(text) <= 160 else text[:157] + "..."
    item = QTableWidgetItem(f"{short}\n[{score}ROUGE-L {format_score(sample.get('rouge_l', 0.0), 'rougeL')}]")
    item.setToolTip(f"{text}\n\nreference: {sample.get('reference', '')}")
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


class Filmstrip(QTableWidget):
    """One row per monitor step, one column per held-out dialogue."""

    def __init__(self) -> None:
        super().__init__(0, 0)
        self.setWordWrap(True)
        self.setToolTip("The same held-out dialogues at each monitor step (greedy, so only the policy changes). "
                        "Hover a cell for the whole summary and the reference.")
        self.frames: list[dict] = []

    def clear_frames(self) -> None:
        self.frames = []
        self.setRowCount(0)
        self.setColumnCount(0)

    def add_frame(self, step: int, samples: list, kl: float | None) -> None:
        self.frames.append({"step": step, "samples": samples, "kl": kl})
        if self.columnCount() < len(samples):
            self.setColumnCount(len(samples))
            self.setHorizontalHeaderLabels([str(s.get("prompt_id", i + 1)) for i, s in enumerate(samples)])
            for c in range(len(samples)):
                self.setColumnWidth(c, 360)
        row = self.rowCount()
        self.insertRow(row)
        kl_text = f" - KL {kl:.4f}" if kl is not None else ""
        self.setVerticalHeaderItem(row, QTableWidgetItem(f"step {step}{kl_text}"))
        for c, s in enumerate(samples):
            self.setItem(row, c, _cell(s))
        self.resizeRowToContents(row)
        self.scrollToBottom()
