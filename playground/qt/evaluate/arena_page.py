"""The Evaluate tab's Arena section: two systems answer the same prompt, shown blind as A and B; the
learner votes, the names are revealed, the votes build a leaderboard and become preference pairs for
the Align tab's reward model. The work is in ``playground.core.evaluation.arena*``."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from playground.core.base.errors import InputError, describe_exception
from playground.qt.evaluate.arena_board import ArenaBoard
from playground.qt.evaluate.systems import SystemRow
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.compact_form import cap_width
from playground.qt.widgets.make import button, group, note_label, splitter

LESSON = (
    "<b>People judge models best by comparing two answers side by side, without knowing which model wrote "
    "which.</b> Two systems answer the same prompt; their answers are shown as A and B in random order, and "
    "the names appear only after your vote. The votes fit a Bradley-Terry model (each system a strength; the "
    "stronger wins more often) with intervals from resampling, as Chatbot Arena ranks models. A vote for A or "
    "B is also a preference pair (prompt, chosen, rejected): send them to the Align tab and its reward model "
    "learns your taste, then check whether it agrees with votes it did not see.")
VOTE_KEYS = {"a": ("A is better", "A"), "b": ("B is better", "B"), "tie": ("Tie", "T"),
             "both_bad": ("Both are bad", "X")}
VOTE_TIPS = {"a": "The left answer is better.", "b": "The right answer is better.",
             "tie": "Both are as good: counts half a win each in the leaderboard, and makes no preference pair.",
             "both_bad": "Neither answers well: counts as a tie in the leaderboard (as FastChat does) and makes "
                         "no preference pair."}


class ArenaPage(QWidget):
    notebook_kind = "arena"
    sig_voted = Signal(dict)
    """a vote was stored: {"votes": all votes, "decisive": votes for A or B, "systems": [the two names]}"""
    sig_sent = Signal(dict)
    """votes were sent to Align: {"added": new pairs, "total": labels now}"""
    sig_agreement = Signal(dict)
    """a reward model on arena votes was measured: {"agree": int, "held_out": int, "rate": float}"""

    def __init__(self, context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from playground.core.evaluation.arena_settings import ArenaSettings
        from playground.core.evaluation.run import K_SHOT, ZERO_SHOT
        from playground.qt.binding import Draft, form_row
        from playground.qt.widgets.progress_strip import ProgressStrip
        from playground.qt.widgets.result_header import ResultHeader

        self.context = context
        self.slot = TaskSlot(context.runner, parent=self)
        self.board_slot = TaskSlot(context.runner, parent=self)
        self.draft = Draft(ArenaSettings(), self)
        self.matchup = None
        self.voted = None
        self._systems = None  # (key, ArenaSystems): an adapter stays loaded between rounds
        self.message = note_label()
        self.slot.say = self.message.setText
        # The board refits after every vote: its start must not wipe the message the vote just left.
        self.board_slot.say = lambda text: text and self.message.setText(text)
        self.rows = [SystemRow(1, ZERO_SHOT, True), SystemRow(2, K_SHOT, True)]
        sys_lay = QVBoxLayout()
        for r in self.rows:
            sys_lay.addWidget(r)
        sys_lay.addWidget(note_label("Pick one system to test yourself against it, or the same one twice.",
                                     "One system, or two identical ones, is allowed: the leaderboard should "
                                     "then show them level."))
        form = QFormLayout()
        self.form = {}
        for path in ("source", "dialogue", "template", "temperature", "max_new_tokens"):
            label, widget = form_row(self.draft, path)
            form.addRow(label, cap_width(widget))  # a long choice is elided, not widening the column
            self.form[path] = widget
        self.typed = QPlainTextEdit()
        self.typed.setPlaceholderText("Your own prompt (for 'Typed text')…")
        self.typed.setToolTip("Text both systems answer as a chat message.")
        self.typed.setMaximumHeight(70)
        self.generate_button = button("Generate both  (Ctrl+Enter)", "Both systems answer the prompt in the "
                                      "background; the answers are shown in random order.", self.generate)
        self.strip = ProgressStrip("Stop the answers (Esc); nothing is stored until you vote.").attach(self.slot)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addWidget(group("Two systems", sys_lay))
        col.addWidget(group("The prompt", form))
        col.addWidget(self.typed)
        col.addWidget(self.generate_button)
        col.addWidget(self.message)
        col.addStretch(1)
        self.header = ResultHeader(empty="No answers yet: choose two systems and a prompt, then Generate both.")
        self.prompt_view = QPlainTextEdit()
        self.prompt_view.setReadOnly(True)
        self.prompt_view.setMaximumHeight(64)
        self.prompt_view.setToolTip("The prompt both systems answered.")
        self.a_view, self.b_view = QPlainTextEdit(), QPlainTextEdit()
        for box, side in ((self.a_view, "A"), (self.b_view, "B")):
            box.setReadOnly(True)
            box.setPlaceholderText(f"Answer {side}")
            box.setToolTip(f"Answer {side}: which system wrote it stays hidden until you vote.")
        answers = QHBoxLayout()
        answers.addWidget(self.a_view)
        answers.addWidget(self.b_view)
        votes = QGridLayout()  # A, B and Next above Tie and Both bad: one row of five was 540 px wide
        self.vote_buttons = {}
        for i, (verdict, (text, key)) in enumerate(VOTE_KEYS.items()):
            b = button(f"{text}  ({key})", f"{VOTE_TIPS[verdict]} Key: {key}.", lambda _=False, v=verdict: self.vote(v))
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(lambda v=verdict: self.vote(v))
            self.vote_buttons[verdict] = b
            votes.addWidget(b, i // 2, i % 2)
        self.next_button = button("Next prompt  (N)", "The next dialogue (or the same typed text again), both "
                                  "answers generated at once.", self.next_prompt)
        QShortcut(QKeySequence("N"), self, context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
                  activated=self.next_prompt)
        votes.addWidget(self.next_button, 0, 2)
        votes.setColumnStretch(3, 1)
        self.reveal_label = note_label("", "Who wrote A and who wrote B, shown once you have voted.")
        # Room for three lines from the start: the vote buttons above must not move when the names appear
        # (a second click at the same place would hit another button).
        self.reveal_label.setMinimumHeight(3 * self.reveal_label.fontMetrics().lineSpacing())
        round_box = QWidget()
        rl = QVBoxLayout(round_box)
        rl.setContentsMargins(0, 0, 0, 0)
        self.strip.phase_label.setWordWrap(True)  # beside the answers, where the row is wide
        for w in (self.header, self.strip, self.prompt_view):
            rl.addWidget(w)
        rl.addLayout(answers, 1)
        rl.addLayout(votes)
        rl.addWidget(self.reveal_label)
        self.board = ArenaBoard()
        right = splitter((round_box, 1), (self.board, 1))
        right.setOrientation(Qt.Orientation.Vertical)
        outer = QVBoxLayout(self)
        from PySide6.QtWidgets import QSizePolicy

        from playground.qt.panel import Panel

        outer.addWidget(Panel.lesson(LESSON))  # the section's explanation: one place, at the top
        main = splitter((left, 0), (right, 1))
        # It shares the room under the lesson instead of asking for its whole height (the tab would scroll).
        main.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        main.setMinimumHeight(420)
        outer.addWidget(main, 1)
        from playground.qt.shortcuts import run_shortcut

        run_shortcut(self, self.generate, editor=self.typed, stop=self.slot.stop)
        self.board.send_button.clicked.connect(self.send_to_align)
        self.board.agree_button.clicked.connect(self.measure_agreement)
        self.board.export_button.clicked.connect(lambda: self.export_votes())
        self.board.undo_button.clicked.connect(self.undo)
        self.draft.connect_path("source", self._source_changed)
        self._source_changed()
        self._set_voting(False)
        self.next_button.setEnabled(False)
        self._open_store()

    # votes on disk ------------------------------------------------------------------------------
    def _open_store(self) -> None:
        from playground.core.evaluation.arena import VoteStore, votes_path

        try:
            self.store = VoteStore()
        except InputError as exc:
            self.store = None
            self.message.setText(f"The arena's vote file cannot be used: {exc.message} {exc.hint} "
                                 f"(Move {votes_path()} away to start a new one.)")
            self.board.show_board(None)
            return
        if self.store.note:
            self.message.setText(self.store.note)
        self.refresh_board()

    def refresh_board(self) -> None:
        """Fit the leaderboard again from every vote (in the background: the bootstrap refits 200 times)."""
        votes = list(self.store.votes) if self.store is not None else []
        if not votes:
            self.board.show_board(None)
            return
        # choix (and scipy under it) is first imported here, on the GUI thread: importing scipy in a worker
        # while the GUI thread ran crashed Python inside shiboken's import hook (bench/arena_screens.py).
        import choix  # noqa: F401

        from playground.core.evaluation.arena_fit import leaderboard

        def fit(handle):
            try:
                return leaderboard(votes)
            except InputError:
                return None  # only self-comparisons: the board says so
        self.board_slot.start("arena leaderboard", fit, on_done=lambda b: self.board.show_board(b, len(votes)))

    # one round ----------------------------------------------------------------------------------
    def _source_changed(self, *_) -> None:
        from playground.core.evaluation.arena_run import TEMPLATE, TYPED

        source = self.draft.value.source
        self.typed.setEnabled(source == TYPED)
        self.form["dialogue"].setEnabled(source != TYPED)
        self.form["template"].setEnabled(source == TEMPLATE)

    def _prompt(self):
        from playground.core.evaluation.arena_run import TEMPLATE, TYPED, bundled_prompt, typed_prompt

        value = self.draft.value
        if value.source == TYPED:
            return typed_prompt(self.typed.toPlainText())
        return bundled_prompt(value.dialogue - 1, template=value.template if value.source == TEMPLATE else "")

    def _arena_systems(self):
        from playground.core.evaluation.arena_run import ArenaSystems

        specs = [r.spec() for r in self.rows if r.is_enabled()]
        loaded = self.context.session.base
        if loaded is None and any(s.needs_model for s in specs):
            raise InputError("The model is still loading.", "Try again in a moment.")
        key = (repr(specs), id(loaded), id(self.context.session.adapter))
        if self._systems is None or self._systems[0] != key:
            self._systems = (key, ArenaSystems(loaded, specs, self.context.session.adapter))
        return self._systems[1]

    def generate(self) -> None:
        if self.slot.busy:
            return
        self.message.setText("")
        try:
            prompt, systems = self._prompt(), self._arena_systems()
        except Exception as exc:  # every refusal is a sentence under the button
            msg, hint = describe_exception(exc)
            self.message.setText(f"{msg} {hint}".strip())
            return
        import random

        from playground.core.evaluation.arena_run import play

        value = self.draft.value
        seed = random.randrange(1_000_000)
        self.matchup, self.voted = None, None
        self._set_voting(False)
        self.next_button.setEnabled(False)
        self.a_view.clear()
        self.b_view.clear()
        self.reveal_label.setText("")
        self.prompt_view.setPlainText(prompt.pair_prompt())
        self.generate_button.setEnabled(False)
        self.strip.start("Starting")
        self.slot.start("arena round", lambda h: play(systems, prompt, temperature=value.temperature,
                                                      max_new_tokens=value.max_new_tokens, seed=seed, handle=h),
                        on_done=self._show, on_progress=self.strip.on_progress,
                        on_finished=lambda *_: self._finished())
        self._round = (systems, prompt, value, seed)

    def _finished(self) -> None:
        self.generate_button.setEnabled(True)
        self.strip.finish()
        self.next_button.setEnabled(True)

    def _show(self, matchup) -> None:
        if matchup is None:
            self.message.setText("Stopped: nothing was stored. Generate again to vote.")
            return
        systems, prompt, value, seed = self._round
        self.matchup = matchup
        self.a_view.setPlainText(matchup.a_text)
        self.b_view.setPlainText(matchup.b_text)
        where = {"dialogue": f"dialogue {value.dialogue} ({prompt.id})",
                 "prompt": f"dialogue {value.dialogue} ({prompt.id}) in the '{prompt.template}' template",
                 "typed": "typed text"}[prompt.kind]
        decoding = "greedy" if value.temperature == 0 else f"sample T={value.temperature:.2f} seed {seed}"
        settings = f"{decoding}, {value.max_new_tokens} new tokens"
        extra = "blind: " + " vs ".join(sorted(set(systems.names))) + ", order hidden"
        base = self.context.session.base
        if base is not None:
            self.header.show_for(base, prompt=where, settings=settings, extra=extra)
        else:  # both systems are files of outputs: no model ran
            from playground.qt.evaluate.provenance import FileProvenance

            self.header.show_provenance(FileProvenance(model="files of outputs", prompt=where, extra=extra))
        notes = [matchup.note] if matchup.note else []
        if matchup.identical:
            notes.append("Both answers are the same text: vote Tie, or raise the temperature.")
        self.reveal_label.setText(" ".join(notes) or "Names hidden until you vote.")
        self._set_voting(self.store is not None)

    def _set_voting(self, on: bool) -> None:
        for b in self.vote_buttons.values():
            b.setEnabled(on)

    def vote(self, verdict: str) -> None:
        if self.matchup is None or self.voted is not None or self.store is None:
            return
        vote = self.store.add(self.matchup.vote(verdict))
        self.voted = vote
        self._set_voting(False)
        said = VOTE_KEYS[verdict][0]
        winner = f" — {html.escape(vote.winner)} wins" if vote.winner else ""
        self.reveal_label.setText(f"You voted <b>{said}</b>{winner}. A was <b>{html.escape(vote.a)}</b>; "
                                  f"B was <b>{html.escape(vote.b)}</b>. Next prompt (N) for another round.")
        self.refresh_board()
        self.sig_voted.emit({"votes": len(self.store), "decisive": sum(v.decisive for v in self.store.votes),
                             "systems": sorted({vote.a, vote.b})})

    def next_prompt(self) -> None:
        from playground.core.evaluation.arena_run import TYPED

        if self.slot.busy:
            return
        if self.draft.value.source != TYPED:
            self.draft.set("dialogue", self.draft.value.dialogue % 60 + 1)
        self.generate()

    def undo(self) -> None:
        if self.store is None or not len(self.store):
            return
        last = self.store.undo()
        self.message.setText(f"Removed the last vote ({VOTE_KEYS[last.verdict][0]}, {last.a} vs {last.b}).")
        self.refresh_board()

    # the loop back to Align ---------------------------------------------------------------------
    def send_to_align(self) -> None:
        from playground.core.evaluation.arena_pairs import send_to_align

        try:
            sent = send_to_align(self.store.votes if self.store is not None else [])
        except InputError as exc:
            self.message.setText(f"{exc.message} {exc.hint}")
            return
        self.message.setText(sent.sentence())
        self.sig_sent.emit({"added": sent.added, "total": sent.total})

    def measure_agreement(self) -> None:
        from playground.core.evaluation.arena_pairs import arena_agreement

        votes = list(self.store.votes) if self.store is not None else []
        self.board.agreement.setText("Training a reward model on 3 of every 4 votes…")
        self.board_slot.start("arena agreement", lambda h: arena_agreement(votes), on_done=self._agreed,
                              on_failed=lambda m, h: self.board.agreement.setText(f"{m} {h}".strip()))

    def _agreed(self, result) -> None:
        self.board.agreement.setText(result.sentence())
        self.sig_agreement.emit({"agree": result.agree, "held_out": result.held_out, "rate": result.rate})

    def export_votes(self, path: str = "") -> None:
        if not path:
            path, _ = QFileDialog.getSaveFileName(self, "Export arena votes", "arena-votes.jsonl", "JSONL (*.jsonl)")
        if not path or self.store is None:
            return
        try:
            out = self.store.export(path)
        except (InputError, OSError) as exc:
            msg, hint = describe_exception(exc)
            self.message.setText(f"{msg} {hint}".strip())
            return
        self.message.setText(f"Exported {len(self.store)} votes to {out}.")

    # the section's protocol ---------------------------------------------------------------------
    def lab_events(self) -> dict:
        return {"arena.voted": (self.sig_voted, dict), "arena.sent": (self.sig_sent, dict),
                "arena.agreement": (self.sig_agreement, dict)}

    def reveal(self, control: str):
        return {"arena": self.generate_button, "arena_send": self.board.send_button}.get(control)

    def notebook_state(self) -> dict | None:
        if self.store is None or not len(self.store):
            return None
        from playground.core.evaluation.arena_fit import PRIOR_TIES

        return {"kind": "arena", "prior": PRIOR_TIES,
                "votes": [{"a": v.a, "b": v.b, "verdict": v.verdict} for v in self.store.votes]}

    def on_model_changed(self, loaded) -> None:
        self._systems = None  # the systems run on the new model from the next round
        if self.matchup is not None:
            self.header.mark_stale("the model changed since; the next round uses the new one")
