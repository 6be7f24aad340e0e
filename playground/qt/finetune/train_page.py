"""Step 4: training in the background, with live loss curves, learning rate, speed, ETA and
memory; Pause, Stop (keeps the last checkpoint), Resume; the log; the runs made so far."""

from __future__ import annotations

import html
import json
import time
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QLabel,
    QPlainTextEdit,
    QSizePolicy,
)

from playground.core.base.errors import InputError
from playground.core.finetune.methods import METHOD_FACTS
from playground.qt.binding import add_rows
from playground.qt.finetune.charts import LossChart
from playground.qt.finetune.interrupted import ActiveRun, InterruptedBanner
from playground.qt.finetune.page import WizardPage
from playground.qt.widgets.make import button, group, hbox, vbox
from playground.qt.finetune.runs_view import RunsView
from playground.qt.finetune.train_stats import TrainingStats
from playground.qt.shortcuts import run_shortcut
from playground.qt.widgets.compact_form import compact_form_layout, cap_width
from playground.qt.widgets.progress_strip import ProgressStrip

LESSON = (
    "<b>Watching it learn.</b> Each <i>step</i> shows the model a batch of examples, measures its "
    "<i>loss</i> (how surprised it is by the reference summary, per token) and nudges the trained weights "
    "to lower it. The training loss should fall; the <i>validation loss</i>, on examples it never trains "
    "on, tells you whether it learns the task or only memorises: when it rises while the training loss "
    "keeps falling, the model is <i>overfitting</i>.<br><br>"
    "The <i>learning rate</i> warms up, then decays. <i>Checkpoints</i> save the weights and the "
    "optimizer's state, so a stopped run continues exactly where it was."
)
RUN_SETTINGS = ("training.eval_every", "training.save_every", "evaluation.test_examples",
                "evaluation.max_new_tokens")


def _error_html(exc) -> str:
    from playground.core.base.errors import describe_exception

    message, hint = describe_exception(exc)
    return f"<b>{html.escape(message)}</b> {html.escape(hint)}"


class TrainPage(WizardPage):
    title = "Train"
    lesson_text = LESSON

    sig_run_finished = Signal(object)
    """a run finished: {"method": "full" | "lora" | "prompt_tuning", "run_dir": str}"""
    sig_show_result = Signal(str, object, object)
    """a finished run to show on the Result step: run folder, its report, the trained model in memory (or None)"""
    sig_load_job = Signal(object)
    """a past run's job (a dict like its TOML file) to load into the wizard"""

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        self.task = None
        self.run_dir = ""
        self.method = ""
        self.slot.sig_paused_changed.connect(self._on_parked)
        self.last_step = None
        self.peak = self.peak_added = 0
        self.active = ActiveRun(self.context.settings)
        self.banner = InterruptedBanner()
        self.banner_label, self.banner_dismiss = self.banner.label, self.banner.dismiss_button
        self.banner_dismiss.clicked.connect(self.active.forget)
        self.banner.resume_button.clicked.connect(lambda: self.resume(self.interrupted_run()))

        form = compact_form_layout()
        self.run_settings = add_rows(form, self.draft, *RUN_SETTINGS)
        for spin in self.run_settings.values():
            cap_width(spin)
        self.eval_spin, self.save_spin, self.test_spin, self.tokens_spin = self.run_settings.values()
        settings_box = QGroupBox("Run settings")
        settings_box.setLayout(form)
        self._build_controls()
        self.stats = TrainingStats()
        self.chart = LossChart()
        # A fixed height: the log and the labels around it may change while training, the chart's
        # size must not (a resize is a full redraw on the GUI thread).
        self.chart.setFixedHeight(244)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(3000)
        self.log.setMinimumHeight(90)
        self.log.setToolTip("What the job did, step by step.")
        self.runs = RunsView()
        # Its columns fit their text: that must not widen the column beside the chart mid-run.
        self.runs.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        # ...but never below its three buttons' width (their text stays whole)
        self.runs.setMinimumWidth(sum(b.sizeHint().width() for b in (self.runs.resume_button, self.runs.show_button,
                                                                      self.runs.job_button)) + 24)
        self.runs.sig_resume.connect(self.resume)
        self.runs.sig_show.connect(self.wizard_show_run)
        self.runs.sig_load_job.connect(self._load_run_job)
        self._lay_out(settings_box)
        run_shortcut(self, self.start)
        self._set_busy(False)
        self._check_interrupted()

    def _build_controls(self) -> None:
        self.start_button = button("Start training  (Ctrl+Enter)", "Train with the settings of every step, in "
                                   "the background: the rest of the app stays usable.", self.start)
        self.pause_button = button("Pause", "Hold training between two steps (everything stays in memory); "
                                   "click again to continue.", self.set_paused, checkable=True)
        # The one progress strip: the phase by name ("Scoring the test set before training", "Training"),
        # step x of y with its own bar per phase, elapsed, time left, and Stop, which keeps a checkpoint.
        self.strip = ProgressStrip("End training after the current step (Esc). A checkpoint is written first, "
                                   "so the run can be resumed later from the runs list.")
        self.strip.sig_stop.connect(self.stop)
        self.slot.sig_busy_changed.connect(self.strip.set_busy)
        self.stop_button = self.strip.stop_button
        self.stage_label = self.note("")
        # Two lines, always: a longer message must not change the page's layout while training.
        self.stage_label.setFixedHeight(self.stage_label.fontMetrics().lineSpacing() * 2 + 6)
        self.stage_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.error = self.error_label()

    def _lay_out(self, settings_box) -> None:
        buttons = hbox(self.start_button, self.pause_button, (self.strip, 1))
        buttons.addStretch(0)
        left = vbox(settings_box, self.stage_label, self.error, (group("Runs", vbox(self.runs)), 1))
        right = vbox(self.stats, self.chart, QLabel("Log"), (self.log, 1))
        self.body.addWidget(self.banner)
        self.body.addLayout(buttons)
        self.body.addLayout(hbox((left, 2), (right, 3)))

    def problem(self) -> str:
        return ""  # the Result step opens only once a run has a result

    def enter(self) -> None:
        self.runs.refresh(self.run_dir if self.busy else "", self.method)

    @property
    def busy(self) -> bool:
        return self.task is not None

    # --- running ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start a new run with the wizard's settings (checked on every step first)."""
        from playground.core.finetune.runs import new_run_dir

        if self.busy:
            return
        problem = self.wizard.first_problem(3)
        if problem:
            self.error.setText(html.escape(problem))
            return
        try:
            cfg = self.draft.validate()
        except Exception as exc:
            self.error.setText(_error_html(exc))
            return
        cfg.output.dir = str(new_run_dir(cfg.method.name))
        self.chart.clear()
        self.log.clear()
        self._launch(cfg, resume=False)

    def resume(self, run_dir: str) -> None:
        """Continue a stopped or interrupted run from its newest checkpoint."""
        from playground.core.finetune import resume_config
        from playground.core.finetune.layout import RunFolder

        if self.busy or not run_dir:
            return
        try:
            cfg = resume_config(run_dir)
        except Exception as exc:
            self.error.setText(_error_html(exc))
            return
        self.chart.clear()
        self.log.clear()
        ckpt = RunFolder(run_dir).latest_checkpoint()
        planned = 0
        if ckpt is not None:  # the curves so far, so the chart continues where it was
            try:
                state = json.loads((ckpt / "state.json").read_text(encoding="utf-8"))
                self.chart.load_curves(state.get("losses", []), state.get("validation", []))
                planned = int(state.get("total_steps", 0))
            except (OSError, ValueError, TypeError):
                pass
        self.banner.setVisible(False)
        self.sig_show_step.emit(3)
        self._launch(cfg, resume=True, planned=planned)

    def _launch(self, cfg, resume: bool, planned: int = 0) -> None:
        from playground.core.finetune.runs import finetune_run

        self.error.setText("")
        self.run_dir, self.method = cfg.output.dir, cfg.method.name
        self.last_step = None
        self.peak = self.peak_added = 0
        self._log(f"{'Resuming' if resume else 'Starting'} {cfg.method.name} in {cfg.output.dir}")
        # Lay the chart out now, while nothing trains: steps then only redraw the lines.
        self.chart.set_total_steps(planned or self._planned_steps(cfg), peak_lr=cfg.learning_rate)
        self.active.mark(cfg.output.dir)
        from playground.core.models.sharing import lighter_results
        from playground.qt.memory import shared_base

        run, base = finetune_run(cfg, resume), shared_base(self.context)  # the result shares what it did not train
        self.task = self.slot.start(f"fine-tune {Path(cfg.output.dir).name}", lambda h: lighter_results(run(h), base),
                                    on_item=self._on_event, on_progress=self.strip.on_progress,
                                    on_failed=self._on_failed,
                                    on_done=lambda _: self.active.forget(), on_finished=self._on_finished)
        self._set_busy(True)
        self.runs.refresh(self.run_dir, self.method)

    def _planned_steps(self, cfg) -> int:
        """The run's optimizer steps, as the job will count them (one process)."""
        from playground.core.finetune.batching import planned_steps

        preview = self.draft.preview
        if cfg.training.max_steps <= 0 and preview is None:
            return 0
        n = preview.sizes(cfg.data.max_length, cfg.data.truncation)["train"] if preview is not None else 0
        return planned_steps(cfg.training, n)
    def set_paused(self, paused: bool) -> None:
        if not self.busy:
            return
        if paused:
            self.slot.pause()
            self.pause_button.setText("Continue")
            self.stage_label.setText("Pausing after the current step…")
        else:
            self.slot.resume()
            self.pause_button.setText("Pause")

    def _on_parked(self, parked: bool) -> None:
        """The run is really held (or moving again): say so only now."""
        if parked:
            self.stage_label.setText("Paused between two steps. Continue, or Stop to end with a checkpoint.")
        self._log("Paused" if parked else "Continued")

    def stop(self) -> None:
        """End training after the current step; the job writes a checkpoint first."""
        if not self.busy:
            return
        self.slot.stop(graceful=True)  # a paused run wakes up to write its checkpoint
        self.stop_button.setEnabled(False)
        self.pause_button.setEnabled(False)  # a stopping run is never held again
        self.stage_label.setText("Stopping after the current step (writing a checkpoint)…")

    def _set_busy(self, busy: bool) -> None:
        self.draft.busy = busy
        self.start_button.setEnabled(not busy)
        self.pause_button.setEnabled(busy)
        self.stop_button.setEnabled(busy)
        if not busy:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
        for spin in self.run_settings.values():
            spin.setEnabled(not busy)

    # --- events (each says what it means: the log writes the job's own sentences) ---------------------

    def _on_event(self, ev) -> None:
        from playground.core.finetune import events as E

        if isinstance(ev, E.StepEvent):
            self._on_step(ev)
            return
        if isinstance(ev, E.DoneEvent):
            self._on_done(ev)
            return
        if isinstance(ev, E.StageEvent):
            self.stage_label.setText(html.escape(ev.message))
            rouge = ev.stage.startswith("rouge")
            if rouge and not ev.milestone:
                return  # one line per scoring pass, not one per dialogue
        elif isinstance(ev, E.EvalEvent):
            self.chart.add_validation(ev.step, ev.validation_loss)
            self.stats.show_validation(ev.validation_loss)
        elif isinstance(ev, E.CheckpointEvent):
            self.runs.refresh(self.run_dir, self.method)
        elif isinstance(ev, E.StoppedEvent):
            self.stage_label.setText(f"{html.escape(ev.describe())} Resume it from the runs list.")
            self.active.forget()
        self._log(ev.describe())

    def _on_step(self, ev) -> None:
        self.last_step = ev
        self.peak = max(self.peak, ev.peak_memory_bytes)
        self.peak_added = max(self.peak_added, ev.memory_added_bytes)
        if ev.total_steps != self.chart.total_steps:
            self.chart.set_total_steps(ev.total_steps)
        self.chart.add_step(ev.step, ev.loss, ev.learning_rate)
        self.stats.show_step(ev)
        self.runs.show_running_step(ev.step)
        if not self.pause_button.isChecked():
            self.stage_label.setText(f"Training: step {ev.step} of {ev.total_steps}")
        if ev.total_steps <= 100 or ev.step % 10 == 0 or ev.step == ev.total_steps:
            self._log(ev.describe())

    def _on_done(self, ev) -> None:
        self.stage_label.setText(f"Finished. The {METHOD_FACTS[self.method].artifact} is in "
                                 f"{html.escape(ev.artifact)}.")
        self._log(ev.describe())
        t = ev.report.get("training", {})
        added = int(t.get("memory_added_bytes", 0) or 0)
        self.show_measured_peak(self.method, added or int(t.get("peak_memory_bytes", 0) or self.peak),
                                t.get("device", ""), added=bool(added))
        self.sig_show_result.emit(ev.run_dir, ev.report, ev.loaded)
        self.sig_run_finished.emit({"method": self.method, "run_dir": ev.run_dir})

    def show_measured_peak(self, method: str, peak: int, device: str, added: bool = False) -> None:
        memory = "GPU memory allocated" if device == "cuda" else "the app's resident memory"
        if added:  # what the run needed on top of what the app held before it: the estimate's terms
            where = f"(the peak of {memory} while training, less what the app used before the run)"
        else:
            where = (f"(the peak of {memory} while training: Python, the libraries and the playground's "
                     "own model included)")
        self.draft.measured = (method, peak, where)

    def _on_failed(self, message: str, hint: str) -> None:
        self.active.forget()
        self.stage_label.setText("Training failed.")
        self.error.setText(f"<b>{html.escape(message)}</b><br>{html.escape(hint)}")
        self._log(f"Failed: {message} {hint}")
        self.context.report_error("Fine-tuning failed", message, hint)

    def _on_finished(self, task) -> None:
        outcome = task.outcome
        if outcome == "cancelled":
            self._log("Training was interrupted; the run can be resumed from its last checkpoint.")
        self.task = None
        self._set_busy(False)
        if outcome != "done" and self.last_step is not None and self.peak:  # done: the report's figure stands
            self.show_measured_peak(self.method, self.peak_added or self.peak,
                                    "cuda" if self.run_dir and self._on_gpu() else "cpu", added=bool(self.peak_added))
        self.runs.refresh("")
        self.runs.select_path(self.run_dir)

    def _on_gpu(self) -> bool:
        from playground.core.models.device import available_devices

        device = self.draft.config.model.device
        return device == "cuda" or (device == "auto" and "cuda" in available_devices())

    def _log(self, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    # --- interrupted runs and the runs list ------------------------------------------------------------

    def interrupted_run(self) -> str:
        """The run that was training when the app last ended (closed, crashed, killed), if unfinished."""
        return self.active.interrupted(self.run_dir if self.busy else "")

    def _check_interrupted(self) -> None:
        path = self.interrupted_run()
        if path:
            self.banner.offer(path)
        else:
            self.active.forget()

    def wizard_show_run(self, run_dir: str) -> None:
        from playground.core.finetune.runs import run_report

        try:
            self.sig_show_result.emit(run_dir, run_report(run_dir), None)
        except InputError as exc:
            self.error.setText(html.escape(exc.message))

    def _load_run_job(self, run_dir: str) -> None:
        from playground.core.finetune.runs import run_job

        try:
            self.sig_load_job.emit(run_job(run_dir))
        except InputError as exc:
            self.error.setText(html.escape(exc.message))
            return
        self.stage_label.setText(f"Loaded the settings of {html.escape(Path(run_dir).name)}.")
