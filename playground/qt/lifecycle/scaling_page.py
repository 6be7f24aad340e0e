"""Scaling-laws section: the compute calculator on the N–D plane, and the miniature experiment."""

from __future__ import annotations

import html
import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from playground.qt.binding import Draft, bind, persist
from playground.qt.lifecycle.common import MadeHere, RunBar, fit_below_lesson, lesson, make_canvas
from playground.qt.task_slot import TaskSlot

CALC_LESSON = ("<b>Training costs about 6 FLOPs per parameter per token (C ≈ 6·N·D).</b> For a "
               "fixed budget a bigger model sees fewer tokens. L(N, D) = E + A/N^α + B/D^β predicts the loss; "
               "the two published fits put the best split far apart (the published Chinchilla constants give "
               "~98 tokens per parameter at 1e24 FLOPs, the 2024 replication ~18, close to Chinchilla's own 20).")
RUN_LESSON = ("The miniature experiment is real: tiny byte-level Llamas (30k–765k parameters) are "
              "trained from scratch on the bundled dialogues, each for the same FLOP budget. The dashed lower "
              "envelope is the best loss any size reached with that compute.")


def _number(text: str) -> float | None:
    """What a number field holds: None when empty, nan when it is not a number (refused at Calculate / Run)."""
    text = text.strip().replace(",", "").replace("_", "")
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return float("nan")


def _shown(value: float | None) -> str:
    """A number as a person types it: 70e9, 1.4e12, 0.5 ('' for None)."""
    if value is None:
        return ""
    if not math.isfinite(value) or abs(value) < 1e3:
        return f"{value:g}"
    exponent = 3 * int(math.floor(math.log10(abs(value)) / 3))
    return f"{value / 10 ** exponent:.6g}e{exponent}"


class ScalingPage(QWidget):
    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.lifecycle.options import ScalingOptions

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.results = []
        self.points = []
        # The ``lifecycle_scaling`` section of the settings: Calculate and Run read this value.
        self.draft = Draft(ScalingOptions(), self)
        persist(self.draft, context.settings)
        calc_box = self._build_calculator()
        run_box = self._build_experiment()
        self._build_nd_plot()
        self._build_run_plot()
        self._lay_out(calc_box, run_box)
        self.calculate()

    @property
    def sizes(self) -> list:
        """The sizes a run trains (the draft holds their names)."""
        from playground.core.lifecycle import mini_scaling as M

        return [s for s in M.SIZES if s.name in self.draft.value.sizes]

    @sizes.setter
    def sizes(self, sizes) -> None:
        self.draft.set("sizes", [s.name for s in sizes])

    def _number_row(self, path: str) -> tuple[QLabel, QLineEdit]:
        """A label and a line edit bound to a number field of the draft (label and help from the field)."""
        meta = self.draft.field(path).metadata
        edit = QLineEdit()
        edit.setToolTip(meta["help"])
        edit.setPlaceholderText(meta.get("placeholder", ""))
        label = QLabel(meta["label"])
        label.setToolTip(meta["help"])
        label.setBuddy(edit)
        bind(edit, self.draft, path, parse=_number, fmt=_shown)
        return label, edit

    def _build_calculator(self) -> QGroupBox:
        """N, D or a budget C, and what 6·N·D and the two fits say about them."""
        rows = [self._number_row(path) for path in ("params", "tokens", "flops")]
        (_, self.params_edit), (_, self.tokens_edit), (_, self.flops_edit) = rows
        self.calc_button = QPushButton("Calculate")
        self.calc_button.clicked.connect(self.calculate)
        for edit in (self.params_edit, self.tokens_edit, self.flops_edit):
            edit.returnPressed.connect(self.calculate)
        self.calc_out = QLabel("")
        self.calc_out.setWordWrap(True)
        self.calc_out.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form = QFormLayout()
        for label, edit in rows:
            form.addRow(label, edit)
        calc_box = QGroupBox("Calculator")
        cv = QVBoxLayout(calc_box)
        cv.addLayout(form)
        cv.addWidget(self.calc_button)
        cv.addWidget(self.calc_out)
        return calc_box

    def _build_experiment(self) -> QGroupBox:
        """The miniature experiment: its budget per size, its run bar and its results table."""
        from playground.core.lifecycle import mini_scaling as M

        budget_label, self.budget_edit = self._number_row("budget")
        self.bar = RunBar("Run the experiment", self.slot, stop_tip="Stop after the current training step; "
                                                                    "finished sizes stay (Esc).")
        self.bar.run_button.clicked.connect(self.run)
        from playground.qt.widgets.result_header import ResultHeader

        self.header = ResultHeader(empty="No experiment yet: set a budget and press Run the experiment.")
        self.run_out = QLabel(M.SPAN_NOTE)
        self.run_out.setWordWrap(True)
        run_box = QGroupBox("Miniature experiment")
        rv = QVBoxLayout(run_box)
        rf = QFormLayout()
        rf.addRow(budget_label, self.budget_edit)
        rv.addLayout(rf)
        rv.addWidget(self.bar)
        rv.addWidget(self.bar.message)
        rv.addWidget(self.header)
        rv.addWidget(self.run_out)
        return run_box

    def _build_nd_plot(self) -> None:
        """Known models, the 20-tokens-per-parameter line, the user's point and both optima."""
        from playground.core.lifecycle import scaling as S

        self.nd_fig, self.nd_canvas = make_canvas()
        ax = self.nd_ax = self.nd_fig.add_subplot(111)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("parameters N")
        ax.set_ylabel("training tokens D")
        ax.set_title("Known models on the N–D plane", fontsize=9)
        xs = [m.params for m in S.KNOWN_MODELS]
        ax.scatter(xs, [m.tokens for m in S.KNOWN_MODELS], s=14, color="gray")
        for m in S.KNOWN_MODELS:
            ax.annotate(m.name, (m.params, m.tokens), fontsize=6, xytext=(2, 2), textcoords="offset points")
        line = [1e8, 1e12]
        ax.plot(line, [S.CHINCHILLA_RATIO * n for n in line], ":", color="green", lw=1, label="20 tokens/param")
        (self.user_point,) = ax.plot([], [], "o", color="black", label="your N, D")
        self.optimum_points = {f.name: ax.plot([], [], "^", label=f"optimum ({f.name} fit)")[0] for f in S.FITS}
        ax.legend(fontsize=6, loc="lower right")

    def _build_run_plot(self) -> None:
        """Loss against FLOPs of the experiment, one line per size, updated in place."""
        self.run_fig, self.run_canvas = make_canvas()
        rax = self.run_ax = self.run_fig.add_subplot(111)
        rax.set_xscale("log")
        rax.set_yscale("log")
        rax.set_xlabel("training compute (FLOPs)")
        rax.set_ylabel("held-out loss (nats per byte)")
        from playground.core.lifecycle.scaling_plot import plain_loss_ticks

        plain_loss_ticks(rax)
        self.size_lines: dict[str, object] = {}
        (self.envelope_line,) = rax.plot([], [], "k--", lw=1.2, label="lower envelope")
        from playground.qt.widgets.plot import EmptyState

        self.run_empty = EmptyState(self.run_fig, "Each size's held-out loss against its training compute\n"
                                                  "appears here while the miniature experiment runs.", axes=[rax])

    def _lay_out(self, calc_box: QGroupBox, run_box: QGroupBox) -> None:
        """The calculator and the experiment on the left (scrolling), the two plots on the right."""
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.addWidget(calc_box)
        lv.addWidget(run_box)
        lv.addStretch(1)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.nd_canvas)
        plots.addWidget(self.run_canvas)
        split = QSplitter(Qt.Orientation.Horizontal)
        fit_below_lesson(split)
        scroll = QScrollArea()  # the calculator's text and the run's table must never be cut off
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(left)
        # Wide enough that the calculator's lines wrap into a column that fits a 1200x800 window (with
        # the Labs dock open too) without scrolling.
        scroll.setMinimumWidth(440)
        split.addWidget(scroll)
        split.addWidget(plots)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        outer = QVBoxLayout(self)
        outer.addWidget(lesson(CALC_LESSON + " " + RUN_LESSON))  # the section's explanation: one place, on top
        outer.addWidget(split, 1)
        # The experiment's progress strip runs the page's width: its phase (the size in training) and
        # its count and time left never squeeze the calculator's column.
        outer.addWidget(self.bar.strip)

    def calculate(self) -> None:
        from playground.core.base.errors import PlaygroundError
        from playground.core.lifecycle import scaling as S

        options = self.draft.value
        n, d, c = options.params, options.tokens, options.flops
        if c is not None and (n is not None or d is not None):
            self.calc_out.setText("Give N and D, or a budget C: not both. Empty the fields you do not use.")
            return
        try:
            calc = S.calculate(n, d, c)
        except PlaygroundError as exc:
            self.calc_out.setText(f"{exc.message} {exc.hint}".strip())
            return
        self.calc_out.setText(S.describe(calc).replace("\n", "<br>"))
        self.user_point.set_data([n] if n else [], [d] if d else [])
        for name, (on, od, _) in calc.optima.items():
            self.optimum_points[name].set_data([on], [od])
        self.nd_ax.relim()
        self.nd_ax.autoscale_view()
        self.nd_canvas.draw_idle()

    def run(self) -> None:
        from playground.core.base.errors import PlaygroundError
        from playground.core.lifecycle import mini_scaling as M

        budget, sizes = self.draft.value.budget, self.sizes
        try:
            M.check_budget(budget if budget is not None else math.nan, sizes)
        except PlaygroundError as exc:
            self.bar.message.setText(f"{exc.message} {exc.hint}".strip())
            return
        self.results, self.points = [], []
        for line in self.size_lines.values():
            line.set_data([], [])
        self.envelope_line.set_data([], [])
        self.run_empty.show(True)
        self.run_canvas.draw_idle()
        self.budget = budget
        self.header.show_provenance(MadeHere(
            model=f"{len(sizes)} tiny byte-level Llamas trained from scratch here ({', '.join(s.name for s in sizes)})",
            precision="float32", prompt="the bundled dialogues as bytes",
            settings=f"{budget:.3g} FLOPs per size", extra="the loaded model plays no part"))
        # As the CLI: a few timed steps of each size first, and a run estimated past the limit is refused.
        limit = M.DEFAULT_MAX_MINUTES * 60
        self.slot.start("mini scaling", lambda h: M.run_experiment(budget, sizes, handle=h, max_seconds=limit),
                        on_item=self._item,
                        on_progress=self.bar.on_progress, on_finished=self._finished)

    def _item(self, item) -> None:
        from playground.core.lifecycle import mini_scaling as M

        if isinstance(item, M.SizeResult):
            self.results.append(item)
            self._show_results()
            return
        self.points.append(item)
        line = self.size_lines.get(item.size)
        if line is None:
            (line,) = self.run_ax.plot([], [], marker="o", ms=3, label=f"{item.size} ({item.params:,})")
            self.size_lines[item.size] = line
            self.run_ax.legend(fontsize=6)
        self.run_empty.show(False)
        mine = [p for p in self.points if p.size == item.size]
        line.set_data([p.flops for p in mine], [p.loss for p in mine])
        env = M.lower_envelope(self.points)
        self.envelope_line.set_data([e[0] for e in env], [e[1] for e in env])
        self.run_ax.relim()
        self.run_ax.autoscale_view()
        self.run_canvas.draw_idle()

    def _show_results(self, stopped: bool = False) -> None:
        """The table of finished sizes; a winner only once two or more sizes finished all of them, and a
        stopped run says it stopped."""
        from playground.core.lifecycle import mini_scaling as M

        *table, verdict, note = M.describe_results(self.results, self.budget, stopped=stopped).split("\n")
        # The table keeps its columns (pre); the verdict (winner, or why none) wraps as a sentence.
        self.run_out.setText(f"<pre style='font-size:7pt'>{html.escape(chr(10).join(table))}</pre>"
                             f"<b>{html.escape(verdict)}</b><br>{html.escape(note)}")

    def _finished(self, task) -> None:
        if task.outcome == "cancelled":
            self.bar.message.setText(f"Stopped: {len(self.results)} finished size(s) kept.")
            self._show_results(stopped=True)
            if self.header.provenance is not None:
                from dataclasses import replace

                self.header.show_provenance(replace(self.header.provenance,
                                                    extra=self.header.provenance.extra + " · stopped early"))
        elif task.outcome == "done":
            self.bar.message.setText("Experiment finished.")
