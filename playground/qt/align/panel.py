"""The Align tab: Feedback -> Reward model -> Optimize -> Result (lifecycle order: after
Fine-tune, before Evaluate). Every long step runs through the panel's task slot.

The pages never read each other: what one step hands to the next (the learner's labels and chosen
dialogue, the trained reward model, the finished run) goes through signals wired here."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout

from playground.qt.align.feedback import FeedbackPage
from playground.qt.align.optimize_page import OptimizePage, ResultPage
from playground.qt.align.reward_page import RewardPage
from playground.qt.panel import Panel


class AlignPanel(Panel):
    title = "Align"
    guide = "Align the model with what people prefer: feedback pairs, a reward model, then policy optimization."
    help = """<h2>Align: human feedback, a reward model, RLHF</h2>
<p><b>Human feedback</b> is collected as ranked pairs: for one prompt, the better and the worse answer.
A <b>reward model</b> learns to score the better one higher (Bradley-Terry: the loss is
&minus;log&nbsp;&sigma;(r<sub>chosen</sub>&nbsp;&minus;&nbsp;r<sub>rejected</sub>)). <b>Policy optimization</b>
(PPO, GRPO / RLOO, or DPO straight from the pairs) then changes the model to earn more reward, while a
<b>KL penalty</b> (weight beta) keeps it close to the reference model. With beta near 0 the policy can find
what the reward overpays for and exploit it: <b>reward hacking</b>, where the reward climbs while real
quality (the monitor metric, not optimized) falls.</p>"""
    notebook_kind = "alignment"

    def lab_events(self) -> dict:
        def trained(_rm) -> dict:
            report = getattr(self.reward, "report", None)
            return {"test_accuracy": float(report.test_accuracy) if report is not None else None}

        def policy_run(ev) -> dict:
            r = ev.report
            run = {"algorithm": r.get("method", ""), "kl_coef": float(r.get("beta", 0) or 0)}
            steps = r.get("per_step", [])
            if steps:
                run.update(reward_before=steps[0]["reward_mean"], reward_after=steps[-1]["reward_mean"])
            return run

        return {"preferences_labelled": (self.feedback.sig_labels_changed, lambda n: {"pairs": int(n)}),
                "reward_model_trained": (self.reward.sig_trained, trained),
                "policy_run": (self.optimize.sig_done, policy_run)}

    def notebook_state(self) -> dict | None:
        from playground.core.labs.experiments import alignment_experiment

        rw, op = self.reward, self.optimize
        return alignment_experiment(getattr(rw, "rm", None), getattr(rw, "report", None),
                                    getattr(rw, "trained_on", None), op.events, getattr(op, "last_config", None))

    def reveal(self, control: str):
        """A step's page (``feedback``, ``reward``, ``optimize``, ``result``), its step tab switched to it."""
        page = {"feedback": self.feedback, "reward": self.reward, "optimize": self.optimize,
                "result": self.result}.get(control)
        if page is not None:
            self.steps.setCurrentWidget(page)
        return page

    def __init__(self, context, parent=None) -> None:
        super().__init__(context, parent)
        lay = QVBoxLayout(self)
        lay.addWidget(self.lesson(
            "<b>Aligning a model with what people prefer takes four steps.</b> (1) Collect feedback as ranked pairs, "
            "(2) train a reward model on them, (3) optimize the policy to earn reward while a KL penalty keeps it near the "
            "reference, (4) check the result for reward hacking."))
        self.steps = QTabWidget()
        self.feedback = FeedbackPage(self)
        self.reward = RewardPage(self)
        self.optimize = OptimizePage(self)
        self.result = ResultPage(self)
        for i, (page, name) in enumerate(((self.feedback, "Feedback"), (self.reward, "Reward model"),
                                          (self.optimize, "Optimize"), (self.result, "Result")), 1):
            self.steps.addTab(page, f"{i} {name}")
        lay.addWidget(self.steps, 1)
        self.message = QLabel()
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        self.slot.say = self.say
        self.feedback.sig_labels.connect(self.reward.set_learner_pairs)
        self.feedback.sig_dialogue_changed.connect(self.reward.set_probe_pair)
        self.reward.sig_trained.connect(self.optimize.use_reward_model)
        self.optimize.sig_done.connect(self._done)
        self.feedback.announce()

    def say(self, text: str) -> None:
        self.message.setText(text)

    def _done(self, ev) -> None:
        self.result.show_done(ev, getattr(self.optimize, "last_start", None))
        self.steps.setCurrentWidget(self.result)
