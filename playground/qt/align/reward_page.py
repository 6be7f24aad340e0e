"""Step 2, Reward model: Bradley-Terry on frozen features (quick) or with its backbone trained too
(full), held-out accuracy, score histograms, a probe box, and the 'said twice' probe that shows
what the reward model overpays for."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from playground.qt.align.curves import RewardHistogram
from playground.qt.widgets.make import combo, show_progress, spin

#: full mode's learning rate per backbone: every weight of the encoder moves, so gently; LoRA more
FULL_LR = {"encoder": 5e-5, "policy": 1e-4}
#: full mode's head (it starts at zero: no gradient reaches the backbone until it moves)
FULL_HEAD_LR = 1e-3
#: pairs per full-mode optimizer step
FULL_BATCH = 4


class RewardPage(QWidget):
    sig_trained = Signal(object)
    """the RewardModel just trained"""

    def __init__(self, panel, feedback) -> None:
        super().__init__()
        self.panel, self.feedback, self.rm, self.saved_path, self.can_pay = panel, feedback, None, None, False
        lay = QVBoxLayout(self)
        lay.addWidget(panel.lesson(
            "A reward model turns preferences into a number: trained so that the chosen text of each pair "
            "scores higher than the rejected one (Bradley-Terry loss, -log sigmoid(r_chosen - r_rejected)). "
            "Quick mode keeps the model frozen and fits a linear head on its last-token features, so it trains "
            "in a moment; full mode trains the backbone too (minutes). Held-out accuracy says how often it ranks "
            "unseen pairs right, not what it overpays for."))
        form = QFormLayout()
        self.pairs = spin(4, 240, 48, "Bundled training pairs to use (features of each text are computed once).")
        form.addRow("Bundled pairs", self.pairs)
        self.test_pairs = spin(2, 60, 24, "Held-out pairs (other dialogues) for accuracy and the histograms.")
        form.addRow("Held-out pairs", self.test_pairs)
        self.backbone = combo(
            [("Bundled encoder all-MiniLM-L6-v2 (22.7M parameters, fast)", "encoder"),
             ("The current model (its last-token features)", "policy")],
            "Whose features the reward model's linear head reads. The encoder reads the summary as a sentence "
            "pair with the dialogue and is several times faster than a decoder; the current model is the one "
            "being aligned, with its adapter off.")
        form.addRow("Backbone", self.backbone)
        self.mode = combo(
            [("Quick: frozen features, a linear head learns (seconds)", "quick"),
             ("Full: the backbone learns too (minutes)", "full")],
            "Quick mode computes each text's features once and fits only a linear head on them, so you can "
            "relabel and retrain at once. Full mode trains end to end: every weight of the encoder (22.7M), or a "
            "LoRA adapter on a training copy of the current model, so the features themselves adapt to the "
            "preference. It is the way reward models are usually trained (trl's RewardTrainer), and slower.")
        form.addRow("Mode", self.mode)
        self.full_steps = spin(1, 500, 24, f"Full mode: optimizer steps, each on {FULL_BATCH} pairs (24 steps "
                                           f"go twice through 48 pairs).")
        form.addRow("Full-mode steps", self.full_steps)
        self.mine = QCheckBox("Add my labels")
        self.mine.setToolTip("Train on your Feedback labels too.")
        form.addRow("", self.mine)
        lay.addLayout(form)
        self.train = QPushButton("Train reward model")
        self.stop = QPushButton("Stop")
        self.stop.setToolTip("Stop full-mode training (Esc); the reward model trained so far is not kept.")
        self.stop.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        row = QHBoxLayout()
        for b in (self.train, self.stop):  # the buttons keep their size when the bar is hidden
            b.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
            row.addWidget(b)
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        lay.addLayout(row)
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
        self.train.clicked.connect(self.start_training)
        self.stop.clicked.connect(panel.slot.stop)
        self.score_btn.clicked.connect(self.score_probe)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self._mode_changed()

    def _mode_changed(self) -> None:
        self.full_steps.setEnabled(self.mode.currentData() == "full")

    def start_training(self) -> None:
        loaded = self.panel.context.ready_model(self.panel.say)
        if loaded is None:
            return
        from playground.core.align.preferences import bundled_preferences

        train = self.feedback.pairs[:self.pairs.value()] + (list(self.feedback.labels) if self.mine.isChecked() else [])
        test = bundled_preferences("test")[:self.test_pairs.value()]

        kind, mode, steps = self.backbone.currentData(), self.mode.currentData(), self.full_steps.value()
        self.prompt_tokenizer = loaded.tokenizer
        src = loaded.source
        source_name = "bundled" if src.kind == "bundled" else (loaded.info.folder or src.ref)
        model_name = loaded.info.name

        def work(handle):
            import time

            from playground.core.align.job import _truncate
            from playground.core.align.reward_model import RewardModel, probe_repeat
            from playground.core.base.paths import user_dirs

            tok = loaded.tokenizer
            short = lambda ps: [type(p)(_truncate(tok, p.prompt, 200), p.chosen, p.rejected, p.reason, p.id) for p in ps]  # noqa: E731
            tr, te = short(train), short(test)
            if kind == "encoder":
                from playground.core.align.reward_model import load_encoder_backbone

                handle.report(None, "Loading the bundled encoder...")
                encoder, encoder_tok = load_encoder_backbone(trainable=mode == "full")  # full: a private copy
                rm = RewardModel(encoder, encoder_tok, mode, "encoder")
            else:
                model = loaded.model
                if mode == "full":  # LoRA goes on a training copy: the app's model stays as it is
                    from playground.core.models.loading import load_model

                    handle.report(None, "Loading a training copy of the current model...")
                    model = load_model(src, device="cpu", dtype="float32", tokenizer=tok).model
                rm = RewardModel(model, tok, mode, "policy")
            began = time.perf_counter()
            if mode == "quick":
                handle.report(None, f"Features of {2 * len(tr) + 4 * len(te)} texts...")
                report = rm.train_quick(tr, te)
            else:
                def on_step(step, total, loss):
                    handle.report(step / total, f"Full reward model: step {step}/{total}, loss {loss:.3f}")
                    handle.raise_if_cancelled()

                handle.report(0.0, f"Full reward model: {steps} steps of {FULL_BATCH} pairs...")
                report = rm.train_full(tr, te, steps=steps, lr=FULL_LR[kind], batch_pairs=FULL_BATCH, on_step=on_step,
                                       head_lr=FULL_HEAD_LR)
            seconds = time.perf_counter() - began
            handle.report(None, "Probing: the reference said twice...")
            probe = probe_repeat(rm, te)
            # saved, so that an Optimize run (which loads its own copy of the model) can be paid by it
            path = rm.save(user_dirs().data / "align" / "reward_models" / time.strftime("%Y%m%d-%H%M%S")
                           / "reward_head.safetensors", source_name)
            return rm, report, probe, path, (tr, te), seconds

        self.train.setEnabled(False)
        self.stop.setEnabled(mode == "full")
        self.progress.setVisible(True)
        show_progress(self.progress, None)
        self.trained_with = {"model": model_name, "kind": kind, "mode": mode, "steps": steps,
                             "pairs": len(train), "mine": self.mine.isChecked()}
        self.result.setText("Computing features and training..." if mode == "quick" else
                            f"Training the full reward model ({steps} steps of {FULL_BATCH} pairs)...")
        self.panel.slot.start("Training the reward model", work, on_done=self._trained,
                              on_progress=self._progress, on_finished=self._finished)

    def _progress(self, fraction, message: str) -> None:
        show_progress(self.progress, fraction)
        self.result.setText(message)

    def _finished(self, task) -> None:
        self.train.setEnabled(True)
        self.stop.setEnabled(False)
        self.progress.setVisible(False)
        if task.outcome == "cancelled":
            self.result.setText("Stopped: the reward model was not changed." if self.rm is not None
                                else "Stopped before the reward model was trained.")

    def _trained(self, result) -> None:
        self.rm, report, probe, self.saved_path, self.trained_on, seconds = result
        self.report = report  # read by the Labs checks (held-out accuracy shown)
        w = self.trained_with
        # a full reward model on the causal model would need a second copy of it to pay the policy
        self.can_pay = not (w["mode"] == "full" and w["kind"] == "policy")
        which = ("the bundled encoder all-MiniLM-L6-v2" if w["kind"] == "encoder" else f"the current model {w['model']}")
        how = ("frozen features and a linear head" if w["mode"] == "quick" else
               f"full mode, {w['steps']} steps of {FULL_BATCH} pairs, "
               + ("every encoder weight trained" if w["kind"] == "encoder" else "LoRA on a training copy")
               + f" at learning rate {FULL_LR[w['kind']]:g} and the head at {FULL_HEAD_LR:g}")
        pairs = f"{w['pairs']} bundled pairs" + (" and your labels" if w["mine"] else "")
        self.result.setText(
            f"Reward model on {which}, {how}, trained on {pairs} in {seconds:.1f} s: train accuracy "
            f"{report.train_accuracy:.0%}, held-out accuracy {report.test_accuracy:.0%} on "
            f"{len(report.chosen_scores)} pairs. Probe: the reference summary said twice outscored the reference "
            f"itself on {probe['overpaid']} of {probe['pairs']} held-out dialogues"
            + (" - the reward model pays for length, which a policy can exploit (reward hacking)."
               if probe["overpaid"] > probe["pairs"] // 2 else ".")
            + (" Saved for step 3's preset \"Your reward model\"." if self.can_pay else
               " It cannot pay the policy in step 3: that would need a second copy of the model in memory; "
               "train an encoder reward model (quick or full) for that."))
        self.hist.show_scores(report.chosen_scores, report.rejected_scores)
        self.score_btn.setEnabled(True)
        self.sig_trained.emit(self.rm)

    def score_probe(self) -> None:
        if self.rm is None or not self.probe_text.text().strip():
            return
        from playground.core.align.job import _truncate

        # cut as the training prompts were: by the policy's tokenizer
        prompt = _truncate(self.prompt_tokenizer, self.feedback.pairs[self.feedback.index.value() - 1].prompt, 200)
        text = self.probe_text.text()
        rm = self.rm

        def work(handle):
            return rm.score([prompt], [text])[0]

        self.panel.slot.start("Scoring", work,
                              on_done=lambda v: self.score_label.setText(f"Reward of your text: {v:+.3f}"))
