"""The Align tab: Feedback -> Reward model -> Optimize -> Result (lifecycle order: after
Fine-tune, before Evaluate). Every long step runs through the panel's task slot."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QTabWidget, QVBoxLayout

from playground.qt.align.feedback import FeedbackPage
from playground.qt.align.optimize_page import OptimizePage, ResultPage
from playground.qt.align.reward_page import RewardPage
from playground.qt.panel import Panel


class AlignPanel(Panel):
    title = "Align"

    def __init__(self, context, parent=None) -> None:
        super().__init__(context, parent)
        lay = QVBoxLayout(self)
        lay.addWidget(self.lesson(
            "Aligning a model with what people prefer: (1) collect feedback as ranked pairs, (2) train a reward "
            "model on them, (3) optimize the policy to earn reward while a KL penalty keeps it near the "
            "reference, (4) check the result for reward hacking."))
        self.steps = QTabWidget()
        self.feedback = FeedbackPage(self)
        self.reward = RewardPage(self, self.feedback)
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
        self.optimize.sig_done.connect(self._done)

    def say(self, text: str) -> None:
        self.message.setText(text)

    def _done(self, ev) -> None:
        self.result.show_done(ev)
        self.steps.setCurrentWidget(self.result)
