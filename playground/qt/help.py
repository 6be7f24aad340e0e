"""In-app guides: one short lesson per tab (F1), and a first-run welcome tour."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QStackedWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

GUIDES: dict[str, str] = {
    "Prompt": """<h2>Prompt: in-context learning</h2>
<p>A <b>prompt</b> is the text the model reads; its <b>completion</b> is what it writes next. You can teach
a task inside the prompt without training: <b>zero-shot</b> only asks, <b>one-shot</b> shows one worked
example first, <b>few-shot</b> shows several.</p>
<p>Every example costs tokens in the <b>context window</b>, the most text the model can look at once. The
meter shows instruction, examples, dialogue and room for the answer. Compare 0, 1 and k shots side by side
and watch ROUGE: large models usually gain from examples; a model as small as the bundled one often copies
an example's wording and can score lower with more shots. When examples do not help, fine-tuning starts to
pay.</p>""",
    "Generate": """<h2>Generate: prompt and completion</h2>
<p>The model turns your text into <b>tokens</b> and predicts the next token, again and again: that is
<b>inference</b>. <b>Greedy</b> decoding always takes the most likely token, so it repeats itself exactly.
<b>Sampling</b> draws at random from the probabilities:</p>
<ul><li><b>Temperature</b> divides the scores before they become probabilities: below 1 sharpens (safer),
above 1 flattens (more varied, more mistakes).</li>
<li><b>Top-k</b> keeps only the k most likely tokens.</li>
<li><b>Top-p</b> keeps the smallest set of likely tokens whose probabilities add up to p.</li>
<li><b>Max new tokens</b> caps the length; the <b>seed</b> makes random draws repeatable.</li></ul>""",
    "Sampling": """<h2>Sampling: the next-token distribution</h2>
<p>For every position the model outputs a score (<b>logit</b>) for each of the tens of thousands of tokens
in its vocabulary; <b>softmax</b> turns them into probabilities that add up to 1. The settings then decide
which token is picked. Move a slider and watch the bars: grey bars are cut by top-k or top-p, the kept ones
are renormalised. <b>Entropy</b> measures how spread out the choice is.</p>""",
    "Inside": """<h2>Inside: tokens, embeddings, attention</h2>
<p>Text becomes <b>tokens</b> (words or pieces of words); each token becomes a vector, its
<b>embedding</b>; similar words get similar vectors (cosine similarity). In <b>self-attention</b> every token
weighs every other token; <b>multi-head</b> attention does this several times in parallel, and heads learn
different patterns. The <b>logit lens</b> shows what each layer would predict if it were the last.</p>""",
    "Fine-tune": """<h2>Fine-tune: teach the model the task</h2>
<p><b>Instruction fine-tuning</b> trains the model on prompt/answer pairs built with a template.
<b>Full fine-tuning</b> updates every weight; <b>LoRA</b> freezes them and trains small low-rank matrices
beside the attention layers (often under 1% of the weights); <b>prompt tuning</b> trains only a few
"virtual tokens" put in front of the input. Training memory is weights + gradients + optimizer states +
activations: PEFT methods save the middle two.</p>""",
    "Align": """<h2>Align: human feedback, a reward model, RLHF</h2>
<p><b>Human feedback</b> is collected as ranked pairs: for one prompt, the better and the worse answer.
A <b>reward model</b> learns to score the better one higher (Bradley-Terry: the loss is
&minus;log&nbsp;&sigma;(r<sub>chosen</sub>&nbsp;&minus;&nbsp;r<sub>rejected</sub>)). <b>Policy optimization</b>
(PPO, GRPO / RLOO, or DPO straight from the pairs) then changes the model to earn more reward, while a
<b>KL penalty</b> (weight beta) keeps it close to the reference model. With beta near 0 the policy can find
what the reward overpays for and exploit it: <b>reward hacking</b>, where the reward climbs while real
quality (the monitor metric, not optimized) falls.</p>""",
    "Evaluate": """<h2>Evaluate: ROUGE and BLEU</h2>
<p><b>ROUGE-1</b> counts shared words between a summary and a reference, <b>ROUGE-2</b> shared word pairs,
<b>ROUGE-L</b> the longest common subsequence (words in the same order). <b>BLEU</b> averages n-gram
precisions, with a penalty for short outputs. Both only match exact words: a good summary in other words
(synonyms) scores low, and a summary with the right words in a wrong order can score high.</p>""",
    "Lifecycle": """<h2>Lifecycle: precision, forgetting, scaling laws</h2>
<p><b>Precision</b>: fewer bits per weight save memory; perplexity, KL divergence from FP32 and top-1
agreement say what the rounding cost. <b>Forgetting</b>: fine-tuning can cost skills elsewhere; probes the
base passes, with the BF16 noise floor beside them, show whether it did. <b>Scaling laws</b>: training costs
about 6&middot;N&middot;D FLOPs; for a fixed budget there is a best split between model size and tokens.</p>""",
}

TOUR = [
    ("Welcome to LLM Playground", "This app lets you <i>see and feel</i> how large language models work, on this "
     "computer, offline. A small model, SmolLM2-135M-Instruct, is bundled and loads by itself."),
    ("The tabs follow a project's lifecycle", "Define the task, choose a model (the bar at the top, Ctrl+M), "
     "engineer prompts (<b>Prompt</b>, <b>Generate</b>), understand decoding (<b>Sampling</b>) and the "
     "model's insides (<b>Inside</b>), adapt it (<b>Fine-tune</b>) and measure it (<b>Evaluate</b>)."),
    ("Keys worth knowing", "Ctrl+Enter runs, Esc stops. Ctrl+= and Ctrl+- zoom every text and chart for a "
     "projector; Ctrl+0 resets. F1 opens the guide for the tab you are on."),
    ("Learn by doing", "Every control has a tooltip that explains its idea in a sentence or two. Start in "
     "<b>Generate</b>: type a question and press Ctrl+Enter. You can reopen this tour from the Help menu."),
]
START_TAB = "Generate"  # the tab the tour's last page names; its Start button opens it


def guide_picture_path(title: str) -> Path:
    """The guide's picture of a tab: a small PNG rendered from the app (packaging/guide_pictures.py)."""
    from playground.core.base.paths import resources_dir

    return resources_dir() / "guides" / f"{title.lower().replace(' ', '-')}.png"


def tab_lessons(panel: QWidget | None) -> list[str]:
    """The lesson paragraphs a tab shows beside its controls (Panel.lesson labels), in order, once each."""
    if panel is None:
        return []
    seen: list[str] = []
    for label in panel.findChildren(QLabel, "lesson"):
        if label.text() and label.text() not in seen:
            seen.append(label.text())
    return seen


def guide_for(title: str, panel: QWidget | None = None) -> str:
    """The F1 guide: the background for the tab, its picture, and every lesson the tab shows."""
    page = GUIDES.get(title, f"<h2>{title}</h2><p>No guide has been written for this tab yet.</p>")
    picture = guide_picture_path(title)
    if picture.is_file():
        page += (f"<p><img src='{picture.as_uri()}' width='500'><br><small>The {title} tab after one "
                 "action.</small></p>")
    lessons = tab_lessons(panel)
    if lessons:
        page += "<h3>In the tab</h3>" + "".join(f"<p>{text}</p>" for text in lessons)
    return page


class GuideDialog(QDialog):
    def __init__(self, title: str, parent: QWidget | None = None, panel: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Guide: {title}")
        self.resize(600, 640)
        self.browser = QTextBrowser()
        self.browser.setHtml(guide_for(title, panel))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


class WelcomeTour(QDialog):
    """A few pages with Back / Next / Skip; the last page's button is "Start in Generate" (accept)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome")
        self.resize(520, 300)
        self.pages = QStackedWidget()
        for heading, body in TOUR:
            page = QLabel(f"<h2>{heading}</h2><p>{body}</p>")
            page.setWordWrap(True)
            self.pages.addWidget(page)
        self.back = QPushButton("Back")
        self.next = QPushButton("Next")
        self.skip = QPushButton("Skip tour")
        self.back.clicked.connect(lambda: self.go(-1))
        self.next.clicked.connect(self._next)
        self.skip.clicked.connect(self.reject)
        buttons = QDialogButtonBox()
        for b in (self.skip, self.back, self.next):
            buttons.addButton(b, QDialogButtonBox.ButtonRole.ActionRole)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(buttons)
        self.go(0)

    def go(self, delta: int) -> None:
        i = max(0, min(self.pages.count() - 1, self.pages.currentIndex() + delta))
        self.pages.setCurrentIndex(i)
        self.back.setEnabled(i > 0)
        self.next.setText(f"Start in {START_TAB}" if i == self.pages.count() - 1 else "Next")

    def _next(self) -> None:
        if self.pages.currentIndex() == self.pages.count() - 1:
            self.accept()
        else:
            self.go(1)
