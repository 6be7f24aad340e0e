"""Step 2, Reward model: Bradley-Terry on frozen features (quick) or with its backbone trained too
(full), held-out accuracy, score histograms, a probe box, and the 'said twice' probe that shows
what the reward model overpays for.

The form edits a reward-model job (``AlignConfig``, the one ``playground align`` runs) and trains
it through core's ``train_reward_model``, so a run here is the run of that job file.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from playground.core.align.config import AlignConfig
from playground.core.align.presets import REWARD_MODEL_STEPS, reward_model_job
from playground.qt.align.curves import RewardHistogram
from playground.qt.binding import Draft
from playground.qt.widgets.compact_form import compact_rows
from playground.qt.widgets.progress_strip import ProgressStrip


@dataclass
class RewardModelDraft:
    """What step 2 trains: the reward-model job, and whether the learner's own labels join its pairs."""

    job: AlignConfig = field(default_factory=reward_model_job)
    add_labels: bool = field(default=True, metadata={"label": "", "text": "Add my labels",
                                                     "help": "Train on your Feedback labels too (on by default: "
                                                             "lab 3 trains the reward model on your pairs)."})


#: the rows only full mode reads
FULL_ROWS = ("job.training.max_steps", "job.method.reward_batch", "job.method.reward_lr", "job.method.reward_head_lr")


class RewardPage(QWidget):
    sig_trained = Signal(object)
    """the TrainedRewardModel just trained and saved (its RewardModel, report, pairs, file, can_pay)"""

    def __init__(self, panel) -> None:
        super().__init__()
        self.panel, self.rm, self.saved_path, self.can_pay = panel, None, None, False
        self.learner_pairs: list = []   # the Feedback step's labels, as the panel passes them on
        self.probe_pair = None          # the dialogue chosen in Feedback, for the probe box
        self.draft = Draft(RewardModelDraft(), parent=self)
        self._mode = self.draft.get("job.method.reward_mode")
        self._steps = dict(REWARD_MODEL_STEPS)  # each mode keeps the steps the learner gave it
        lay = QVBoxLayout(self)
        lay.addWidget(panel.lesson(
            "<b>A reward model turns preferences into a number.</b> It is trained so that the chosen text of each pair "
            "scores higher than the rejected one (Bradley-Terry loss, -log sigmoid(r_chosen - r_rejected)). "
            "Quick mode keeps the model frozen and fits a linear head on its last-token features, so it trains "
            "in a moment; full mode trains the backbone too (minutes). Held-out accuracy says how often it ranks "
            "unseen pairs right, not what it overpays for."))
        self._build_form(lay)
        self._build_run_row(lay)
        self._build_results(lay)
        self.train.clicked.connect(self.start_training)
        self.score_btn.clicked.connect(self.score_probe)
        self.draft.connect_path("job.method.reward_mode", self._mode_changed)
        self._mode_changed()
        self._full_run = False
        self.draft.connect_path("job.method.reward_backbone", self._show_trains_on)
        panel.context.sig_model_changed.connect(self._model_changed)
        self._show_trains_on()

    def _show_trains_on(self, *_args) -> None:
        """Say which model the reward model will read, beside its Train button."""
        from playground.core.base.provenance import provenance_of

        if self.draft.get("job.method.reward_backbone") == "encoder":
            self.trains_on.setText("Reads the texts with the bundled encoder all-MiniLM-L6-v2 (not the model bar's "
                                   "model), so it can pay the policy in step 3.")
            return
        loaded = self.panel.context.session.current
        if loaded is None:
            self.trains_on.setText("Reads the texts with the model the model bar shows, once it has loaded.")
            return
        self.trains_on.setText(f"Reads the texts with {provenance_of(loaded).model_text}, as the model bar shows.")

    def _model_changed(self, _loaded) -> None:
        self._show_trains_on()
        if self.rm is not None and self.rm.backbone_kind != "encoder":
            self.result.setText(self.result.text().split(" (Out of date")[0]
                                + " (Out of date: the model bar changed since; train again to score with it.)")

    def _build_form(self, lay: QVBoxLayout) -> None:
        from playground.core.align.preferences import bundled_preferences

        form, self.rows = compact_rows(self.draft, "job.data.max_train_examples", "job.data.max_test_examples",
                                       "job.method.reward_backbone", "job.method.reward_mode", "add_labels",
                                       *FULL_ROWS, columns=2)
        self.pairs, self.test_pairs = self.rows["job.data.max_train_examples"], self.rows["job.data.max_test_examples"]
        self.backbone, self.mode = self.rows["job.method.reward_backbone"], self.rows["job.method.reward_mode"]
        self.full_steps, self.mine = self.rows["job.training.max_steps"], self.rows["add_labels"]
        # The tab trains on the bundled pairs: its counts run over those (a job file's 0 = all is not offered),
        # from a few pairs, below which a reward model learns nothing to see
        self.pairs.setRange(4, len(bundled_preferences("train")))
        self.test_pairs.setRange(2, len(bundled_preferences("test")))
        lay.addWidget(form)

    def _build_run_row(self, lay: QVBoxLayout) -> None:
        self.train = QPushButton("Train reward model")
        self.train.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        # which model the reward model reads, beside the button that trains it
        self.trains_on = QLabel("")
        self.trains_on.setWordWrap(True)
        self.trains_on.setObjectName("rewardTrainsOn")
        row = QHBoxLayout()
        row.addWidget(self.train)
        row.addWidget(self.trains_on, 1)
        lay.addLayout(row)
        # the one progress strip (phase, step x of y, time left, Stop); the reward model trained so
        # far is not kept on Stop
        self.strip = ProgressStrip("Stop training the reward model (Esc); the one trained so far is not kept.")
        self.strip.sig_stop.connect(self.panel.slot.stop)
        self.stop, self.progress = self.strip.stop_button, self.strip
        lay.addWidget(self.strip)

    def _build_results(self, lay: QVBoxLayout) -> None:
        self.result = QLabel("Not trained yet.")
        self.result.setWordWrap(True)
        lay.addWidget(self.result)
        self.hist = RewardHistogram()
        lay.addWidget(self.hist, 1)
        probe = QHBoxLayout()
        self.probe_text = QLineEdit()
        self.probe_text.setPlaceholderText("Type any summary to score it for the dialogue chosen in Feedback")
        self.score_btn = QPushButton("Score")
        self.score_btn.setEnabled(False)
        probe.addWidget(self.probe_text, 1)
        probe.addWidget(self.score_btn)
        lay.addLayout(probe)
        self.score_label = QLabel()
        lay.addWidget(self.score_label)

    # what the other steps pass on (through the panel) ---------------------------------------------
    def set_learner_pairs(self, pairs: list) -> None:
        self.learner_pairs = list(pairs)

    def set_probe_pair(self, pair) -> None:
        self.probe_pair = pair

    def _mode_changed(self) -> None:
        mode = self.draft.get("job.method.reward_mode")
        if mode != self._mode:  # quick fits a head in many cheap steps, full trains the backbone in few
            self._steps[self._mode] = self.draft.get("job.training.max_steps")
            self._mode = mode
            self.draft.set("job.training.max_steps", self._steps[mode])
        for path in FULL_ROWS:
            self.rows[path].setEnabled(mode == "full")

    def start_training(self) -> None:
        loaded = self.panel.context.ready_model(self.panel.say)
        if loaded is None:
            return
        import time

        from playground.core.align.events import RewardModelEvent
        from playground.core.base.paths import user_dirs

        src = loaded.source
        cfg = copy.deepcopy(self.draft.get("job"))
        cfg.model.source = "bundled" if src.kind == "bundled" else (loaded.info.folder or src.ref)
        extra = list(self.learner_pairs) if self.draft.get("add_labels") else []
        tok = loaded.tokenizer
        self.prompt_tokenizer, self.trained_cfg = tok, cfg
        folder = user_dirs().data / "align" / "reward_models" / time.strftime("%Y%m%d-%H%M%S")

        def policy_copy():  # LoRA goes on a training copy: the app's model stays as it is
            from playground.core.models.loading import load_model

            return load_model(src, device="cpu", dtype="float32", tokenizer=tok).model

        def work(handle):
            from playground.core.align.reward_run import train_reward_model

            trained = None
            for ev in train_reward_model(cfg, tok, loaded.model, extra_pairs=extra, handle=handle,
                                         policy_copy=policy_copy):
                if isinstance(ev, RewardModelEvent):
                    trained = ev.trained
                else:
                    handle.report(ev.fraction, ev.message)
            # saved, so that an Optimize run (which loads its own copy of the model) can be paid by it
            trained.save(folder / "reward_head.safetensors", cfg.model.source)
            return trained

        full = cfg.method.reward_mode == "full"
        self.train.setEnabled(False)
        self.strip.start("Computing features and fitting the head" if not full else "Starting")
        self._full_run = full
        self.stop.setEnabled(full)  # quick mode takes a moment and has no step to stop between
        self.trained_with = {"model": loaded.info.name}
        self.result.setText(f"Training the full reward model ({cfg.training.max_steps} steps of "
                            f"{cfg.method.reward_batch} pairs)..." if full else "Computing features and training...")
        self.panel.slot.start("Training the reward model", work, on_done=self._trained,
                              on_progress=self._progress, on_finished=self._finished)

    def _progress(self, fraction, message: str) -> None:
        self.strip.on_progress(fraction, message)
        self.stop.setEnabled(self._full_run)

    def _finished(self, task) -> None:
        self.train.setEnabled(True)
        self.strip.finish()
        if task.outcome == "cancelled":
            self.result.setText("Stopped: the reward model was not changed." if self.rm is not None
                                else "Stopped before the reward model was trained.")

    def _trained(self, trained) -> None:
        self.rm, self.saved_path, self.can_pay = trained.rm, trained.path, trained.can_pay
        self.report, self.trained_on = trained.result, (trained.train, trained.test)  # read by Labs and export
        self.result.setText(self._describe(trained))
        self.hist.show_scores(trained.result.chosen_scores, trained.result.rejected_scores)
        self.score_btn.setEnabled(True)
        self.sig_trained.emit(trained)

    def _describe(self, trained) -> str:
        w, m, report, probe = self.trained_with, self.trained_cfg.method, trained.result, trained.probe
        kind = trained.rm.backbone_kind
        which = "the bundled encoder all-MiniLM-L6-v2" if kind == "encoder" else f"the current model {w['model']}"
        how = "frozen features and a linear head"
        if trained.learning_rates:
            how = (f"full mode, {report.steps} steps of {m.reward_batch} pairs, "
                   + ("every encoder weight trained" if kind == "encoder" else "LoRA on a training copy")
                   + f" at learning rate {trained.learning_rates[0]:g} and the head at {trained.learning_rates[1]:g}")
        source = "bundled pairs" if self.trained_cfg.data.source == "bundled" else "pairs of the job's file"
        mine = trained.extra_pairs  # counted by the training itself, apart from the job's pairs
        pairs = f"{trained.job_pairs} {source}" + (f" and {mine} of your label{'s' * (mine != 1)}" if mine else "")
        return (f"Reward model on {which}, {how}, trained on {pairs} in {trained.seconds:.1f} s: train accuracy "
                f"{report.train_accuracy:.0%}, held-out accuracy {report.test_accuracy:.0%} on "
                f"{len(report.chosen_scores)} pairs. Probe: the reference summary said twice outscored the reference "
                f"itself on {probe['overpaid']} of {probe['pairs']} held-out dialogues"
                + (" - the reward model pays for length, which a policy can exploit (reward hacking)."
                   if probe["overpaid"] > probe["pairs"] // 2 else ".")
                + (" Saved for step 3's preset \"Your reward model\"." if trained.can_pay else
                   " It cannot pay the policy in step 3: that would need a second copy of the model in memory; "
                   "train an encoder reward model (quick or full) for that."))

    def score_probe(self) -> None:
        if self.rm is None or self.probe_pair is None or not self.probe_text.text().strip():
            return
        from playground.core.align.preferences import truncate_prompt

        # cut as the training prompts were: by the policy's tokenizer
        prompt = truncate_prompt(self.prompt_tokenizer, self.probe_pair.prompt, self.trained_cfg.data.max_prompt_tokens)
        text = self.probe_text.text()
        rm = self.rm

        def work(handle):
            return rm.score([prompt], [text])[0]

        self.panel.slot.start("Scoring", work,
                              on_done=lambda v: self.score_label.setText(f"Reward of your text: {v:+.3f}"))
