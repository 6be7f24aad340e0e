"""Render the F1 guides' pictures from the app itself: one small PNG per tab under resources/guides/.

Run it after a visible change to a tab (it loads the bundled model, so it takes a minute)::

    PLAYGROUND_HOME=/tmp/guide-home QT_QPA_PLATFORM=offscreen python packaging/guide_pictures.py [TITLE ...]

With tab titles, only those pictures are rendered again; the others keep their picture and get their
caption written again (``--captions-only``: every picture kept, captions written). Each picture is the tab after one action where the action is quick (Generate
writes, Inside analyses its sentence, Sampling reads its prompt, Lifecycle calculates a budget), or the
tab as it opens with what to do first; its caption says which (``CAPTIONS``), and travels inside the PNG
(its ``Description`` text), so the F1 guide shows what the picture really is. Scaled to 560 px wide.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

WIDTH = 560
CAPTION_KEY = "Description"  # the PNG text the F1 guide reads (playground.qt.help.picture_caption)
CHINCHILLA_FLOPS = "5.76e23"

CAPTIONS = {
    "Prompt": "The Prompt tab as it opens, nothing run yet. First press Generate (Ctrl+Enter): the model's summary "
              "of the dialogue, and its ROUGE against the reference, appear under Output.",
    "Generate": "The Generate tab after one action: the bundled model answered 'What is a language model?'.",
    "Sampling": "The Sampling tab after one action: it read its prompt and shows the bundled model's next-token "
                "distribution.",
    "Inside": "The Inside tab after one action: Analyse, on the attention view of its sentence.",
    "Fine-tune": "The Fine-tune tab as it opens, on its first step (Model). First press Next to choose the data, "
                 "then the method: the memory estimate is on the Method step.",
    "Align": "The Align tab as it opens, on its first step (Feedback). First press Sample two summaries and say "
             "which one is better.",
    "Evaluate": "The Evaluate tab as it opens, nothing scored yet. First press Evaluate (Ctrl+Enter): the scores, "
                "their chart and each example's matching words appear on the right.",
    "Lifecycle": f"The Lifecycle tab after one action: Calculate in its Scaling laws section with Chinchilla's "
                 f"budget ({CHINCHILLA_FLOPS} FLOPs), which puts both fits' compute-optimal model sizes on the "
                 "chart. Precision and Forgetting each start with their own Run button.",
    "Build": "The Build tab as it opens: the bundled knowledge base (Kestrany) being read and indexed (the progress "
             "strip at the bottom, with Stop); its documents then show with their sizes and chunks. First pick a "
             "question in Query X-ray and press Search: every chunk's score, the chunks retrieved and the prompt "
             "appear.",
}

NEEDS_MODEL = {"Prompt", "Generate", "Sampling", "Inside", "Fine-tune", "Align", "Evaluate"}
"""the tabs pictured with the bundled model loaded (Lifecycle's picture needs none)"""


def calculate_chinchilla(window) -> None:
    """The Lifecycle picture's action: Scaling laws, the budget typed in, Calculate pressed."""
    lifecycle = window.panel("LifecyclePanel")
    page = lifecycle.scaling
    lifecycle.sections.setCurrentWidget(page)
    for edit, text in ((page.params_edit, ""), (page.tokens_edit, ""), (page.flops_edit, CHINCHILLA_FLOPS)):
        edit.setText(text)
    page.calc_button.click()


def save_picture(pixmap_or_image, path: Path, caption: str) -> None:
    image = pixmap_or_image if isinstance(pixmap_or_image, QImage) else pixmap_or_image.toImage()
    if image.format() != QImage.Format.Format_Indexed8:
        # 256 colours: a screen of flat widgets loses nothing visible and the file shrinks by half.
        image = image.convertToFormat(QImage.Format.Format_Indexed8)
    image.setText(CAPTION_KEY, caption)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(path), "PNG")
    print(f"{path}: {path.stat().st_size / 1024:.0f} KB", flush=True)


def main(only: list[str]) -> int:
    from playground.core.base.settings import Settings
    from playground.qt.context import AppContext
    from playground.qt.help import guide_picture_path
    from playground.qt.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    context = AppContext(settings=Settings(Path("/tmp") / "guide-pictures-settings.json"))
    window = MainWindow(context)
    window.resize(1280, 820)
    window.build_tabs()
    window.show()
    titles = [p.title for p in window.panels]
    unknown = set(CAPTIONS) ^ set(titles)
    if unknown:
        raise SystemExit(f"CAPTIONS and the tabs differ: {sorted(unknown)}")
    wanted = [] if only == ["--captions-only"] else [t for t in titles if not only or t in only]
    for title in titles:  # a picture kept: its caption written again
        path = guide_picture_path(title)
        if title not in wanted and path.is_file():
            save_picture(QImage(str(path)), path, CAPTIONS[title])
    gen, inside, sampling = (window.panel(n) for n in ("GeneratePanel", "InsidePanel", "SamplingPanel"))

    def start_work():
        calculate_chinchilla(window)
        gen.prompt_edit.setPlainText("What is a language model?")
        gen.max_tokens.setValue(24)
        gen.generate()
        inside.view_tabs.setCurrentIndex(list(inside.views).index("attention"))

    def grab(k):
        i = titles.index(wanted[k])
        window.tabs.setCurrentIndex(i)
        QTimer.singleShot(800, lambda: save(k, i))

    def save(k, i):
        panel = window.panels[i]
        picture = window.tabs.currentWidget().grab().scaledToWidth(WIDTH, Qt.TransformationMode.SmoothTransformation)
        save_picture(picture, guide_picture_path(panel.title), CAPTIONS[panel.title])
        if k + 1 < len(wanted):
            grab(k + 1)
        else:
            app.quit()

    if not wanted:
        return 0
    # (condition, action) run one after another as each condition comes true
    steps = [(lambda: context.session.current is not None, start_work),
             (lambda: not gen.busy and gen.tokens > 0, inside.analyse),
             (lambda: not inside.busy and inside.result is not None and not sampling.busy and bool(sampling.steps),
              lambda: grab(0))]
    if not NEEDS_MODEL & set(wanted):  # nothing to wait for: no model loaded
        steps = [(lambda: True, lambda: (calculate_chinchilla(window), grab(0)))]
    poll = QTimer()

    def tick():
        if steps and steps[0][0]():
            steps.pop(0)[1]()
        if not steps:
            poll.stop()

    poll.timeout.connect(tick)
    poll.start(200)
    QTimer.singleShot(400_000, app.quit)  # never hang a build
    if NEEDS_MODEL & set(wanted):
        window.load_default_model()
    app.exec()
    context.runner.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
