"""The Fine-tune tab: a wizard of five steps (Model, Data, Method, Train, Result), back and forth
allowed, every setting kept (also across restarts, as a draft of the job)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.settings_schema import FinetuneSection
from playground.qt.panel import Panel



class FinetunePanel(Panel):
    title = "Fine-tune"
    guide = "Teach the model the task by training it: full fine-tuning, LoRA or prompt tuning, step by step."
    help = """<h2>Fine-tune: teach the model the task</h2>
<p><b>Instruction fine-tuning</b> trains the model on prompt/answer pairs built with a template.
<b>Full fine-tuning</b> updates every weight; <b>LoRA</b> freezes them and trains small low-rank matrices
beside the attention layers (often under 1% of the weights); <b>prompt tuning</b> trains only a few
"virtual tokens" put in front of the input. Training memory is weights + gradients + optimizer states +
activations: PEFT methods save the middle two.</p>"""
    notebook_kind = "finetune"

    def lab_events(self) -> dict:
        return {"memory_estimate_shown": (self.sig_step_changed,
                                          lambda i: {} if self.pages[i] is self.method_page else None),
                "finetune_run": (self.train_page.sig_run_finished, dict)}

    def notebook_state(self) -> dict | None:
        from playground.core.labs.experiments import finetune_experiment

        return finetune_experiment(self.train_page.method, self.train_page.run_dir)

    def reveal(self, control: str) -> QWidget | None:
        """A wizard step (``method_page`` ...), reached as Next would (the steps before it checked first); when one
        of them stops it, that step is shown with its message, and the message is what to look at."""
        page = {"model_page": self.model_page, "data_page": self.data_page, "method_page": self.method_page,
                "train_page": self.train_page, "result_page": self.result_page}.get(control)
        if page is None:
            return None
        return page if self.go_to(self.pages.index(page)) else self.nav_message

    sig_step_changed = Signal(int)
    """index of the step now on show (0 Model ... 4 Result)"""
    sig_check_forgetting = Signal(str)
    """the Result page asks what a finished run forgot (the main window opens Lifecycle → Forgetting)"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        from playground.qt.finetune.data_page import DataPage
        from playground.qt.finetune.method_page import MethodPage
        from playground.qt.finetune.model_page import ModelPage
        from playground.qt.finetune.result_page import ResultPage
        from playground.qt.finetune.train_page import TrainPage

        from playground.qt.finetune.draft import JobDraft

        self.draft = JobDraft(parent=self)
        self.draft.load(self.context.settings.section(FinetuneSection).job)
        self.model_page = ModelPage(self)
        self.data_page = DataPage(self)
        self.method_page = MethodPage(self)
        self.train_page = TrainPage(self)
        self.result_page = ResultPage(self)
        self.pages = [self.model_page, self.data_page, self.method_page, self.train_page, self.result_page]
        self.furthest = 0

        self.step_buttons: list[QPushButton] = []
        self.step_group = QButtonGroup(self)
        self.step_group.setExclusive(True)
        steps = QHBoxLayout()
        for i, page in enumerate(self.pages):
            b = QPushButton(f"{i + 1}  {page.title}")
            b.setCheckable(True)
            b.setToolTip(f"Step {i + 1}: {page.title}. Steps you have reached can be revisited; settings stay.")
            b.clicked.connect(lambda _=False, k=i: self.go_to(k))
            self.step_group.addButton(b, i)
            self.step_buttons.append(b)
            steps.addWidget(b)
            if i < len(self.pages) - 1:
                arrow = QLabel("›")
                arrow.setAlignment(Qt.AlignmentFlag.AlignCenter)
                steps.addWidget(arrow)
        steps.addStretch(1)

        self.stack = QStackedWidget()
        for page in self.pages:
            self.stack.addWidget(page)
            page.sig_show_step.connect(self.go_to)
        self.train_page.sig_show_result.connect(self.show_result)
        self.train_page.sig_load_job.connect(self.load_job)

        self.back_button = QPushButton("‹ Back")
        self.back_button.setToolTip("The previous step; nothing you set is lost.")
        self.back_button.clicked.connect(lambda: self.go_to(self.current - 1))
        self.next_button = QPushButton("Next ›")
        self.next_button.setToolTip("The next step (checks this step's settings first).")
        self.next_button.clicked.connect(lambda: self.go_to(self.current + 1))
        self.nav_message = QLabel("")
        self.nav_message.setWordWrap(True)
        self.nav_message.setStyleSheet("color: #b00020;")
        nav = QHBoxLayout()
        nav.addWidget(self.back_button)
        nav.addWidget(self.nav_message, 1)
        nav.addWidget(self.next_button)

        layout = QVBoxLayout(self)
        layout.addLayout(steps)
        layout.addWidget(self.stack, 1)
        layout.addLayout(nav)

        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(400)
        self._save_timer.timeout.connect(self.save_draft)
        self.draft.on(("model", "data", "method", "training", "evaluation", "output"),
                      lambda _key: self._save_timer.start())
        self._show(0)

    # --- the job ---------------------------------------------------------------------------------

    def collect(self) -> dict:
        """The job as the wizard now sets it, laid out like its TOML file (a copy)."""
        return self.draft.to_dict()

    def load_job(self, job: dict) -> None:
        """Show a job (from a job file or a past run) on every page."""
        self.draft.load(job)
        self.save_draft()

    def save_job_file(self, path: str, job: dict | None = None) -> str:
        """Write a job as a TOML file the command line runs (``playground finetune PATH``).

        The output folder is written relative to the file (``runs/<file name>``), so the job runs
        anywhere. Returns the text written.
        """
        from playground.core.finetune.runs import checked_config, config_from_saved
        from playground.core.base.paths import atomic_write_text

        cfg = config_from_saved(job if job else self.collect())
        cfg.output.dir = f"runs/{Path(path).stem}"
        cfg.output.overwrite = False
        text = checked_config(cfg).to_toml()
        atomic_write_text(Path(path), text)
        return text

    def save_draft(self) -> None:
        self.context.settings.update(FinetuneSection, job=self.collect())

    def show_result(self, run_dir: str, report: dict, loaded=None) -> None:
        """A finished run (just trained, or opened from the runs list) on the Result step."""
        self.result_page.show_result(run_dir, report, loaded)
        self.refresh_steps()
        self.go_to(4)

    def first_problem(self, upto: int) -> str:
        """Why the steps before ``upto`` cannot run yet: 'Step N (title): ...', or ''."""
        for i, page in enumerate(self.pages[:upto]):
            problem = page.problem()
            if problem:
                return f"Step {i + 1} ({page.title}): {problem}"
        return ""

    # --- navigation --------------------------------------------------------------------------------

    @property
    def current(self) -> int:
        return self.stack.currentIndex()

    def can_reach(self, index: int) -> bool:
        if index == len(self.pages) - 1:
            return self.result_page.has_result
        return index <= self.furthest

    def go_to(self, index: int) -> bool:
        """Show step ``index``; going forward first checks every step in between."""
        index = max(0, min(len(self.pages) - 1, index))
        if index > self.current:
            for i in range(self.current, index):
                problem = self.pages[i].problem()
                if problem:
                    self._show(i)
                    self.nav_message.setText(problem)
                    return False
            if index == len(self.pages) - 1 and not self.result_page.has_result:
                self.nav_message.setText("Train a model first: the result appears when a run finishes.")
                self._show(self.current)
                return False
        self.furthest = max(self.furthest, min(index, len(self.pages) - 2))
        self._show(index)
        return True

    def _show(self, index: int) -> None:
        self.nav_message.setText("")
        self.stack.setCurrentIndex(index)
        for i, b in enumerate(self.step_buttons):
            b.setEnabled(self.can_reach(i) or i == index)
            b.setChecked(i == index)
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.pages) - 1 and (index < len(self.pages) - 2
                                                                     or self.result_page.has_result))
        self.pages[index].enter()
        self.sig_step_changed.emit(index)

    def refresh_steps(self) -> None:
        self._show(self.current)

    # --- Panel ---------------------------------------------------------------------------------------

    def on_model_changed(self, loaded) -> None:
        # Switching the adapter on or off keeps the base model: the wizard's settings, data and
        # estimates all depend on the base model only.
        from playground.core.finetune.runs import model_source_text

        base = self.context.session.base or loaded
        if base is getattr(self, "_base", None):
            return
        self._base = base
        self.draft.set("model.source", model_source_text(base))
        for page in self.pages:
            page.on_model_changed(base)

    def stop(self) -> None:
        self.train_page.stop()

    def session_snapshot(self) -> list[tuple[str, str]]:
        return self.result_page.snapshot()

    def session_figures(self) -> list:
        """The result page's charts once there is a result (the train page's loss chart would repeat its loss)."""
        page = self.result_page if self.result_page.has_result else self.train_page
        return [getattr(w, "figure", None) for w in page.findChildren(QWidget)]
