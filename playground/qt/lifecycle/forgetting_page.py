"""Forgetting section: the probes on the base model, its BF16 noise floor, and a fine-tuned model
(a finished run picked from the list, or the attached adapter), with learning against forgetting."""

from __future__ import annotations

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

from playground.qt.lifecycle.common import (
    RunBar,
    column_beside_plot,
    lesson,
    make_canvas,
)
from playground.qt.task_slot import TaskSlot

LESSON = ("<b>Catastrophic forgetting</b>: training on one task can cost skills elsewhere. The probes are "
          "short general questions (scored on the first sentence of the reply) and two-choice facts "
          "(scored by log-likelihood: the margin in nats is the sensitive signal), kept only where the base "
          "model is right. The noise floor is the same probes on the base rounded to BF16, with no training: "
          "a change inside it is noise. Pick a finished fine-tuning run (or attach an adapter) to compare "
          "it with the base; the plot puts what each run learned beside what it forgot.")
COLUMNS = ["model", "questions passed", "facts right", "mean margin (nats)", "replies changed"]
ATTACHED = "attached"


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
        before = run_probes(base.model, base.tokenizer, probes, handle)
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
        after = run_probes(current.model, current.tokenizer, probes, handle)
        yield ("row", f"fine-tuned ({current.info.name})", after, {"before": cached.before, "noise": cached.noise})


class ForgettingPage(QWidget):
    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.rows = []
        self.baselines: dict[int, object] = {}  # id(base model) -> Baseline: the base is probed once
        self.results = []  # RunForgetting of the runs checked so far, for the plot
        self.bar = RunBar("Run the probes", self.slot)
        self.bar.run_button.setToolTip("Ask the base model, its BF16 copy and the chosen fine-tuned model the "
                                       "same probes (a few minutes on a CPU).")
        self.bar.run_button.clicked.connect(self.run)
        self.run_combo = QComboBox()
        self.run_combo.setToolTip("The fine-tuned model to compare with its base: a finished run of the "
                                  "Fine-tune tab, or the adapter attached now.")
        self.run_combo.setMinimumContentsLength(30)
        self.browse_button = QPushButton("Other run folder…")
        self.browse_button.setToolTip("Pick the folder of a finished run (report.json and adapter/ or model/).")
        self.browse_button.clicked.connect(self.browse)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("compare with"))
        pick.addWidget(self.run_combo, 1)
        pick.addWidget(self.browse_button)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.verdict = lesson("")
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.figure, self.canvas = make_canvas()
        self.ax = self.figure.add_subplot(111)
        from playground.core.lifecycle.forgetting_run import draw

        draw(self.ax, [])
        column_beside_plot(self, [lesson(LESSON), pick, self.bar, self.bar.message, (self.table, 1), self.verdict],
                           self.canvas)
        context.sig_adapter_changed.connect(lambda _=None: self.refresh_runs())
        self.run_combo.currentIndexChanged.connect(self.show_saved)
        self.refresh_runs()

    def show_saved(self, _index: int = -1) -> None:
        """A run checked before (forgetting.json, e.g. by `playground finetune --forgetting`) shows at once."""
        from playground.core.lifecycle.forgetting_run import draw, saved_check

        choice = self.run_combo.currentData()
        saved = saved_check(choice) if choice and choice != ATTACHED else None
        if saved is None or self.slot.busy:
            return
        self.rows = []
        self.table.setRowCount(0)
        b, a, n = saved["before"], saved["after"], saved["noise_floor"]
        floor = (b["questions_passed"] - n["questions_lost"], b["facts_right"] - n["facts_lost"],
                 b["mean_margin"] + n["margin_change"], n["replies_changed"])
        for label, (q, f, m, changed) in (("base", (b["questions_passed"], b["facts_right"], b["mean_margin"], "")),
                                          ("base rounded to BF16 (noise floor)", floor),
                                          (f"run {saved['run']} ({saved['method']})",
                                           (a["questions_passed"], a["facts_right"], a["mean_margin"],
                                            saved.get("replies_changed", "")))):
            self._add_table_row([label, f"{q}/{b['questions']}", f"{f}/{b['facts']}", f"{m:.2f}", str(changed)])
        self.verdict.setText(saved.get("describe", saved["verdict"]).replace("\n", "<br>"))
        self.results = [r for r in self.results if (r if isinstance(r, dict) else r.to_dict())["run"] != saved["run"]]
        self.results.append(saved)
        draw(self.ax, self.results)
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

        keep = select or self.run_combo.currentData()
        self.run_combo.clear()
        adapter = self.context.session.adapter
        if adapter is not None:
            self.run_combo.addItem(f"the attached model ({adapter.info.name})", ATTACHED)
        for run in finished_runs():
            self.run_combo.addItem(f"run {run.name}", str(run))
        if keep and self.run_combo.findData(keep) < 0 and keep != ATTACHED:
            self.run_combo.addItem(f"run {Path(keep).name}", keep)
        if self.run_combo.count() == 0:
            self.run_combo.addItem("no fine-tuned model yet: the base and its noise floor only", None)
        index = self.run_combo.findData(keep) if keep else -1
        self.run_combo.setCurrentIndex(max(index, 0))

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
        choice = self.run_combo.currentData()
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
        cached = self.baselines.get(id(base.model))
        self.slot.start("forgetting probes", lambda h: _probe_rows(base, current, run_dir, cached, h),
                        on_item=self._item, on_progress=self.bar.on_progress, on_finished=self._finished)
        self._base_key = id(base.model)

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
            self.verdict.setText(result.describe().replace("\n", "<br>"))
            draw(self.ax, self.results)
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
        if extra is not None and "noise" in extra:
            from playground.core.lifecycle.forgetting import ForgettingReport

            self.verdict.setText(ForgettingReport(extra["before"], result, extra["noise"]).verdict())

    def _finished(self, task) -> None:
        if task.outcome == "cancelled":
            self.bar.message.setText(f"Stopped: {len(self.rows)} finished row(s) kept.")
        elif task.outcome == "done":
            if len(self.rows) < 3:
                self.bar.message.setText("Base and noise floor measured. Fine-tune a model (Fine-tune tab) "
                                         "and pick its run here to see what it forgot.")
            else:
                self.bar.message.setText("Probes finished.")
