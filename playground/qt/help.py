"""In-app guides: the F1 guide of a tab (its ``help`` page, picture and lessons), and a first-run welcome tour."""

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

def start_panel_class() -> type:
    """The tab the app opens on at a first start: the first entry of the tabs table (``playground.qt.tabs``)."""
    import importlib

    from playground.qt.tabs import TABS

    module, cls = TABS[0]
    return getattr(importlib.import_module(module), cls)


def __getattr__(name: str):
    if name == "START_TAB":  # the tab the tour's last page names; its Start button opens it
        return start_panel_class().title
    raise AttributeError(name)


def tour_pages() -> list[tuple[str, str]]:
    """The welcome tour's pages (heading, rich text); the last one names the tab the app opens on."""
    start = start_panel_class()
    return [
        ("Welcome to LLM Playground", "This app lets you <i>see and feel</i> how large language models work, on "
         "this computer, offline. A small model, SmolLM2-135M-Instruct, is bundled and loads by itself."),
        ("The tabs follow a project's lifecycle", "Choose a model (the bar at the top, Ctrl+M), engineer prompts "
         "(<b>Prompt</b>, <b>Generate</b>), understand decoding (<b>Sampling</b>) and the model's insides "
         "(<b>Inside</b>), adapt it by training (<b>Fine-tune</b>) and to what people prefer (<b>Align</b>), "
         "measure it (<b>Evaluate</b>), see what comes after training: precision, forgetting and scaling "
         "laws (<b>Lifecycle</b>), and build with it: answers grounded in your own documents (<b>Build</b>)."),
        ("Guided labs", "<b>Labs</b> (View menu, Ctrl+L) open beside the tabs: a lab's steps tick by themselves "
         "as you do them, <i>Show me</i> points at the control a step means, and a lab can be saved as a "
         "Jupyter notebook that reproduces it."),
        ("Keys worth knowing", "Ctrl+Enter runs, Esc stops. <b>Presenter mode</b> (View menu, Ctrl+Shift+P or "
         "F11) makes every text and chart larger for a room and keeps the window on the screen; Esc leaves it. "
         "Ctrl+= and Ctrl+- zoom by steps, Ctrl+0 resets. View &gt; Theme follows the desktop's light or dark "
         "scheme, or keeps one. F1 opens the guide for the tab you are on."),
        ("Learn by doing", f"The app opens on <b>{start.title}</b>: {start.guide} Press Ctrl+Enter there to run "
         "it. Every control has a tooltip that explains its idea in a sentence or two. You can reopen this "
         "tour from the Help menu."),
    ]


def guide_picture_path(title: str) -> Path:
    """The guide's picture of a tab: a small PNG rendered from the app (packaging/guide_pictures.py)."""
    from playground.core.base.paths import resources_dir

    return resources_dir() / "guides" / f"{title.lower().replace(' ', '-')}.png"


def picture_caption(path: Path) -> str:
    """What a guide picture shows, as its PNG says (its ``Description`` text, written by
    packaging/guide_pictures.py): the action taken before it, or what to do first; '' when it says nothing."""
    from PySide6.QtGui import QImageReader

    return QImageReader(str(path)).text("Description").strip()


def tab_lessons(panel: QWidget | None) -> list[str]:
    """The lesson paragraphs a tab shows beside its controls (Panel.lesson labels), in order, once each."""
    if panel is None:
        return []
    seen: list[str] = []
    for label in panel.findChildren(QLabel, "lesson"):
        text = label.full_text() if hasattr(label, "full_text") else label.text()  # folded ones whole
        if text and text not in seen:
            seen.append(text)
    return seen


def guide_for(panel: QWidget) -> str:
    """The F1 guide: the background for the tab (its ``help``), its picture, and every lesson the tab shows."""
    title = panel.title
    page = panel.help or f"<h2>{title}</h2><p>No guide has been written for this tab yet.</p>"
    picture = guide_picture_path(title)
    if picture.is_file():
        import html

        caption = picture_caption(picture) or f"The {title} tab."
        page += f"<p><img src='{picture.as_uri()}' width='500'><br><small>{html.escape(caption)}</small></p>"
    lessons = tab_lessons(panel)
    if lessons:
        page += "<h3>In the tab</h3>" + "".join(f"<p>{text}</p>" for text in lessons)
    return page


class GuideDialog(QDialog):
    """The F1 guide of a panel (a Panel: its ``title`` and ``help``)."""

    def __init__(self, panel: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Guide: {panel.title}")
        self.resize(600, 640)
        self.browser = QTextBrowser()
        self.browser.setHtml(guide_for(panel))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)


class WelcomeTour(QDialog):
    """A few pages with Back / Next / Skip; the last page's button is "Start in <the first tab>" (accept)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome")
        self.resize(520, 300)
        self.pages = QStackedWidget()
        self.start_tab = start_panel_class().title
        for heading, body in tour_pages():
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
        self.next.setText(f"Start in {self.start_tab}" if i == self.pages.count() - 1 else "Next")

    def _next(self) -> None:
        if self.pages.currentIndex() == self.pages.count() - 1:
            self.accept()
        else:
            self.go(1)
