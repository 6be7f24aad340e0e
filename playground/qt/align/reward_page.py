"""Step 2, Reward model: Bradley-Terry on frozen features (quick), held-out accuracy, score
histograms, a probe box, and the 'said twice' probe that shows what the reward model overpays for."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from playground.qt.align.curves import RewardHistogram


class RewardPage(QWidget):
    sig_trained = Signal(object)
    """the RewardModel just trained"""

    def __init__(self, panel, feedback) -> None:
        super().__init__()
        self.panel, self.feedback, self.rm, self.saved_path = panel, feedback, None, None
        lay = QVBoxLayout(self)
        lay.addWidget(panel.lesson(
            "A reward model turns preferences into a number: trained so that the chosen text of each pair "
            "scores higher than the rejected one (Bradley-Terry loss, -log sigmoid(r_chosen - r_rejected)). "
            "Quick mode keeps the model frozen and fits a linear head on its last-token features, so it trains "
            "in a moment. Held-out accuracy says how often it ranks unseen pairs right, not what it overpays for."))
        form = QFormLayout()
        self.pairs = QSpinBox()
        self.pairs.setRange(4, 240)
        self.pairs.setValue(48)
        self.pairs.setToolTip("Bundled training pairs to use (features of each text are computed once).")
        form.addRow("Bundled pairs", self.pairs)
        self.test_pairs = QSpinBox()
        self.test_pairs.setRange(2, 60)
        self.test_pairs.setValue(24)
        self.test_pairs.setToolTip("Held-out pairs (other dialogues) for accuracy and the histograms.")
        form.addRow("Held-out pairs", self.test_pairs)
        self.backbone = QComboBox()
        self.backbone.addItem("Bundled encoder all-MiniLM-L6-v2 (22.7M parameters, fast)", "encoder")
        self.backbone.addItem("The current model (its last-token features)", "policy")
        self.backbone.setToolTip(
            "Whose features the reward model's linear head reads. The encoder reads the summary as a sentence "
            "pair with the dialogue and is several times faster than a decoder; the current model is the one "
            "being aligned, with its adapter off.")
        form.addRow("Backbone", self.backbone)
        self.mine = QCheckBox("Add my labels")
        self.mine.setToolTip("Train on your Feedback labels too.")
        form.addRow("", self.mine)
        lay.addLayout(form)
        self.train = QPushButton("Train reward model")
        lay.addWidget(self.train)
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
        self.score_btn.clicked.connect(self.score_probe)

    def start_training(self) -> None:
        loaded = self.panel.context.ready_model(self.panel.say)
        if loaded is None:
            return
        from playground.core.align.preferences import bundled_preferences

        train = self.feedback.pairs[:self.pairs.value()] + (list(self.feedback.labels) if self.mine.isChecked() else [])
        test = bundled_preferences("test")[:self.test_pairs.value()]

        kind = self.backbone.currentData()
        self.prompt_tokenizer = loaded.tokenizer
        src = loaded.source
        source_name = "bundled" if src.kind == "bundled" else (loaded.info.folder or src.ref)

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
                encoder, encoder_tok = load_encoder_backbone()
                rm = RewardModel(encoder, encoder_tok, "quick", "encoder")
            else:
                rm = RewardModel(loaded.model, tok, "quick", "policy")
            handle.report(None, f"Features of {2 * len(tr) + 4 * len(te)} texts...")
            report = rm.train_quick(tr, te)
            probe = probe_repeat(rm, te)
            # saved, so that an Optimize run (which loads its own copy of the model) can be paid by it
            path = rm.save(user_dirs().data / "align" / "reward_models" / time.strftime("%Y%m%d-%H%M%S")
                           / "reward_head.safetensors", source_name)
            return rm, report, probe, path, (tr, te)

        self.train.setEnabled(False)
        self.result.setText("Computing features and training...")
        self.panel.slot.start("Training the reward model", work, on_done=self._trained,
                              on_finished=lambda *_: self.train.setEnabled(True))

    def _trained(self, result) -> None:
        self.rm, report, probe, self.saved_path, self.trained_on = result
        self.report = report  # read by the Labs checks (held-out accuracy shown)
        which = ("the bundled encoder's" if self.rm.backbone_kind == "encoder" else "the current model's")
        self.result.setText(
            f"Trained on {which} frozen features: train accuracy {report.train_accuracy:.0%}, held-out accuracy "
            f"{report.test_accuracy:.0%} on {len(report.chosen_scores)} pairs. Probe: the reference summary "
            f"said twice outscored the reference itself on {probe['overpaid']} of {probe['pairs']} held-out "
            "dialogues" + (" - the reward model pays for length, which a policy can exploit (reward hacking)."
                           if probe["overpaid"] > probe["pairs"] // 2 else ".")
            + " Saved for step 3's preset \"Your reward model\".")
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
