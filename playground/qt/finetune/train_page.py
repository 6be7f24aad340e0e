"""Step 4: training in the background, with live loss curves, learning rate, speed, ETA and
memory; Pause, Stop (keeps the last checkpoint), Resume; the log; the runs made so far."""

from __future__ import annotations

import html
import json
import threading
import time
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
)

from playground.qt.finetune.charts import LossChart
from playground.qt.finetune.page import WizardPage, get_path, set_path
from playground.qt.finetune.runs_view import RunsView
from playground.qt.finetune.train_stats import TrainingStats

LESSON = (
    "<b>Watching it learn.</b> Each <i>step</i> shows the model a batch of examples, measures its "
    "<i>loss</i> (how surprised it is by the reference summary, per token) and nudges the trained weights "
    "to lower it. The training loss should fall; the <i>validation loss</i>, on examples it never trains "
    "on, tells you whether it learns the task or only memorises: when it rises while the training loss "
    "keeps falling, the model is <i>overfitting</i>.<br><br>"
    "The <i>learning rate</i> warms up, then decays. <i>Checkpoints</i> save the weights and the "
    "optimizer's state, so a stopped run continues exactly where it was."
)
ACTIVE_KEY = "finetune_active_run"


class TrainPage(WizardPage):
    title = "Train"
    lesson_text = LESSON

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        self.task = None
        self.run_dir = ""
        self.method = ""
        self.stop_flag = threading.Event()
        self.slot.sig_paused_changed.connect(self._on_parked)
        self.last_step = None
        self.peak = self.peak_added = 0

        # the interrupted-run banner ------------------------------------------------------------------
        self.banner = QFrame()
        self.banner.setFrameShape(QFrame.Shape.StyledPanel)
        self.banner_label = self.note("")
        self.banner_resume = QPushButton("Resume it")
        self.banner_dismiss = QPushButton("Dismiss")
        brow = QHBoxLayout(self.banner)
        brow.addWidget(self.banner_label, 1)
        brow.addWidget(self.banner_resume)
        brow.addWidget(self.banner_dismiss)
        self.banner.setVisible(False)
        self.banner_dismiss.clicked.connect(self._dismiss_interrupted)

        # settings -------------------------------------------------------------------------------------
        self.eval_spin = QSpinBox()
        self.eval_spin.setRange(0, 100000)
        self.eval_spin.setSpecialValueText("only at the end")
        self.eval_spin.setToolTip("Measure the validation loss every N steps (it costs a pass over the "
                                  "validation examples).")
        self.save_spin = QSpinBox()
        self.save_spin.setRange(0, 100000)
        self.save_spin.setSpecialValueText("only on Stop")
        self.save_spin.setToolTip("Write a checkpoint every N steps, so a crash loses at most N steps.")
        self.test_spin = QSpinBox()
        self.test_spin.setRange(0, 10000)
        self.test_spin.setSpecialValueText("none")
        self.test_spin.setToolTip("Test dialogues to summarize and score with ROUGE before and after training. "
                                  "Each takes a few seconds on a CPU.")
        self.tokens_spin = QSpinBox()
        self.tokens_spin.setRange(1, 1024)
        self.tokens_spin.setToolTip("Max new tokens per test summary.")
        form = QFormLayout()
        form.addRow("Validation every", self.eval_spin)
        form.addRow("Checkpoint every", self.save_spin)
        form.addRow("Test dialogues", self.test_spin)
        form.addRow("Tokens per summary", self.tokens_spin)
        settings_box = QGroupBox("Run settings")
        settings_box.setLayout(form)

        self.start_button = QPushButton("Start training  (Ctrl+Enter)")
        self.start_button.setToolTip("Train with the settings of every step, in the background: the rest of "
                                     "the app stays usable.")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.setCheckable(True)
        self.pause_button.setToolTip("Hold training between two steps (everything stays in memory); click "
                                     "again to continue.")
        self.pause_button.toggled.connect(self.set_paused)
        self.stop_button = QPushButton("Stop  (Esc)")
        self.stop_button.setToolTip("End training after the current step. A checkpoint is written first, so "
                                    "the run can be resumed later from the runs list.")
        self.stop_button.clicked.connect(self.stop)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.stage_label = self.note("")
        # Two lines, always: a longer message must not change the page's layout while training.
        self.stage_label.setFixedHeight(self.stage_label.fontMetrics().lineSpacing() * 2 + 6)
        self.stage_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.error = self.error_label()
        buttons = QHBoxLayout()
        for b in (self.start_button, self.pause_button, self.stop_button):
            buttons.addWidget(b)

        self.stats = TrainingStats()

        self.chart = LossChart()
        # A fixed height: the log and the labels around it may change while training, the chart's
        # size must not (a resize is a full redraw on the GUI thread).
        self.chart.setFixedHeight(320)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(3000)
        self.log.setMinimumHeight(110)
        self.log.setToolTip("What the job did, step by step.")
        self.runs = RunsView()
        # Its columns fit their text: that must not widen the column beside the chart mid-run.
        self.runs.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Expanding)
        self.runs.sig_resume.connect(self.resume)
        self.runs.sig_show.connect(self.wizard_show_run)
        self.runs.sig_load_job.connect(self._load_run_job)
        self.banner_resume.clicked.connect(lambda: self.resume(self.interrupted_run()))

        left = QVBoxLayout()
        left.addWidget(settings_box)
        left.addLayout(buttons)
        left.addWidget(self.progress)
        left.addWidget(self.stage_label)
        left.addWidget(self.error)
        runs_box = QGroupBox("Runs")
        QVBoxLayout(runs_box).addWidget(self.runs)
        left.addWidget(runs_box, 1)
        right = QVBoxLayout()
        right.addWidget(self.stats)
        right.addWidget(self.chart)
        right.addWidget(QLabel("Log"))
        right.addWidget(self.log, 1)
        top = QHBoxLayout()
        top.addLayout(left, 2)
        top.addLayout(right, 3)
        self.body.addWidget(self.banner)
        self.body.addLayout(top)

        for seq in ("Ctrl+Return", "Ctrl+Enter"):
            sc = QShortcut(QKeySequence(seq), self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(self.start)
        for spin in (self.eval_spin, self.save_spin, self.test_spin, self.tokens_spin):
            spin.valueChanged.connect(lambda *_: self.sig_changed.emit())
        self._set_busy(False)
        self._check_interrupted()

    # --- job --------------------------------------------------------------------------------------

    def load(self, job: dict) -> None:
        for spin, key, default in ((self.eval_spin, "training.eval_every", 50), (self.save_spin, "training.save_every", 50),
                                   (self.test_spin, "evaluation.test_examples", 10),
                                   (self.tokens_spin, "evaluation.max_new_tokens", 64)):
            spin.blockSignals(True)
            spin.setValue(int(get_path(job, key, default)))
            spin.blockSignals(False)

    def store(self, job: dict) -> None:
        set_path(job, "training.eval_every", self.eval_spin.value())
        set_path(job, "training.save_every", self.save_spin.value())
        set_path(job, "evaluation.test_examples", self.test_spin.value())
        set_path(job, "evaluation.max_new_tokens", self.tokens_spin.value())

    def problem(self) -> str:
        return ""  # the Result step opens only once a run has a result

    def enter(self) -> None:
        self.runs.refresh(self.run_dir if self.busy else "")

    @property
    def busy(self) -> bool:
        return self.task is not None

    # --- running ------------------------------------------------------------------------------------

    def start(self) -> None:
        """Start a new run with the wizard's settings (checked on every step first)."""
        from playground.qt.finetune.jobs import job_config, new_run_dir

        if self.busy:
            return
        for i, page in enumerate(self.wizard.pages[:3]):
            problem = page.problem()
            if problem:
                self.error.setText(html.escape(f"Step {i + 1} ({page.title}): {problem}"))
                return
        job = self.wizard.collect()
        try:
            cfg = job_config(job)
        except Exception as exc:
            from playground.core.errors import describe_exception

            message, hint = describe_exception(exc)
            self.error.setText(f"<b>{html.escape(message)}</b> {html.escape(hint)}")
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
            from playground.core.errors import describe_exception

            message, hint = describe_exception(exc)
            self.error.setText(f"<b>{html.escape(message)}</b> {html.escape(hint)}")
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
        self.wizard.go_to(3)
        self._launch(cfg, resume=True, planned=planned)

    def _launch(self, cfg, resume: bool, planned: int = 0) -> None:
        from playground.qt.finetune.jobs import finetune_run

        self.error.setText("")
        self.run_dir, self.method = cfg.output.dir, cfg.method.name
        self.stop_flag = stop = threading.Event()
        self.last_step = None
        self.peak = self.peak_added = 0
        self._started = time.perf_counter()
        self._log(f"{'Resuming' if resume else 'Starting'} {cfg.method.name} in {cfg.output.dir}")
        # Lay the chart out now, while nothing trains: steps then only redraw the lines.
        self.chart.set_total_steps(planned or self._planned_steps(cfg), peak_lr=cfg.learning_rate)

        self.context.settings.set(ACTIVE_KEY, cfg.output.dir)
        self._save_settings()
        self.task = self.slot.start(f"fine-tune {Path(cfg.output.dir).name}", finetune_run(cfg, resume, stop),
                                    on_item=self._on_event, on_failed=self._on_failed,
                                    on_done=lambda _: self._forget_active(), on_finished=self._on_finished)
        self._set_busy(True)
        self.runs.refresh(self.run_dir)

    def _planned_steps(self, cfg) -> int:
        """The run's optimizer steps, as the job will count them (one process)."""
        from playground.core.finetune.batching import steps_per_epoch, total_steps

        t = cfg.training
        preview = self.wizard.data_page.preview
        if t.max_steps <= 0 and preview is None:
            return 0
        n = preview.sizes(cfg.data.max_length, cfg.data.truncation)["train"] if preview is not None else 0
        return total_steps(steps_per_epoch(n, t.micro_batch_size, t.gradient_accumulation_steps), t.epochs,
                           t.max_steps)

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
        self.stop_flag.set()
        self.slot.resume()  # a paused run wakes up to write its checkpoint
        self.stop_button.setEnabled(False)
        self.stage_label.setText("Stopping after the current step (writing a checkpoint)…")

    def _set_busy(self, busy: bool) -> None:
        self.start_button.setEnabled(not busy)
        self.pause_button.setEnabled(busy)
        self.stop_button.setEnabled(busy)
        if not busy:
            self.pause_button.blockSignals(True)
            self.pause_button.setChecked(False)
            self.pause_button.setText("Pause")
            self.pause_button.blockSignals(False)
        for spin in (self.eval_spin, self.save_spin, self.test_spin, self.tokens_spin):
            spin.setEnabled(not busy)

    # --- events -----------------------------------------------------------------------------------------

    def _on_event(self, ev) -> None:
        from playground.core.finetune import events as E

        if isinstance(ev, E.StageEvent):
            self.stage_label.setText(html.escape(ev.message))
            if ev.fraction is not None and ev.stage.startswith("rouge"):
                self.progress.setValue(int(ev.fraction * 1000))
            if ev.fraction is None or ev.fraction >= 1.0 or not ev.stage.startswith("rouge"):
                self._log(ev.message)
        elif isinstance(ev, E.DataEvent):
            sizes = ", ".join(f"{k} {v['examples']}" for k, v in ev.stats.items())
            self._log(f"Data: {sizes} examples")
        elif isinstance(ev, E.MethodEvent):
            where = f" on {', '.join(ev.target_modules)}" if ev.target_modules else ""
            self._log(f"{ev.method}: {ev.trainable_parameters:,} of {ev.total_parameters:,} parameters learn "
                      f"({ev.trainable_share:.2%}){where}")
        elif isinstance(ev, E.StepEvent):
            self._on_step(ev)
        elif isinstance(ev, E.EvalEvent):
            self.chart.add_validation(ev.step, ev.validation_loss)
            self.stats.show_validation(ev.validation_loss)
            self._log(f"step {ev.step}: validation loss {ev.validation_loss:.4f}")
        elif isinstance(ev, E.CheckpointEvent):
            self._log(f"Checkpoint at step {ev.step}: {ev.path}")
        elif isinstance(ev, E.RougeEvent):
            scores = ", ".join(f"{k} {v * 100:.1f}" for k, v in ev.scores.items())
            self._log(f"ROUGE {ev.when} fine-tuning on {ev.examples} test dialogues: {scores}")
        elif isinstance(ev, E.StoppedEvent):
            where = f" Checkpoint kept: {ev.checkpoint}" if ev.checkpoint else " (no step was finished yet)"
            self.stage_label.setText(f"Stopped at step {ev.step}.{html.escape(where)} Resume it from the runs list.")
            self._log(f"Stopped at step {ev.step}.{where}")
            self._forget_active()
        elif isinstance(ev, E.DoneEvent):
            self._on_done(ev)

    def _on_step(self, ev) -> None:
        self.last_step = ev
        self.peak = max(self.peak, ev.peak_memory_bytes)
        self.peak_added = max(self.peak_added, ev.memory_added_bytes)
        if ev.total_steps != self.chart.total_steps:
            self.chart.set_total_steps(ev.total_steps)
        self.chart.add_step(ev.step, ev.loss, ev.learning_rate)
        self.progress.setValue(int(ev.step / max(1, ev.total_steps) * 1000))
        self.stats.show_step(ev)
        if not self.pause_button.isChecked():
            self.stage_label.setText(f"Training: step {ev.step} of {ev.total_steps}")
        if ev.total_steps <= 100 or ev.step % 10 == 0 or ev.step == ev.total_steps:
            self._log(f"step {ev.step}/{ev.total_steps}  loss {ev.loss:.4f}  lr {ev.learning_rate:.2e}  "
                      f"{ev.tokens_per_s:,.0f} tokens/s")

    def _on_done(self, ev) -> None:
        self.stage_label.setText(f"Finished. The {'model' if self.method == 'full' else 'adapter'} is in "
                                 f"{html.escape(ev.artifact)}.")
        self._log(f"Done: {ev.run_dir}")
        self.progress.setValue(1000)
        t = ev.report.get("training", {})
        added = int(t.get("memory_added_bytes", 0) or 0)
        self.show_measured_peak(self.method, added or int(t.get("peak_memory_bytes", 0) or self.peak),
                                t.get("device", ""), added=bool(added))
        self.wizard.result_page.show_result(ev.run_dir, ev.report, ev.loaded)
        self.wizard.refresh_steps()
        self.wizard.go_to(4)

    def show_measured_peak(self, method: str, peak: int, device: str, added: bool = False) -> None:
        memory = "GPU memory allocated" if device == "cuda" else "the app's resident memory"
        if added:  # what the run needed on top of what the app held before it: the estimate's terms
            where = f"(the peak of {memory} while training, less what the app used before the run)"
        else:
            where = (f"(the peak of {memory} while training: Python, the libraries and the playground's "
                     "own model included)")
        self.wizard.method_page.explainer.set_measured(method, peak, where)

    def _on_failed(self, message: str, hint: str) -> None:
        self._forget_active()
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
        from playground.core.device import available_devices

        return get_path(self.wizard.job, "model.device") in ("cuda",) or (
            get_path(self.wizard.job, "model.device") == "auto" and "cuda" in available_devices())

    def _log(self, text: str) -> None:
        self.log.appendPlainText(f"{time.strftime('%H:%M:%S')}  {text}")

    # --- interrupted runs ------------------------------------------------------------------------------

    def interrupted_run(self) -> str:
        """The run that was training when the app last ended (closed, crashed, killed), if unfinished."""
        from playground.core.finetune.layout import RunFolder

        path = self.context.settings.get(ACTIVE_KEY)
        if not path or not isinstance(path, str) or path == self.run_dir and self.busy:
            return ""
        status = RunFolder(path).status()
        return path if status in ("resumable", "started") else ""

    def _check_interrupted(self) -> None:
        from playground.core.finetune.layout import RunFolder

        path = self.interrupted_run()
        if not path:
            self._forget_active()
            return
        step = RunFolder(path).last_step()
        at = f"its checkpoint at step {step}" if step else "the start (no checkpoint was written yet)"
        self.banner_label.setText(f"<b>A fine-tuning run was interrupted</b> when the app last closed: "
                                  f"{html.escape(Path(path).name)}. Resume it from {at}?")
        self.banner.setVisible(True)

    def _dismiss_interrupted(self) -> None:
        self.banner.setVisible(False)
        self._forget_active()

    def _forget_active(self) -> None:
        if self.context.settings.get(ACTIVE_KEY) is not None:
            self.context.settings.set(ACTIVE_KEY, None)
            self._save_settings()

    def _save_settings(self) -> None:
        try:
            self.context.settings.save()
        except OSError:
            pass  # the marker only helps resume after a crash; training goes on without it

    # --- runs list ----------------------------------------------------------------------------------------

    def wizard_show_run(self, run_dir: str) -> None:
        report_path = Path(run_dir) / "report.json"
        try:
            report = json.loads(report_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.error.setText(html.escape(f"The report of {Path(run_dir).name} cannot be read ({exc})."))
            return
        self.wizard.result_page.show_result(run_dir, report, None)
        self.wizard.refresh_steps()
        self.wizard.go_to(4)

    def _load_run_job(self, run_dir: str) -> None:
        import tomllib

        try:
            job = tomllib.loads((Path(run_dir) / "job.toml").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            self.error.setText(html.escape(f"The job of {Path(run_dir).name} cannot be read ({exc})."))
            return
        self.wizard.load_job(job)
        self.stage_label.setText(f"Loaded the settings of {html.escape(Path(run_dir).name)}.")
