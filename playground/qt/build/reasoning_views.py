"""The Reasoning section's views: one column per strategy (full text, the number, right or wrong, tokens and
time; the vote's bars for self-consistency; the program and the sandbox's verdict for PAL), and the accuracy
over the set as a table and a chart with 95% intervals."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QFrame,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from playground.qt.widgets.make import button, note_label


def _verdict_html(result) -> str:
    from playground.core.reasoning.answers import format_number
    from playground.qt.design import current_colours

    c = current_colours()
    colour, word = {True: (c.ok, "right"), False: (c.error, "wrong"), None: (c.lesson, "ungraded")}[result.right]
    return (f"<b>{format_number(result.answer)}</b> · <span style='color:{colour}'><b>{word}</b></span><br>"
            f"{result.tokens:,} new tokens (+{result.prompt_tokens:,} prompt) · {result.seconds:.1f} s")


class StrategyColumn(QFrame):
    """One strategy's result. The PAL column's program can be edited and run again in the sandbox."""

    def __init__(self, key: str, on_run_program=None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.reasoning.prompts import STRATEGIES

        spec = STRATEGIES[key]
        self.key = key
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.title = QLabel(f"<b>{spec.label}</b>")
        self.title.setToolTip(spec.sentence)
        self.title.setWordWrap(True)
        self.verdict = note_label("not run yet", "The number read from the reply (after 'The answer is', else the "
                                  "last number), right or wrong against the gold answer, the new tokens it cost and "
                                  "the seconds it took.")
        self.verdict.setWordWrap(True)
        self.text = QTextEdit()
        self.text.setReadOnly(True)
        self.text.setMinimumHeight(30)
        self.text.setToolTip("The reply exactly as the model wrote it (the prompt opened it with: "
                             f"{spec.opening.strip() or 'nothing'}).")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.verdict)
        layout.addWidget(self.text, 2)
        self.vote_chart = self.program = self.run_program_button = self.sandbox_label = None
        if spec.sampled:
            self.vote_chart = VoteChart()
            layout.addWidget(self.vote_chart.canvas, 2)
        if spec.program:
            self.text.setMaximumHeight(70)
            self.program = QPlainTextEdit()
            self.program.setMinimumHeight(30)
            self.program.setToolTip("The program taken from the reply. Edit it (try 'import os' or 2 ** 10 ** 10) and "
                                    "press Run in sandbox: the sandbox reads it first and refuses what is outside "
                                    "its whitelist, with the reason.")
            self.run_program_button = button("Run in sandbox", "Check this program against the whitelist and, if it "
                                              "passes, run it with the step and time limits.", on_run_program)
            self.sandbox_label = note_label("", "What the sandbox made of the program: its result, the reason it "
                                            "refused it (never run), or why the run stopped.")
            self.sandbox_label.setWordWrap(True)
            layout.addWidget(self.program, 2)
            layout.addWidget(self.run_program_button)
            layout.addWidget(self.sandbox_label)

    def clear(self, note: str = "waiting…") -> None:
        self.verdict.setText(note)
        self.text.clear()
        if self.vote_chart is not None:
            self.vote_chart.clear()
        if self.program is not None:
            self.program.clear()
            self.sandbox_label.setText("")

    def show_result(self, result) -> None:
        self.verdict.setText(_verdict_html(result))
        if self.vote_chart is not None and result.vote is not None:
            from playground.core.reasoning.answers import format_number

            lines = [f"<b>path {i}</b> (seed {p.seed}) → {format_number(p.answer)}<br>{html.escape(p.text.strip())}"
                     for i, p in enumerate(result.paths, start=1)]
            self.text.setHtml("<br><br>".join(lines))
            self.vote_chart.show(result.vote)
        else:
            self.text.setPlainText(result.text)
        if self.program is not None:
            self.program.setPlainText(result.program)
            self.show_sandbox(result.sandbox)

    def show_sandbox(self, sandbox) -> None:
        from playground.qt.design import current_colours

        if sandbox is None:
            self.sandbox_label.setText("")
            return
        colour = current_colours().ok if sandbox.ok else current_colours().error
        self.sandbox_label.setText(f"<span style='color:{colour}'>{html.escape(sandbox.describe())}</span>")


class VoteChart:
    """Self-consistency's vote: one bar per answer (paths that gave it), the winner filled, abstentions grey."""

    def __init__(self) -> None:
        from playground.qt.widgets.plot import EmptyState, make_canvas

        self.figure, self.canvas = make_canvas(2.6, 1.8, min_size=(120, 70))
        self.ax = self.figure.add_subplot(111)
        self.empty = EmptyState(self.figure, "The vote's bars appear here.")
        self.shown: list = []

    def show(self, vote) -> None:
        from playground.core.reasoning.answers import format_number
        from playground.qt.design import CHART_COLOURS, current_colours

        ax = self.ax
        ax.clear()
        labels = [format_number(a) for a, _ in vote.counts] + (["none"] if vote.abstained else [])
        counts = [n for _, n in vote.counts] + ([vote.abstained] if vote.abstained else [])
        colours = [CHART_COLOURS[0] if i == 0 else CHART_COLOURS[7] for i in range(len(vote.counts))]
        colours += [current_colours().placeholder] if vote.abstained else []
        ax.bar(range(len(labels)), counts, color=colours)
        ax.set_xticks(range(len(labels)), labels, fontsize=8)
        ax.set_ylabel("paths", fontsize=8)
        ax.set_yticks(range(0, max(counts, default=1) + 1))
        ax.set_title(f"vote: {format_number(vote.winner)}" + (" (a tie)" if vote.tied else ""), fontsize=9)
        self.shown = list(zip(labels, counts))
        self.empty.show(False)
        self.canvas.draw_idle()

    def clear(self) -> None:
        self.ax.clear()
        self.shown = []
        self.empty.show(True)
        self.canvas.draw_idle()


class AccuracyView(QWidget):
    """Accuracy per strategy over the set: a table (right/graded, accuracy, 95% interval, tokens and seconds per
    problem) and bars with the interval as error bars."""

    COLUMNS = ("Strategy", "Right", "Accuracy", "95% interval", "Tokens / problem", "s / problem")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.qt.widgets.plot import EmptyState, make_canvas

        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMaximumHeight(170)
        self.table.setMinimumHeight(60)
        self.table.setToolTip("Right out of the graded problems; the 95% interval is Wilson's: with few problems it is "
                              "wide, and two strategies whose intervals overlap are not shown to differ.")
        self.figure, self.canvas = make_canvas(4.5, 2.6, min_size=(240, 100))
        self.ax = self.figure.add_subplot(111)
        self.empty = EmptyState(self.figure, "Accuracy per strategy, with its 95% interval,\nappears here after "
                                "Run the whole set.")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.canvas, 2)
        self.rows: list = []

    def show_report(self, report) -> None:
        from playground.qt.design import CHART_COLOURS

        rows = report.rows()
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, s in enumerate(rows):
            lo, hi = s.interval
            cells = (s.label, f"{s.right} / {s.graded}", f"{s.accuracy:.0%}", f"{lo:.0%} – {hi:.0%}",
                     f"{s.tokens_per_problem:,.0f}", f"{s.seconds_per_problem:.1f}")
            for j, text in enumerate(cells):
                self.table.setItem(i, j, QTableWidgetItem(text))
        ax = self.ax
        ax.clear()
        acc = [s.accuracy * 100 for s in rows]
        err = [[max(0.0, s.accuracy - s.interval[0]) * 100 for s in rows],
               [max(0.0, s.interval[1] - s.accuracy) * 100 for s in rows]]
        ax.bar(range(len(rows)), acc, yerr=err, capsize=4, color=[CHART_COLOURS[i % 8] for i in range(len(rows))])
        ax.set_xticks(range(len(rows)), [s.label.replace(" (", "\n(") for s in rows], fontsize=8)
        ax.set_ylim(0, 100)
        ax.set_ylabel("accuracy (%)")
        ax.set_title(f"{report.done} of {report.total} problems" + (" (stopped)" if report.stopped else ""),
                     fontsize=9)
        self.empty.show(False)
        self.canvas.draw_idle()
