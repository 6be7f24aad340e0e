"""Step 3, Optimize (method, beta, reward, steps; live curves, the latest group with its
advantages) and step 4, Result (before / after on held-out dialogues, Save, Use in playground)."""

from __future__ import annotations

import time

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from playground.core.align.presets import REWARD_PRESETS
from playground.qt.align.curves import AlignCurves
from playground.qt.align.filmstrip import Filmstrip
from playground.core.base.units import format_delta, format_score, score_value
from playground.qt.binding import Draft
from playground.qt.widgets.compact_form import compact_rows
from playground.qt.widgets.make import note_label
from playground.qt.widgets.progress_strip import ProgressStrip
from playground.qt.widgets.result_header import ResultHeader

class _Views(QTabWidget):
    """The group table and the filmstrip: they take the room the page has, and ask for little (a laptop's
    screen shows the whole page, curves included, without scrolling)."""

    def sizeHint(self):  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        hint.setHeight(120)
        return hint


class OptimizePage(QWidget):
    sig_done = Signal(object)
    """the DoneEvent of a finished run"""

    def __init__(self, panel) -> None:
        super().__init__()
        from playground.core.align.config import AlignConfig

        self.panel = panel
        cfg = AlignConfig()
        cfg.training.max_steps, cfg.training.save_every, cfg.training.monitor_every = 10, 5, 5
        self.draft = Draft(cfg, parent=self)
        lay = QVBoxLayout(self)
        lay.addWidget(panel.lesson(
            "<b>The policy writes summaries, a reward scores them, and the update makes high-reward summaries "
            "likelier.</b> The policy is the model with a small LoRA adapter. GRPO and RLOO compare each completion "
            "with the others of its group (no value model); PPO learns a value head; DPO skips the reward and "
            "learns from pairs. "
            "The KL penalty (beta) keeps the policy near the reference, the same model with its adapter off. "
            "Watch the monitor: ROUGE-L is not optimized, so a rising reward with a falling monitor is reward hacking. "
            "GRPO's loss: 'grpo' (the default here) weighs each completion the same, as the GRPO paper; trl 1.16's "
            "GRPOTrainer defaults to 'dapo', which weighs each token the same. Both match trl's loss."))
        form_row, self.rows = compact_rows(self.draft, "method.name", "method.loss_type", "method.beta",
                                           "training.max_steps", "method.group_size", "method.max_new_tokens",
                                           "method.temperature", "training.learning_rate", "model.precision",
                                           columns=2)
        self.preset = QComboBox()
        for p in REWARD_PRESETS.values():
            self.preset.addItem(p.label, p.key)
        self.preset.setToolTip("What the policy is paid for. The two 'count Person' presets are the reward-hacking "
                               "lesson: each sets beta, a high learning rate, temperature 0.7 and 16 steps; run "
                               "both and compare the reward, the KL and the completions.")
        self.preset.setMaximumWidth(220)  # the form's last row: a long preset name is cut, its tooltip says it
        form_row.add_pair(QLabel("Reward"), self.preset)
        lay.addWidget(form_row)
        buttons = QHBoxLayout()
        self.start_btn, self.pause_btn = QPushButton("Start"), QPushButton("Pause")
        self.pause_btn.setEnabled(False)
        for w in (self.start_btn, self.pause_btn):
            buttons.addWidget(w)
        # What the policy starts from, beside the button that starts it: the model the model bar shows,
        # or, when it cannot be (a soft prompt), the base model and why.
        self.start_from = note_label("")
        self.start_from.setObjectName("alignStartsFrom")
        self.start_from.setToolTip("The policy is a LoRA adapter on a training copy of this model; its reference "
                                   "(the adapter off) is this model too. The app's own model is left as it is.")
        buttons.addWidget(self.start_from, 1)
        lay.addLayout(buttons)
        self.strip = ProgressStrip("Stop the run after the current step (Esc).")
        self.strip.sig_stop.connect(panel.slot.stop)
        self.stop_btn = self.strip.stop_button
        lay.addWidget(self.strip)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self.curves = AlignCurves()
        lay.addWidget(self.curves, 2)
        self.group = QTableWidget(0, 3)
        self.group.setHorizontalHeaderLabels(["completion", "reward", "advantage"])
        self.group.horizontalHeader().setStretchLastSection(False)
        self.group.setColumnWidth(0, 520)
        self.filmstrip = Filmstrip()
        self.views = _Views()
        self.views.addTab(self.group, "Latest group (GRPO / RLOO): completions, rewards, advantages")
        self.views.addTab(self.filmstrip, "Filmstrip: held-out dialogues at each monitor step")
        lay.addWidget(self.views, 2)
        self._preset_before = self.preset.currentData()
        self.reward_model = None  # the TrainedRewardModel of step 2, as the panel passes it on
        self.preset.currentIndexChanged.connect(lambda _: self._apply_preset(self.preset.currentData()))
        self.draft.connect_path("method.name", self._method_changed)
        self.draft.connect_path("model.precision", self._show_start)
        self._method_changed()
        self.start_btn.clicked.connect(self.start)
        self.pause_btn.clicked.connect(self._pause)
        panel.context.sig_model_changed.connect(self._model_changed)
        self._show_start()
        panel.slot.sig_busy_changed.connect(self._busy)
        panel.slot.sig_paused_changed.connect(lambda p: self.pause_btn.setText("Resume" if p else "Pause"))
        self.events: list = []

    def _method_changed(self) -> None:
        """The loss-type row is GRPO's alone."""
        self.rows["method.loss_type"].setEnabled(self.draft.get("method.name") == "grpo")

    def _model_changed(self, _loaded) -> None:
        self._show_start()
        if self.events and not self.strip.isVisibleTo(self):
            self.status.setText("The curves and the group below are from the last run; the model bar changed "
                                "since, so the next run starts from the model named above.")

    def _show_start(self) -> None:
        """Say, before Start, which model the run will start from (and why, when not the bar's)."""
        from playground.core.align.run_precision import precision_note
        from playground.core.align.start import starting_point

        session = self.panel.context.session
        if session.current is None:  # (resolving "auto" probes torch: said once a model is there)
            self.start_from.setText("The run starts from the model the model bar shows, once it has loaded.")
            return
        self.start_from.setText(starting_point(session).note + " " + precision_note(self.draft.get("model.precision")))

    def use_reward_model(self, trained) -> None:
        """Step 2 trained (and saved) a reward model: the preset "Your reward model" pays with it."""
        self.reward_model = trained

    def _apply_preset(self, key: str) -> None:
        """Choosing a preset sets its reward and its settings (which the learner may then change).
        Only the settings in which it differs from the preset before are set: going from one
        reward-hacking preset to the other changes beta alone, and keeps the learner's steps."""
        before = REWARD_PRESETS[self._preset_before].settings
        self._preset_before = key
        self._set_rewards(key)
        for name, value in REWARD_PRESETS[key].settings.items():
            if before.get(name) != value:
                self.draft.set(name, value)

    def _set_rewards(self, key: str) -> None:
        p = REWARD_PRESETS[key]
        self.draft.get("method").rewards, self.draft.get("method").weights = list(p.rewards), list(p.weights)

    def _pause(self) -> None:
        slot = self.panel.slot
        slot.resume() if slot.paused else slot.pause()

    def _busy(self, busy: bool) -> None:
        """The panel's one slot is busy (this page's run, or another step's work)."""
        self.start_btn.setEnabled(not busy)

    def start(self) -> None:
        loaded = self.panel.context.ready_model(self.panel.say)
        if loaded is None:
            return
        import copy

        from playground.core.align.job import run_align
        from playground.core.base.errors import InputError
        from playground.core.base.paths import user_dirs

        self._set_rewards(self.preset.currentData())  # the settings stay as the learner left them
        cfg = copy.deepcopy(self.draft.get(""))
        if "reward_model" in cfg.method.rewards:
            trained = self.reward_model
            if trained is None or trained.path is None:
                self.panel.say("Train a reward model in step 2 first: this preset pays the policy with it.")
                return
            if not trained.can_pay:
                self.panel.say("The reward model of step 2 is a full one on the current model: paying the policy "
                               "with it would need a second copy of the model in memory. Train an encoder reward "
                               "model (quick or full) in step 2 for this preset.")
                return
            cfg.method.reward_model = str(trained.path)
        from playground.core.align.start import starting_point

        start = starting_point(self.panel.context.session)  # the model bar's model: its LoRA run merged in
        self.last_start = start  # the Result page's "Before" names it
        cfg.model.source, cfg.model.adapter = start.source, start.adapter
        cfg.output.dir = str(user_dirs().data / "align" / "runs" / time.strftime("%Y%m%d-%H%M%S"))
        try:
            cfg.validate()
        except InputError as exc:
            self.panel.say(f"{exc.message} {exc.hint}")
            return
        self.curves.clear()
        self.events = []
        self.last_config = cfg  # what the notebook export reproduces
        self.group.setRowCount(0)
        self.filmstrip.clear_frames()
        self.status.setText(f"Starting from {start.name} (loading a training copy of the model)...")
        tok = loaded.tokenizer  # the job's copy of the model reads it (the same model), not the files again
        self.strip.start("Loading a training copy of the model")
        self.pause_btn.setEnabled(True)
        from playground.core.models.sharing import lighter_results
        from playground.qt.memory import shared_base

        base = shared_base(self.panel.context)  # the aligned copy shares the weights LoRA did not change
        self.panel.slot.start("Align", lambda handle: lighter_results(run_align(cfg, handle, tokenizer=tok), base),
                              on_item=self._event,
                              on_progress=self.strip.on_progress, on_finished=lambda _t: self._run_ended())

    def _run_ended(self) -> None:
        self.strip.finish()
        self.pause_btn.setEnabled(False)

    def _event(self, ev) -> None:
        from playground.core.align.events import AlignStepEvent, MonitorEvent
        from playground.core.finetune.events import DoneEvent, StageEvent, StoppedEvent

        self.events.append(ev)
        if isinstance(ev, StageEvent):
            self.status.setText(ev.message)
        elif isinstance(ev, AlignStepEvent):
            self.curves.add("reward", ev.step, ev.reward_mean)
            self.curves.add("kl", ev.step, ev.kl)
            self.curves.add("entropy", ev.step, ev.entropy)
            self.status.setText(f"Step {ev.step} of {ev.total_steps}: reward {ev.reward_mean:.3f}, KL {ev.kl:.4f}, "
                                f"{ev.seconds:.1f} s")
            samples, adv = ev.extra.get("samples", []), ev.extra.get("advantages", [])
            self.group.setRowCount(len(samples))
            for i, s in enumerate(samples):
                self.group.setItem(i, 0, QTableWidgetItem(s["completion"]))
                self.group.setItem(i, 1, QTableWidgetItem(f"{s['reward']:.3f}"))
                self.group.setItem(i, 2, QTableWidgetItem(f"{adv[i]:+.3f}" if i < len(adv) else ""))
        elif isinstance(ev, MonitorEvent):
            self.curves.add("monitor", ev.step, score_value(ev.rouge_l, "rougeL"))  # 0-100, as every tab
            self.filmstrip.add_frame(ev.step, ev.samples, ev.kl)
        elif isinstance(ev, StoppedEvent):
            self.status.setText(f"Stopped at step {ev.step}; checkpoint {ev.checkpoint or '(none)'}")
        elif isinstance(ev, DoneEvent):
            self.status.setText(f"Done: {ev.run_dir}")
            self.sig_done.emit(ev)


class ResultPage(QWidget):
    def __init__(self, panel) -> None:
        super().__init__()
        self.panel, self.done, self._made_with = panel, None, None
        lay = QVBoxLayout(self)
        lay.addWidget(panel.lesson(
            "<b>The reward went up, but did the summaries get better?</b> Before and after on held-out dialogues "
            "(greedy, the same prompts). Compare them with the reference, and the ROUGE-L monitor with the reward."))
        self.summary = note_label("No run finished yet.")
        lay.addWidget(self.summary)
        row = QHBoxLayout()
        self.before, self.after = QPlainTextEdit(), QPlainTextEdit()
        self.before_header = ResultHeader("Before", empty="the reference model's summaries of held-out dialogues "
                                                          "appear here when a run in step 3 finishes")
        self.after_header = ResultHeader("After", empty="the aligned model's summaries of the same dialogues")
        for box, header, name in ((self.before, self.before_header, "Before (reference model)"),
                                  (self.after, self.after_header, "After (aligned)")):
            box.setReadOnly(True)
            box.setPlaceholderText(name)
            column = QVBoxLayout()
            column.addWidget(header)
            column.addWidget(box, 1)
            row.addLayout(column)
        lay.addLayout(row, 1)
        buttons = QHBoxLayout()
        self.save_btn, self.use_btn = QPushButton("Save adapter..."), QPushButton("Use in playground")
        self.use_btn.setToolTip("Every tab uses the aligned model; the model bar's adapter switch turns it off.")
        for w in (self.save_btn, self.use_btn):
            w.setEnabled(False)
            buttons.addWidget(w)
        buttons.addStretch(1)
        lay.addLayout(buttons)
        self.save_btn.clicked.connect(self.save)
        self.use_btn.clicked.connect(self.use)
        panel.context.sig_model_changed.connect(self._model_changed)

    def _model_changed(self, loaded) -> None:
        """The shown run stays readable, but says it was made before the model bar changed (using
        the aligned model itself, with "Use in playground", is no change to it)."""
        if self.done is None or loaded is None or loaded is self._made_with:
            return
        if str((loaded.extras or {}).get("run_dir", "")) == str(self.done.run_dir):
            return
        for header in (self.before_header, self.after_header):
            header.mark_stale("the model bar changed since this run")

    def _show_provenance(self, r: dict, start=None) -> None:
        """Before: the model the run started from (its reference); after: that model with the align adapter."""
        from pathlib import Path

        from playground.core.align.methods import ALIGN_METHOD_FACTS
        from playground.core.base.provenance import Provenance

        if start is not None:
            name, _, adapter = start.name.partition(" + ")
        else:  # a run shown without its start (a test, an old run): the report's words
            name = "SmolLM2-135M-Instruct" if r.get("model") == "bundled" else Path(str(r.get("model", "model"))).name
            adapter = r.get("start", "base").partition(" + ")[2]
        settings = f"greedy, {r.get('max_new_tokens', '?')} new tokens at most"
        run = Path(self.done.run_dir).name if self.done is not None and self.done.run_dir else "this run"
        prompt = "held-out dialogues, plain prompt (no chat template, as the run trained)"
        # A BF16 run's monitor writes with the BF16 copy of the policy (DPO's before / after: the policy)
        monitored = ALIGN_METHOD_FACTS[r["method"]].monitors if r.get("method") in ALIGN_METHOD_FACTS else False
        precision = "BF16 copy of the policy" if r.get("precision") == "bf16" and monitored else "float32"
        self.before_header.show_provenance(Provenance(name, adapter, precision, prompt, settings,
                                                      extra="step 0 (the reference: align adapter off)"))
        after_adapter = f"{adapter} + " if adapter else ""
        self.after_header.show_provenance(Provenance(
            name, f"{after_adapter}align {r['method'].upper()} run {run}", precision, prompt, settings,
            extra=f"after step {r.get('steps', '?')}"))

    def show_done(self, ev, start=None) -> None:
        """A finished run; ``start`` is the StartingPoint it started from (its name heads "Before")."""
        from playground.core.align.methods import ALIGN_METHOD_FACTS

        self.done = ev
        self._made_with = self.panel.context.session.current
        if ev.loaded is not None:
            from playground.core.base.memory import hold

            hold("aligned copy", ev.loaded)  # the model bar's memory figure names it
        r = ev.report
        self._show_provenance(r, start)
        mon = r.get("monitor", [])
        steps = r.get("per_step", [])
        if mon:
            first, last = mon[0], mon[-1]
            self.before.setPlainText("\n\n".join(s["completion"] for s in first["samples"]))
            self.after.setPlainText("\n\n".join(s["completion"] for s in last["samples"]))
        elif r.get("samples_after"):
            self.before.setPlainText("\n\n".join(s["before"] for s in r["samples_after"]))
            self.after.setPlainText("\n\n".join(s["after"] for s in r["samples_after"]))
        names = {"reward_model": "your reward model", "rouge_l": "ROUGE-L", "length": "length",
                 "positivity": "positivity", "word_count": f"the count of '{r.get('word', 'Person')}'"}
        facts = ALIGN_METHOD_FACTS[r["method"]]
        paid = " + ".join(names.get(x, x) for x in r.get("rewards", [])) if facts.needs_reward else "the pairs"
        model = "the bundled SmolLM2-135M-Instruct" if r.get("model") == "bundled" else r.get("model", "the model")
        how = [f"{r['steps']} steps", f"beta {r['beta']}"]
        if "learning_rate" in r:  # reports written before these keys lack them
            how.append(f"learning rate {r['learning_rate']:g}")
        if r["method"] == "grpo" and r.get("loss_type"):  # reports written before the choice lack it
            from playground.core.align.methods import GRPO_LOSS_WORDS

            how.append(f"{r['loss_type']} loss ({GRPO_LOSS_WORDS.get(r['loss_type'], '')})")
        if facts.shares_groups and "group_size" in r:
            how.append(f"groups of {r['group_size']} completions x {r['max_new_tokens']} tokens at temperature "
                       f"{r['temperature']:g}")
        if r.get("precision"):  # reports written before the choice ran at float32
            how.append("float32" if r["precision"] == "no" else
                       f"{r['precision'].upper()} (completions sampled from a {r['precision'].upper()} copy, "
                       "FP32 LoRA weights)" if facts.data == "prompts" else f"{r['precision'].upper()} mixed precision")
        start = r.get("start", "base")  # reports written before the choice started from the base
        model += f", starting from {start}" + (" (its LoRA merged in first)" if start != "base" else "")
        parts = [f"{r['method'].upper()} on {model}, {', '.join(how)}, paid by {paid}."]
        if steps:
            parts.append(f"Reward {steps[0]['reward_mean']:.3f} -> {steps[-1]['reward_mean']:.3f}; "
                         f"KL {steps[0]['kl']:.4f} -> {steps[-1]['kl']:.4f}.")
        if mon:
            first, last = (format_score(m["rouge_l"], "rougeL") for m in (mon[0], mon[-1]))
            change = format_delta(score_value(mon[0]["rouge_l"], "rougeL"), score_value(mon[-1]["rouge_l"], "rougeL"))
            parts.append(f"Monitor ROUGE-L (0-100) {first} -> {last} ({change}).")
        self.summary.setText(" ".join(parts))
        self.save_btn.setEnabled(True)
        self.use_btn.setEnabled(ev.loaded is not None)

    def save(self) -> None:
        import shutil

        folder = QFileDialog.getExistingDirectory(self, "Save the adapter into")
        if folder and self.done is not None:
            shutil.copytree(self.done.artifact, f"{folder}/aligned-adapter", dirs_exist_ok=True)
            self.panel.say(f"Saved to {folder}/aligned-adapter.")

    def use(self) -> None:
        if self.done is not None and self.done.loaded is not None:
            from playground.core.finetune.attach import named_for_run

            self.done.loaded.model.eval()
            base = self.panel.context.session.base or self.done.loaded
            self.panel.context.set_adapter(named_for_run(base, self.done.loaded, self.done.artifact,
                                                         self.done.run_dir, "lora"))
            self.panel.say("Every tab now uses the aligned model (switch it off in the model bar).")
