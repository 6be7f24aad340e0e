"""The arena's leaderboard: a table and a chart of Bradley-Terry strengths with 95% intervals, the
position-bias check, and the loop back to Align (pairs sent, a reward model's held-out agreement)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.qt.widgets.make import button, note_label

COLUMNS = ["system", "rating", "95% CI", "votes", "W–L–T"]  # short: the table shares a narrow column with the chart
COLUMN_TIPS = [
    "The system (its kind and the model it runs on).",
    "Bradley-Terry strength on the Elo scale (1000 = average): 400 points more means 10 to 1 odds of winning.",
    "95% interval: where the rating falls in 95% of 200 refits on votes drawn again with replacement "
    "(bootstrap): overlapping intervals mean the votes cannot yet tell the two apart.",
    "Votes this system took part in.",
    "Won–lost–tied: wins, losses, and ties or both-bad.",
]


class ArenaBoard(QWidget):
    """Shows a core ``Leaderboard``; its buttons are wired by the page."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import EmptyState, make_canvas

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        for i, tip in enumerate(COLUMN_TIPS):
            self.table.horizontalHeaderItem(i).setToolTip(tip)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setMinimumHeight(90)
        self.figure, self.canvas = make_canvas(4.0, 2.2, min_size=(170, 140))
        self.ax = self.figure.add_subplot(111)
        self.empty = EmptyState(self.figure, "Each system's rating with its 95% interval\nappears here after "
                                             "the first votes.")
        self.canvas.setToolTip("Ratings with bootstrap 95% intervals; the dashed line is 1000, the average.")
        self.summary = note_label("", "How many votes the leaderboard stands on.")
        self.bias = note_label("", "With A and B drawn at random, a fair voter picks the left answer about half "
                                   "the time. A clear lean to one side is position bias: it says more about "
                                   "the layout or the voter than about the systems.")
        self.agreement = note_label("", "Train a reward model (a linear head on the bundled encoder, as the Align "
                                        "tab's quick one) on 3 of every 4 votes and count how often it ranks "
                                        "the held-out votes' winner first.")
        self.send_button = button("Send votes to Align",
                                  "Send the votes as preference pairs. Every vote for A or B becomes a "
                                  "(prompt, chosen, rejected) pair in the Align "
                                  "tab's labels, marked 'arena': its Reward model step trains on them with "
                                  "'Add my labels'. Ties and both-bad are left out; a pair is never sent twice.")
        self.agree_button = button("Measure agreement",
                                   "Does a reward model trained on some of your votes agree with the others? "
                                   "(a few seconds: the bundled encoder reads every answer)")
        self.export_button = button("Export votes (JSONL)…", "Every vote, one JSON object a line, with the "
                                    "prompt, both answers, who wrote them and your verdict.")
        self.undo_button = button("Undo last vote", "Remove the last vote (a slip of the key).")
        buttons = QGridLayout()  # two by two: a row of four asked for 650 px and the tab scrolled sideways
        for i, b in enumerate((self.send_button, self.agree_button, self.export_button, self.undo_button)):
            buttons.addWidget(b, i // 2, i % 2)
        buttons.setColumnStretch(2, 1)
        top = QHBoxLayout()
        top.addWidget(self.table, 3)
        top.addWidget(self.canvas, 2)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.summary)
        lay.addLayout(top, 1)
        lay.addWidget(self.bias)
        lay.addWidget(self.agreement)
        lay.addLayout(buttons)
        self.show_board(None)

    def show_board(self, board, count: int = 0) -> None:
        """A ``Leaderboard`` (None: no votes yet, or ``count`` votes that rank nothing)."""
        self.board = board
        for b in (self.send_button, self.agree_button, self.export_button, self.undo_button):
            b.setEnabled(count > 0)
        if board is None:
            self.table.setRowCount(0)
            self.summary.setText("No vote yet: generate two answers and vote." if not count else
                                 f"{count} vote{'s' if count != 1 else ''}, none between two different systems.")
            self.bias.setText("")
            self.empty.show(True)
            self.canvas.draw_idle()
            return
        self.table.setRowCount(len(board.standings))
        for r, s in enumerate(board.standings):
            values = [s.system, f"{s.rating:.0f}", f"{s.low:.0f} – {s.high:.0f}", str(s.votes),
                      f"{s.wins}–{s.losses}–{s.ties}"]
            for c, v in enumerate(values):
                self.table.setItem(r, c, QTableWidgetItem(v))
        extra = f"; {board.skipped} of a system against itself" if board.skipped else ""
        self.summary.setText(f"{board.votes} vote{'s' if board.votes != 1 else ''} between different systems{extra}. "
                             + " ".join(board.notes))
        self.bias.setText(board.position.sentence())
        self._plot(board)

    def _plot(self, board) -> None:
        from playground.qt.design import current_colours

        ax = self.ax
        ax.clear()
        rows = list(reversed(board.standings))
        ys = range(len(rows))
        ratings = [s.rating for s in rows]
        errors = [[s.rating - s.low for s in rows], [s.high - s.rating for s in rows]]
        ax.errorbar(ratings, list(ys), xerr=errors, fmt="o", capsize=4)
        ax.axvline(1000, linestyle="--", linewidth=0.8, color=current_colours().lesson)
        ax.set_yticks(list(ys))
        ax.set_yticklabels([_short(s.system) for s in rows], fontsize=8)
        ax.set_xlabel("rating (Elo scale)")
        ax.set_ylim(-0.6, len(rows) - 0.4)
        ax.margins(x=0.15)  # a point at the end of its interval stays off the frame
        self.empty.show(False)
        self.canvas.draw_idle()


def _short(name: str, width: int = 22) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"
