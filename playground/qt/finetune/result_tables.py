"""The Result step's two tables: ROUGE and BLEU before / after / change, and the held-out summaries
side by side (reference, before, after), with the text helpers they use."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QSizePolicy, QTableWidget, QTableWidgetItem

from playground.core.base.units import format_score
from playground.core.finetune.report import score_delta

#: A sample cell shows this many characters (a few lines); the whole text is in its tooltip.
CELL_CHARS = 180
METRICS = (("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L"), ("rougeLsum", "ROUGE-Lsum"),
           ("bleu", "BLEU"))


def clip(text: str, chars: int = CELL_CHARS) -> str:
    """The start of ``text``, cut at a word, with an ellipsis when it goes on."""
    text = " ".join(text.split())
    if len(text) <= chars:
        return text
    return text[:chars].rsplit(" ", 1)[0] + " …"


def scores_table() -> QTableWidget:
    """Before, After and Change rows, one column per metric."""
    table = QTableWidget(3, len(METRICS))
    table.setVerticalHeaderLabels(["Before", "After", "Change"])
    table.setHorizontalHeaderLabels([m[1] for m in METRICS])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
    table.setToolTip("Scores on the held-out test dialogues, ROUGE and BLEU on one scale (0–100, as in "
                     "every tab), greedy decoding with the training template. The brackets hold 95% "
                     "bootstrap intervals; the change is computed from the values shown.")
    return table


def samples_table() -> QTableWidget:
    """One row per held-out dialogue: the reference, the summary before and the one after."""
    table = QTableWidget(0, 3)
    table.setHorizontalHeaderLabels(["Reference", "Before fine-tuning", "After fine-tuning"])
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setWordWrap(True)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.setMinimumHeight(120)
    # it takes the room left and asks for none (its rows' height would make the step scroll at 1200x800)
    table.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
    table.setToolTip("Summaries of test dialogues the model never trained on; the reference was "
                     "written by a person.")
    return table


def fill_scores(table: QTableWidget, rouge: dict) -> None:
    """The report's scores before and after (with their intervals), and the change between them."""
    before, after = rouge.get("before") or {}, rouge.get("after") or {}
    for col, (key, _) in enumerate(METRICS):
        for row, scores in enumerate((before, after)):
            value = scores.get(key)
            text = format_score(value, key)
            ci = (scores.get("intervals") or {}).get(key)
            if value is not None and ci and key != "bleu":
                text += f"  [{format_score(ci[0], key)}–{format_score(ci[1], key)}]"
            table.setItem(row, col, QTableWidgetItem(text))
        table.setItem(2, col, QTableWidgetItem(score_delta(before, after, key)))


def fill_samples(table: QTableWidget, samples: list) -> None:
    """Each sample's texts, clipped, the whole text in the cell's tooltip."""
    table.setRowCount(len(samples))
    for i, s in enumerate(samples):
        for j, key in enumerate(("reference", "before", "after")):
            text = s.get(key, "") or ""
            item = QTableWidgetItem(clip(text) or "(empty)")
            item.setToolTip(text)
            table.setItem(i, j, item)
