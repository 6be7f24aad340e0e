"""The Labs dock: a lab's steps beside the tabs, ticked by the app's own state.

A dock (not a dialog or a menu): the learner reads the step and works in the tab at the same time,
and a presenter can float it or widen it for a room. View > Labs (Ctrl+L) opens and closes it.
"""

from __future__ import annotations

import html

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFrame,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from playground.core.labs import LabProgress, load_labs, run_check
from playground.qt import design

TICK, OPEN = "✓", "○"
STEP_TEXT_SCALE = 1.4  # in presenter mode the step's text is this much larger than the zoomed body text


class LabsDock(QDockWidget):
    sig_step_ticked = Signal(str, str)
    """(lab id, step id): a step's check passed for the first time (it stays done until reset)"""
    sig_step_shown = Signal(str, int)
    """(lab id, step index) now on show"""

    def __init__(self, window, watcher, progress: LabProgress | None = None, labs_folder=None) -> None:
        super().__init__("Labs", window)
        self.setObjectName("LabsDock")
        self.window_ = window
        self.watcher = watcher
        self.progress = progress or LabProgress()
        self.labs, self.problems = load_labs(labs_folder)
        self.presenting = False

        self.lab_combo = QComboBox()
        # As wide as the dock gives it, not as its longest lab title (which widened the dock past a
        # third of the window at a presenter's zoom).
        self.lab_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.lab_combo.setMinimumContentsLength(12)
        for lab in self.labs:
            self.lab_combo.addItem(lab.title, lab.id)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.step_list = QListWidget()
        # A long step title ends in "…" (whole in its tooltip) rather than scrolling the list sideways.
        self.step_list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.step_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.step_list.setToolTip("The lab's steps. A tick appears by itself once the app has seen you do the step.")
        self.step_view = QTextBrowser()
        self.step_view.setOpenExternalLinks(False)
        self.status = QLabel()
        self.status.setWordWrap(True)
        design.set_type(self.status, "caption")
        problems = QLabel(html.escape(" ".join(self.problems)))
        problems.setWordWrap(True)
        problems.setStyleSheet(f"color: {design.current_colours().error};")
        problems.setVisible(bool(self.problems))
        self.problems_label = problems
        self.show_button = QPushButton("Show me")
        self.show_button.setToolTip("Open the step's tab and highlight the control it means.")
        self.back_button = QPushButton("◀ Back")
        self.next_button = QPushButton("Next ▶")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Clear this lab's ticks and start again from its first step.")
        self.present_button = QPushButton("Present")
        design.set_icon(self.present_button, "presenter")
        self.present_button.setCheckable(True)
        self.present_button.setToolTip("Presenter mode (View menu, Ctrl+Shift+P): large text for a room, inside the "
                                       "screen; Page Down / Page Up (or → / ←) step through the lab. Esc leaves it.")
        self.export_button = QPushButton("Notebook…")
        design.set_icon(self.export_button, "notebook")
        self.export_button.setToolTip("Save a Jupyter notebook that reproduces this lab's experiments with plain "
                                      "transformers, peft and rouge-score.")

        self._lay_out()

        # The highlight: a frame over the control, on top of the window, that lets clicks through.
        self.highlight = QFrame(window)
        self.highlight.setStyleSheet("border: 3px solid #e8a200; border-radius: 4px; background: transparent;")
        self.highlight.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.highlight.hide()
        self._highlight_timer = QTimer(self)
        self._highlight_timer.setSingleShot(True)
        self._highlight_timer.setInterval(2500)
        self._highlight_timer.timeout.connect(self.highlight.hide)
        self._highlight_timer.timeout.connect(self._unfollow)
        self._settle_timer = QTimer(self)
        self._settle_timer.setSingleShot(True)
        self._settle_timer.setInterval(0)
        self._settle_timer.timeout.connect(self._settle_later)

        self.lab_combo.currentIndexChanged.connect(lambda _: self._show_lab())
        self.step_list.currentRowChanged.connect(self._row_chosen)
        self.back_button.clicked.connect(lambda: self.go(-1))
        self.next_button.clicked.connect(lambda: self.go(1))
        self.show_button.clicked.connect(self.show_me)
        self.reset_button.clicked.connect(self.reset_lab)
        self.present_button.toggled.connect(self.set_presenting)
        self.export_button.clicked.connect(lambda: window.export_notebook_dialog(self.lab()))
        self._keys = []
        for keys, d in ((("PgDown", "Right"), 1), (("PgUp", "Left"), -1)):
            for k in keys:
                sc = QShortcut(QKeySequence(k), window)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                sc.setEnabled(False)
                sc.activated.connect(lambda d=d: self.go(d))
                self._keys.append(sc)
        watcher.sig_state_changed.connect(self.evaluate)
        self._show_lab()
        self.evaluate()

    def _lay_out(self) -> None:
        body = QWidget()
        v = QVBoxLayout(body)
        for w, stretch in ((self.lab_combo, 0), (self.problems_label, 0), (self.intro, 0), (self.step_list, 1),
                           (self.step_view, 2), (self.status, 0)):
            v.addWidget(w, stretch)
        # Two rows of three short buttons: the dock keeps to a third of a 1200 px window, zoomed or not.
        for row in ((self.back_button, self.show_button, self.next_button),
                    (self.reset_button, self.present_button, self.export_button)):
            line = QHBoxLayout()
            for b in row:
                line.addWidget(b)
            v.addLayout(line)
        self.setWidget(body)

    # what is on show -------------------------------------------------------------------------------
    def lab(self):
        i = self.lab_combo.currentIndex()
        return self.labs[i] if 0 <= i < len(self.labs) else None

    def step_index(self) -> int:
        return max(0, self.step_list.currentRow())

    def current_step(self):
        lab = self.lab()
        return lab.steps[self.step_index()] if lab else None

    def is_ticked(self, step_id: str, lab_id: str | None = None) -> bool:
        lab_id = lab_id or (self.lab().id if self.lab() else "")
        return step_id in self.progress.done(lab_id)

    def select_lab(self, lab_id: str) -> None:
        i = self.lab_combo.findData(lab_id)
        if i >= 0:
            self.lab_combo.setCurrentIndex(i)

    def _show_lab(self) -> None:
        lab = self.lab()
        self.step_list.blockSignals(True)
        self.step_list.clear()
        if lab is None:
            self.intro.setText("No lab could be loaded.")
            self.step_list.blockSignals(False)
            return
        self.intro.setText(lab.intro)
        for step in lab.steps:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, step.id)
            self.step_list.addItem(item)
        self.step_list.blockSignals(False)
        self._refresh_ticks()
        self.step_list.setCurrentRow(min(self.progress.current(lab.id), len(lab.steps) - 1))
        self._show_step()

    def _refresh_ticks(self) -> None:
        lab = self.lab()
        if lab is None:
            return
        done = self.progress.done(lab.id)
        for i, step in enumerate(lab.steps):
            item = self.step_list.item(i)
            item.setText(f"{TICK if step.id in done else OPEN}  {i + 1}. {step.title}")
            item.setToolTip(f"{step.title}: " + ("done" if step.id in done else "not done yet"))

    def _row_chosen(self, row: int) -> None:
        lab = self.lab()
        if lab is not None and row >= 0:
            self.progress.set_current(lab.id, row)
            self._show_step()

    def _show_step(self) -> None:
        lab, step = self.lab(), self.current_step()
        if step is None:
            return
        done = self.is_ticked(step.id)
        parts = [f"<h3>{html.escape(step.title)}</h3>",
                 f"<p><b>Do</b> ({html.escape(step.tab)} tab): {html.escape(step.do)}</p>"]
        if step.look:
            parts.append(f"<p><b>Look for:</b> {html.escape(step.look)}</p>")
        if step.question:
            parts.append(f"<p><b>Think:</b> <i>{html.escape(step.question)}</i></p>")
        if done and step.explain:
            parts.append(f"<p style='color:{design.current_colours().ok}'><b>{TICK} Done.</b> "
                         f"{html.escape(step.explain)}</p>")
        self.step_view.setHtml("".join(parts))
        detail = run_check(step.check, self.watcher.state).detail
        self.status.setText(f"{TICK} {detail}" if done else detail)
        i = self.step_index()
        self.back_button.setEnabled(i > 0)
        self.next_button.setEnabled(i < len(lab.steps) - 1)
        self.sig_step_shown.emit(lab.id, i)

    # acting ------------------------------------------------------------------------------------------
    def evaluate(self) -> None:
        """Ask every step's check about the state now; newly passed steps are ticked and kept."""
        ticked = []
        for lab in self.labs:
            for step in lab.steps:
                if step.id not in self.progress.done(lab.id) and run_check(step.check, self.watcher.state).passed:
                    self.progress.mark_done(lab.id, step.id)
                    ticked.append((lab.id, step.id))
        self._refresh_ticks()
        self._show_step()
        for lab_id, step_id in ticked:
            self.sig_step_ticked.emit(lab_id, step_id)

    def go(self, delta: int) -> None:
        lab = self.lab()
        if lab is not None:
            self.step_list.setCurrentRow(max(0, min(len(lab.steps) - 1, self.step_index() + delta)))

    def reset_lab(self) -> None:
        lab = self.lab()
        if lab is None:
            return
        self.progress.reset(lab.id)
        self._refresh_ticks()
        self.step_list.setCurrentRow(0)
        self._show_step()

    def show_me(self):
        """Open the step's tab, let the tab reveal the control the step names (``Panel.reveal``: its sub-tab or
        page switched) and outline it; returns the control (None when the step names none the tab has)."""
        step = self.current_step()
        self.show_me_widget = None
        if step is None:
            return None
        panels = {getattr(p, "title", ""): p for p in self.window_.panels}
        panel = panels.get(step.tab)
        if panel is None:
            self.status.setText(f"The {step.tab} tab is not in this build.")
            return None
        self.window_.tabs.setCurrentIndex(self.window_.panels.index(panel))
        widget = panel.reveal(step.control) if step.control else None
        if widget is None:
            if step.control:
                self.status.setText(f"The {step.tab} tab has no control called '{step.control}' (the lab file's "
                                    "'control').")
            self.highlight.hide()
            return None
        self.show_me_widget = widget
        self._follow(widget)
        # The tab or page just switched is laid out only now and may still grow (wrapped lessons take their
        # height after a first pass): scroll and place now, and again whenever its size changes while the
        # outline shows, so the outline sits on the control, in view.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
        self._settle(scroll=True)
        self.highlight.show()
        self.highlight.raise_()
        self._highlight_timer.start()
        return widget

    show_me_widget = None
    """the control the last *Show me* outlined (None when it outlined nothing)"""

    def _follow(self, widget) -> None:
        """Watch the control and every widget holding it for moves and resizes while the outline shows."""
        self._unfollow()
        chain, w = [], widget
        while w is not None and w is not self.window_:
            w.installEventFilter(self)
            chain.append(w)
            w = w.parentWidget()
        self._followed = chain

    def _unfollow(self) -> None:
        for w in getattr(self, "_followed", []):
            try:
                w.removeEventFilter(self)
            except RuntimeError:  # deleted meanwhile
                pass
        self._followed = []

    def eventFilter(self, obj, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.Move, QEvent.Type.Resize, QEvent.Type.LayoutRequest) and self.highlight.isVisible():
            # a size that changes is the layout settling: scroll again; a move alone may be the learner scrolling
            self._rescroll = self._rescroll or kind != QEvent.Type.Move
            self._settle_timer.start()  # once, after this round of events
        return False

    _rescroll = False

    def _settle_later(self) -> None:
        scroll, self._rescroll = self._rescroll, False
        self._settle(scroll)

    def _settle(self, scroll: bool) -> None:
        widget = self.show_me_widget
        if widget is None or not widget.isVisible():
            return
        if scroll:
            parent = widget.parentWidget()
            while parent is not None:  # every area holding it (the tab's own, then the window's)
                if isinstance(parent, QScrollArea):
                    parent.ensureWidgetVisible(widget)
                parent = parent.parentWidget()
        top_left = widget.mapTo(self.window_, QPoint(0, 0))
        self.highlight.setGeometry(QRect(top_left, widget.size()).adjusted(-4, -4, 4, 4))

    def set_presenting(self, on: bool) -> None:
        """Presenter mode, the window's (``MainWindow.set_presenting``): it calls ``show_presenting`` back."""
        self.window_.set_presenting(bool(on))

    def show_presenting(self, on: bool) -> None:
        """The dock's part of presenter mode: larger step text, Page Down / Page Up keys, the button's state."""
        self.presenting = bool(on)
        font = QFont(self.step_view.font())
        base = self.window_.presenter.base_point_size * self.window_.presenter.zoom
        font.setPointSizeF(base * (STEP_TEXT_SCALE if on else 1.0))
        self.step_view.setFont(font)
        # the presenter's zoom scales fonts set in code from their size at zoom 1
        self.step_view.setProperty("pg_base_point_size", font.pointSizeF() / self.window_.presenter.zoom)
        for sc in self._keys:
            sc.setEnabled(self.presenting)
        if self.present_button.isChecked() != self.presenting:
            self.present_button.setChecked(self.presenting)
