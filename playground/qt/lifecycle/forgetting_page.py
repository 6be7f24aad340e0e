"""Forgetting section: the probes on the base model, its BF16 noise floor, and a fine-tuned model
(a finished run picked from the list, or the attached adapter), with learning against forgetting."""

from __future__ import annotations

import html
import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from playground.qt.lifecycle.common import RunBar, column_beside_plot, make_canvas
from playground.qt.binding import Draft, bind
from playground.qt.task_slot import TaskSlot

LESSON = ("<b>Catastrophic forgetting: training on one task can cost skills elsewhere.</b> The probes are "
          "short general questions (scored on the first sentence of the reply) and two-choice facts "
          "(scored by log-likelihood: the margin in nats is the sensitive signal), kept only where the base "
          "model is right. The noise floor is the same probes on the base rounded to BF16, with no training: "
          "a change inside it is noise. Pick a finished fine-tuning run (or attach an adapter) to compare "
          "it with the base; the plot puts what each run learned beside what it forgot.")
COLUMNS = ["model", "questions passed", "facts right", "mean margin (nats)", "replies changed"]
ATTACHED = "attached"
_KEY_NUMBER = re.compile(r"(mean margin -?[\d.]+ nats \([+±-][\d.]+\))")
_CONCLUSION = re.compile(r"(within the noise floor: no measurable forgetting\.|beyond the noise floor: forgetting\.)")


def verdict_html(text: str) -> str:
    """A verdict as the page shows it: its lines kept, the margin change and the conclusion in bold."""
    out = html.escape(text).replace("\n", "<br>")
    return _CONCLUSION.sub(r"<b>\1</b>", _KEY_NUMBER.sub(r"<b>\1</b>", out))


def draw_probes(ax, rows) -> None:
    """The probe results of one check as bars: each model's mean fact margin (nats), its questions and
    facts in its label, and the noise floor (the base rounded to BF16) as a band around the base.

    ``rows`` are the page's ('row', label, ProbeResult, extra) items, base first."""
    from playground.qt.design import CHART_COLOURS

    ax.clear()
    if not rows:
        return
    # Each bar's label holds the model and its counts, so nothing is written over the bars.
    labels = [f"{label.split(' (')[0]}\nquestions {r.questions_passed}/{len(r.question_pass)} · facts "
              f"{r.facts_right}/{len(r.margins)}" for _, label, r, _ in rows]
    margins = [result.mean_margin for _, _, result, _ in rows]
    noise = next((extra for _, _, _, extra in rows if extra is not None and "margin_change" in extra), None)
    if noise is not None:
        floor = abs(noise["margin_change"])
        ax.axvspan(margins[0] - floor, margins[0] + floor, color="0.88", zorder=0,
                   label="noise floor (BF16, no training)")
    colours = [CHART_COLOURS[0], CHART_COLOURS[7]] + [CHART_COLOURS[1]] * max(0, len(rows) - 2)
    positions = list(range(len(rows)))
    ax.barh(positions, margins, color=colours[:len(rows)], height=0.55)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()  # base on top, as in the table
    ax.axvline(0, color="0.4", lw=0.8)
    ax.set_xlabel("mean fact margin (nats)")
    ax.set_title("Probe results")
    if noise is not None:
        ax.legend(loc="best")


def _probe_rows(base, current, run_dir, cached, handle):
    """Generator run off the GUI thread: ('row', label, ProbeResult, extra) items, base first, then the
    fine-tuned model; ('baseline', Baseline) once; ('run', RunForgetting) for a picked run."""
    from playground.core.lifecycle import forgetting_run as FR
    from playground.core.lifecycle.forgetting import (
        load_probes,
        noise_floor,
        run_probes,
    )

    probes = load_probes()
    if cached is None:
        before = run_probes(base.model, base.tokenizer, probes, handle)  # phase: "Probing the base model"
        yield ("row", "base", before, None)
        noise = noise_floor(base.model, base.tokenizer, before, probes, handle)
        cached = FR.Baseline(base.info.name, before, noise)
        yield ("baseline", cached)
    else:
        yield ("row", "base", cached.before, None)
    yield ("row", "base rounded to BF16 (noise floor)", cached.noise["result"], cached.noise)
    if run_dir is not None:
        result = FR.check_run(run_dir, base=base, baseline_result=cached, probes=probes, handle=handle)
        yield ("row", f"run {result.run} ({result.method})", result.report.after, {"before": cached.before,
                                                                                  "noise": cached.noise})
        yield ("run", result)
    elif current is not None and current is not base:
        after = run_probes(current.model, current.tokenizer, probes, handle, phase=FR.probing_tuned(current.info.name))
        yield ("row", f"fine-tuned ({current.info.name})", after, {"before": cached.before, "noise": cached.noise})


class ForgettingPage(QWidget):
    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.lifecycle.options import ForgettingOptions

        self.context = context
        # Not kept between starts: the finished runs change, and the newest is the right first choice.
        self.draft = Draft(ForgettingOptions(), self)
        self.slot = TaskSlot(context.runner, parent=self)
        self.rows = []
        self.baselines: dict[int, object] = {}  # id(base model) -> Baseline: the base is probed once
        self.results = []  # RunForgetting of the runs checked so far, for the plot
        self._compared_attached = False  # the rows shown compare the adapter attached in the model bar
        self.bar = RunBar("Run the probes", self.slot, stop_tip="Stop after the current probe; finished rows "
                                                                "stay (Esc).")
        from playground.qt.widgets.result_header import ResultHeader

        # Which models the rows are: the base (no adapter), its BF16 copy, and the fine-tuned one named.
        self.header = ResultHeader(empty="No probes yet: pick a fine-tuned model (or none) and press Run the "
                                         "probes.")
        self.bar.run_button.setToolTip("Ask the base model, its BF16 copy and the chosen fine-tuned model the "
                                       "same probes (a few minutes on a CPU).")
        self.bar.run_button.clicked.connect(self.run)
        meta = self.draft.field("compare_with").metadata
        self.run_combo = QComboBox()
        self.run_combo.setToolTip(meta["help"])
        self.run_combo.setMinimumContentsLength(18)
        self.run_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        bind(self.run_combo, self.draft, "compare_with")  # its items are the runs found (refresh_runs)
        self.browse_button = QPushButton("Other run folder…")
        self.browse_button.setToolTip("Pick the folder of a finished run (report.json and adapter/ or model/).")
        self.browse_button.clicked.connect(self.browse)
        pick = QHBoxLayout()
        pick.addWidget(QLabel(meta["label"]))
        pick.addWidget(self.run_combo, 1)
        pick.addWidget(self.browse_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        # The verdict is the section's answer: body text in the text colour, its key number in bold.
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.verdict.setTextFormat(Qt.TextFormat.RichText)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figure, self.canvas = make_canvas()
        self.ax = self.figure.add_subplot(111)
        from playground.core.lifecycle.forgetting_run import draw

        draw(self.ax, [])
        from playground.qt.widgets.plot import EmptyState

        self.empty = EmptyState(self.figure, "Each model's fact margin (before, after, and the noise floor)\n"
                                             "appears here once the probes run, or at once for a run\n"
                                             "checked before.")
        column_beside_plot(self, [pick, self.bar, self.bar.message, self.header, (self.table, 1), self.verdict],
                           self.canvas, lesson_text=LESSON, strip=self.bar.strip)
        context.sig_adapter_changed.connect(self._adapter_changed)
        self.draft.connect_path("compare_with", self.show_saved)
        self.refresh_runs()

    def show_saved(self) -> None:
        """A run checked before (forgetting.json, e.g. by `playground finetune --forgetting`) shows at once."""
        from playground.core.lifecycle.forgetting_run import draw, saved_check, saved_table

        choice = self.draft.value.compare_with
        saved = saved_check(choice) if choice and choice != ATTACHED else None
        if saved is None or self.slot.busy:
            return
        self.rows = []
        self.table.setRowCount(0)
        rows, verdict = saved_table(saved)
        for values in rows:
            self._add_table_row(values)
        self.verdict.setText(verdict_html(verdict))
        self.header.clear_result(f"Run {saved['run']}, checked before against its base "
                                 f"{saved.get('base_model', '')} (base, no adapter), as saved in the run folder.")
        self.results = [r for r in self.results if (r if isinstance(r, dict) else r.to_dict())["run"] != saved["run"]]
        self.results.append(saved)
        draw(self.ax, self.results)
        self.empty.show(False)
        self.canvas.draw_idle()
        self.bar.message.setText("Checked before (forgetting.json in the run folder). Run the probes to "
                                 "measure again.")

    def _add_table_row(self, values: list[str]) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, v in enumerate(values):
            self.table.setItem(r, c, QTableWidgetItem(v))

    def refresh_runs(self, select: str | None = None) -> None:
        """List the attached adapter (if any) and the finished runs, newest first."""
        from playground.core.lifecycle.forgetting_run import finished_runs

        keep = select or self.draft.value.compare_with
        combo = self.run_combo
        combo.blockSignals(True)  # the draft takes the choice once the list is whole
        try:
            combo.clear()
            adapter = self.context.session.adapter
            if adapter is not None:
                combo.addItem(f"the attached model ({adapter.info.name})", ATTACHED)
            for run in finished_runs():
                combo.addItem(f"run {run.name}", str(run))
            if keep and combo.findData(keep) < 0 and keep != ATTACHED:
                combo.addItem(f"run {Path(keep).name}", keep)
            if combo.count() == 0:
                combo.addItem("no fine-tuned model yet: the base and its noise floor only", "")
            index = combo.findData(keep) if keep else -1
            combo.setCurrentIndex(max(index, 0))
        finally:
            combo.blockSignals(False)
        if combo.currentData() == self.draft.value.compare_with:
            self.show_saved()  # the same choice in a list read again
        else:
            self.draft.set("compare_with", combo.currentData())

    def check(self, run_dir: str) -> None:
        """Pick a finished run (e.g. from the Fine-tune Result page) and probe it."""
        self.refresh_runs(select=str(run_dir))
        if not self.slot.busy:
            self.run()

    def browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "A finished fine-tuning run")
        if folder:
            self.refresh_runs(select=folder)

    def run(self) -> None:
        session = self.context.session
        if session.base is None:
            self.bar.message.setText("The model is still loading. Try again in a moment.")
            return
        base = session.base.extras.get("precision_of", session.base)
        if base.info.kind != "decoder-only":
            self.bar.message.setText("The forgetting probes ask a next-token model questions: load a "
                                     "decoder-only model (the bundled SmolLM2) to run them.")
            return
        choice = self.draft.value.compare_with
        run_dir = Path(choice) if choice and choice != ATTACHED else None
        current = session.adapter if choice == ATTACHED else None
        if run_dir is not None:
            from playground.core.base.errors import PlaygroundError
            from playground.core.lifecycle.forgetting_run import base_mismatch

            try:
                why = base_mismatch(run_dir, base)
            except PlaygroundError as exc:
                why = f"{exc.message} {exc.hint}".strip()
            if why:
                self.bar.message.setText(why)
                return
        self.rows = []
        self.table.setRowCount(0)
        self.verdict.setText("")
        self._show_header(base, current, run_dir)
        self._compared_attached = current is not None
        cached = self.baselines.get(id(base.model))
        self.slot.start("forgetting probes", lambda h: _probe_rows(base, current, run_dir, cached, h),
                        on_item=self._item, on_progress=self.bar.on_progress, on_finished=self._finished)
        self._base_key = id(base.model)

    def _show_header(self, base, current, run_dir) -> None:
        """Name what the rows compare: the base model with no adapter (the model bar's adapter switch
        does not change it), and which fine-tuned model, if any, is compared with it."""
        if run_dir is not None:
            tuned = f"run {Path(run_dir).name}'s adapter or model"
        elif current is not None:
            tuned = f"the attached adapter ({current.extras.get('adapter_name') or current.info.name}), on"
        else:
            tuned = "no fine-tuned model"
        self.header.show_for(base, prompt="the bundled probes (greedy replies, two-choice facts)",
                             extra=f"compared with {tuned}; noise floor: the base rounded to BF16")

    def _adapter_changed(self, _adapted=None) -> None:
        if self.rows and self._compared_attached:
            self.header.mark_stale("the attached adapter changed since; run the probes again")
        self.refresh_runs()

    def on_model_changed(self, loaded) -> None:
        """Rows probed on another base model are marked out of date."""
        base = self.context.session.base
        base = base.extras.get("precision_of", base) if base is not None else None
        if self.rows and getattr(self, "_base_key", None) is not None and (base is None or
                                                                          id(base.model) != self._base_key):
            self.header.mark_stale("another model is loaded; run the probes again")

    def _item(self, item) -> None:
        kind = item[0]
        if kind == "baseline":
            self.baselines[self._base_key] = item[1]
            return
        if kind == "run":
            from playground.core.lifecycle.forgetting_run import draw

            result = item[1]
            self.results = [r for r in self.results
                            if (r if isinstance(r, dict) else r.to_dict())["run"] != result.run] + [result]
            self.verdict.setText(verdict_html(result.describe()))
            draw(self.ax, self.results)
            self.empty.show(False)
            self.canvas.draw_idle()
            return
        _, label, result, extra = item
        self.rows.append(item)
        changed = ""
        if extra is not None and "replies_changed" in extra:
            changed = str(extra["replies_changed"])
        elif extra is not None:
            changed = str(sum(a.strip() != b.strip() for a, b in zip(extra["before"].replies, result.replies)))
        self._add_table_row([label, f"{result.questions_passed}/{len(result.question_pass)}",
                             f"{result.facts_right}/{len(result.margins)}", f"{result.mean_margin:.2f}", changed])
        draw_probes(self.ax, self.rows)  # a picked run's learning-against-forgetting plot follows its row
        self.empty.show(False)
        self.canvas.draw_idle()
        if extra is not None and "noise" in extra:
            from playground.core.lifecycle.forgetting import ForgettingReport

            self.verdict.setText(verdict_html(ForgettingReport(extra["before"], result, extra["noise"]).verdict()))

    def _finished(self, task) -> None:
        if task.outcome == "cancelled":
            self.bar.message.setText(f"Stopped: {len(self.rows)} finished row(s) kept.")
        elif task.outcome == "done":
            if len(self.rows) < 3:
                self.bar.message.setText("Base and noise floor measured. Fine-tune a model (Fine-tune tab) "
                                         "and pick its run here to see what it forgot.")
            else:
                self.bar.message.setText("Probes finished.")
