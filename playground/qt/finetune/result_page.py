"""Step 5: what fine-tuning changed. Before / after summaries of held-out dialogues side by side,
ROUGE before and after, the report; save the adapter, use it in every tab, save the job file."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QSizePolicy, QTableWidgetItem, QTextBrowser

from playground.core.finetune.methods import METHOD_FACTS
from playground.core.finetune.memory_measure import describe_run_memory
from playground.qt.finetune.charts import LossChart
from playground.qt.finetune.page import WizardPage
from playground.qt.finetune.result_tables import (  # noqa: F401 (CELL_CHARS, METRICS, clip re-exported)
    CELL_CHARS,
    METRICS,
    clip,
    fill_samples,
    fill_scores,
    samples_table,
    scores_table,
)
from playground.qt.task_slot import TaskSlot
from playground.qt.widgets.make import button, check, group, hbox, vbox
from playground.qt.widgets.result_header import ResultHeader

LESSON = (
    "<b>Did it learn the task?</b> Read the summaries first: before fine-tuning a small model often "
    "rambles, repeats the dialogue or answers as a chat assistant; after, it writes in the style of the "
    "references.<br><br>"
    "ROUGE counts the words (ROUGE-1), word pairs (ROUGE-2) and longest common word sequence (ROUGE-L) "
    "an output shares with the reference. A few test dialogues give wide intervals: compare on more of "
    "them in the Evaluate tab before drawing conclusions.<br><br>"
    "<i>Use in playground</i> puts the fine-tuned model in every tab; the <b>Adapter</b> switch in the "
    "model bar flips between it and the base model, so you can compare both on any prompt."
)


def plain_headings(markdown: str) -> str:
    """The report's headings one size down: its title reads as a heading, not a poster (no H1)."""
    import re

    return re.sub(r"^(#{1,4}) ", lambda m: "#" * (len(m.group(1)) + 2) + " ", markdown, flags=re.M)


def _is_source(loaded, source: str) -> bool:
    """Whether ``loaded`` is the model a job's ``model.source`` names ('bundled', a folder or a Hub id)."""
    if not source:
        return False
    if source == "bundled":
        return loaded.source.kind == "bundled"
    try:
        return Path(source).resolve() == Path(loaded.source.ref).resolve() or source == loaded.source.ref
    except (OSError, TypeError):
        return source == loaded.source.ref


class ResultPage(WizardPage):
    title = "Result"
    lesson_text = LESSON

    def __init__(self, wizard, parent=None) -> None:
        super().__init__(wizard, parent)
        self.run_dir = ""
        self.report: dict = {}
        self.trained = None     # the fine-tuned LoadedModel in memory (right after a run), else None
        self.attach_task = None
        self.save_slot = TaskSlot(self.context.runner, parent=self)  # saving beside loading the result
        self.why_slot = TaskSlot(self.context.runner, parent=self)  # why a summary is empty, beside the rest
        self._explained: set[tuple[int, str]] = set()  # the empty cells whose reason is shown

        self.summary_label = self.note("")
        self.scores = scores_table()
        self.samples = samples_table()
        self.chart = LossChart()
        self.report_view = QTextBrowser()
        self.report_view.setMinimumHeight(160)
        self.report_view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.report_view.setToolTip("The run's report (report.md in the run folder).")

        self.use_check = check("Use in playground", "Put the fine-tuned model in every tab (Generate, Sampling, "
                               "Inside, Evaluate…). The Adapter switch in the model bar turns it off and on again.",
                               self.use_in_playground)
        self.save_button = button("Save adapter…", "Copy the trained adapter (or model) to a folder of your "
                                  "choice. It loads with peft.PeftModel.from_pretrained, or in the Evaluate tab.",
                                  self._ask_save_artifact)
        self.job_button = button("Save job as CONFIG.toml…", "The settings of this run as a job file for the "
                                 "command line: playground finetune CONFIG.toml (also on servers and several "
                                 "GPUs).", self._ask_save_job)
        self.forget_button = button(
            "What did it forget?", "Ask the base and this run the same general-knowledge questions and facts "
            "(Lifecycle tab, Forgetting): what fine-tuning taught, and what it cost. Several minutes on a CPU.",
            lambda: self.run_dir and self.wizard.sig_check_forgetting.emit(self.run_dir))
        self.message = self.error_label()
        buttons = hbox(self.use_check, self.save_button, self.job_button, self.forget_button, 1)
        # what made the results: the base model (before) and the base with this run (after), the
        # template they were prompted with and the decoding settings
        self.before_header = ResultHeader("Before", empty="the base model's scores and summaries appear here when "
                                                          "a run finishes (or is opened from the runs list)")
        self.after_header = ResultHeader("After", empty="the fine-tuned model's, beside them")
        scores_box = group("ROUGE and BLEU on held-out dialogues (0–100), before and after",
                           vbox(self.before_header, self.after_header, self.scores))
        # Why a summary is "(empty)": said in its cell once found, and here meanwhile or when it cannot be.
        self.empty_note = self.note("")
        samples_box = group("Before / after", vbox(self.samples, self.empty_note))
        left = vbox(self.summary_label, buttons, self.message, scores_box, (samples_box, 1))
        right = vbox((self.chart, 1), (self.report_view, 1))
        self.body.addLayout(hbox((left, 3), (right, 2)))
        self.context.sig_adapter_changed.connect(self._adapter_changed)
        self._enable(False)

    @property
    def has_result(self) -> bool:
        return bool(self.report)

    def _enable(self, on: bool) -> None:
        for w in (self.use_check, self.save_button, self.job_button, self.forget_button):
            w.setEnabled(on)

    # --- showing a run ----------------------------------------------------------------------------

    def show_result(self, run_dir: str, report: dict, trained=None) -> None:
        """Show a finished run; ``trained`` is the fine-tuned model when it is still in memory."""
        self.run_dir, self.report, self.trained = str(run_dir), report, trained
        if trained is not None:
            trained.model.eval()  # no dropout when the playground generates with it
            from playground.core.base.memory import hold

            hold("fine-tune result", trained)  # the model bar's memory figure names it
        m, t = report.get("method", {}), report.get("training", {})
        facts = METHOD_FACTS.get(m.get("name", ""))
        method = facts.label if facts else m.get("name", "")
        self.summary_label.setText(
            f"<b>{method}</b> in <code>{html.escape(Path(run_dir).name)}</code>: {t.get('steps', 0)} steps, "
            f"{t.get('tokens_seen', 0):,} tokens in {t.get('train_seconds', 0):.0f} s "
            f"({t.get('tokens_per_s', 0):,.0f} tokens/s); "
            f"{m.get('trainable_parameters', 0):,} trainable parameters "
            f"({m.get('trainable_share', 0):.2%} of {m.get('total_parameters', 0):,}).<br>"
            f"<small>{html.escape(describe_run_memory(t), quote=False)}</small>")
        self._show_provenance(report)
        self._fill_scores(report.get("rouge", {}))
        self._fill_samples(report.get("rouge", {}).get("samples", []))
        curves = report.get("curves", {})
        self.chart.total_steps = int(t.get("steps", 0) or 0)
        self.chart.load_curves(curves.get("train_loss", []), curves.get("validation_loss", []))
        md = Path(run_dir) / "report.md"
        try:
            self.report_view.setMarkdown(plain_headings(md.read_text(encoding="utf-8")))
        except OSError:
            self.report_view.setPlainText("The report file is missing from the run folder.")
        self.save_button.setText(f"Save {facts.artifact if facts else 'adapter'}…")
        self.message.setText("")
        self._enable(True)
        self._adapter_changed(self.context.session.adapter)

    def _show_provenance(self, report: dict) -> None:
        """The Before / After headers: the base model, this run, the template, the decoding settings."""
        from playground.core.base.provenance import Provenance

        cfg = report.get("config") or {}
        model, data = cfg.get("model") or {}, cfg.get("data") or {}
        source = model.get("source", "")
        base = self.context.session.base
        if base is not None and _is_source(base, source):
            name = base.info.name
        else:
            name = "SmolLM2-135M-Instruct" if source == "bundled" else (Path(source).name or "the base model")
        chat = "chat template on" if data.get("use_chat_template") else "chat template off"
        prompt = f"template {data.get('template', '?')}, {chat}"
        # Both sides are generated by the FP32 model (a BF16/FP16 run trains under autocast with FP32 weights and
        # is scored as FP32); the training precision is named on the After side.
        trained = (report.get("training") or {}).get("precision", "no")
        trained = "" if trained in ("no", "", None) else f" · trained in {trained.upper()} mixed precision"
        tokens = (cfg.get("evaluation") or {}).get("max_new_tokens", "?")
        settings = f"greedy, {tokens} new tokens at most"
        tested = f"{(report.get('rouge') or {}).get('test_examples', '?')} test dialogues"
        self.before_header.show_provenance(Provenance(name, "", "float32", prompt, settings, extra=tested))
        self.after_header.show_provenance(Provenance(name, f"run {Path(self.run_dir).name}", "float32", prompt,
                                                     settings, extra=tested + trained))
        self._made_for = name

    def on_model_changed(self, loaded) -> None:
        """A run stays readable when the base model changes, but says it was trained on another one."""
        if self.report and getattr(self, "_made_for", None) not in (None, loaded.info.name):
            for header in (self.before_header, self.after_header):
                header.mark_stale(f"the model bar now shows {loaded.info.name}, not this run's base model")

    def _fill_scores(self, rouge: dict) -> None:
        fill_scores(self.scores, rouge)

    def _fill_samples(self, samples: list) -> None:
        self._explained = set()
        fill_samples(self.samples, samples)
        self._say_why_empty()

    def _empty_cells(self) -> list[tuple[int, str]]:
        samples = self.report.get("rouge", {}).get("samples", [])
        return [(i, key) for i, s in enumerate(samples) for key in ("before", "after") if not (s.get(key) or "").strip()]

    def _say_why_empty(self) -> None:
        """Say what the "(empty)" cells mean, and find out why each one is empty with the models at hand."""
        from playground.core.finetune.empty_output import why_empty_in_words

        waiting = [c for c in self._empty_cells() if c not in self._explained]
        if not waiting:
            self.empty_note.setText("")
            return
        limit = int((self.report.get("config") or {}).get("evaluation", {}).get("max_new_tokens", 0) or 0)
        models = self._models_at_hand()
        how = ("Finding out which for each…" if any(models[k] is not None for _, k in waiting) else
               "Tick 'Use in playground' to find out which for each.")
        self.empty_note.setText(f"<b>(empty)</b>: {html.escape(why_empty_in_words(limit))}. {how}")
        if any(models[k] is not None for _, k in waiting) and not self.why_slot.busy:
            from playground.core.finetune.empty_output import explain_empty_samples

            report = self.report
            self.why_slot.start("why a summary is empty", lambda h: explain_empty_samples(report, models, h),
                                on_item=self._on_why, on_finished=lambda task: self._why_finished(report))

    def _models_at_hand(self) -> dict:
        """The base and the fine-tuned model of this run where the app holds them (else None)."""
        session = self.context.session
        after = None
        if self.trained is not None:
            after = self._playable(self.trained)
        elif session.adapter is not None and session.adapter.extras.get("run_dir") == self.run_dir and self.run_dir:
            after = session.adapter
        source = ((self.report.get("config") or {}).get("model") or {}).get("source", "")
        before = session.base if session.base is not None and _is_source(session.base, source) else None
        return {"before": before, "after": after}

    def _on_why(self, item) -> None:
        i, key, why = item
        if not why or i >= self.samples.rowCount():
            return
        self._explained.add((i, key))
        cell = QTableWidgetItem(f"(empty: {why})")
        cell.setToolTip(f"No summary: {why}.")
        self.samples.setItem(i, 1 if key == "before" else 2, cell)

    def _why_finished(self, report: dict) -> None:
        if report is not self.report:
            return
        waiting = [c for c in self._empty_cells() if c not in self._explained]
        if not waiting:
            self.empty_note.setText("")
        elif self.empty_note.text().endswith("Finding out which for each…"):
            self._say_why_empty()  # what is still unexplained says so (a model that now writes text)

    def snapshot(self) -> list[tuple[str, str]]:
        if not self.report:
            return []
        return [("Fine-tuning", self.summary_label.text())]

    # --- actions ----------------------------------------------------------------------------------

    def _facts(self):
        return METHOD_FACTS.get(self.report.get("method", {}).get("name", ""), METHOD_FACTS["lora"])

    def artifact(self) -> Path:
        return Path(self.report.get("artifact") or "")

    def use_in_playground(self, on: bool) -> None:
        """Attach the fine-tuned model to the session (every tab uses it), or switch back to the base."""
        session = self.context.session
        if not on:
            self.context.use_adapter(False)
            return
        mine = session.adapter is not None and session.adapter.extras.get("run_dir") == self.run_dir
        if mine:
            self.context.use_adapter(True)
            return
        if self.trained is not None:
            try:
                self._attach(self._playable(self.trained))
            except Exception as exc:
                from playground.core.base.errors import describe_exception

                message, hint = describe_exception(exc)
                self.message.setText(f"<b>{html.escape(message)}</b> {html.escape(hint)}")
                self._set_check(False)
            return
        self._load_artifact()

    def _playable(self, trained):
        """What every tab can run: a prompt-tuned model becomes the app's model reading the soft prompt."""
        if not self._facts().soft_prompt:
            return trained
        from playground.core.models.soft_prompt import with_soft_prompt

        return with_soft_prompt(self.context.session.base, trained.model)

    def _attach(self, trained) -> None:
        from playground.core.finetune.attach import named_for_run

        adapted = named_for_run(self.context.session.base, trained, self.artifact(), self.run_dir, self._facts().name)
        self.context.set_adapter(adapted, on=True)

    def _load_artifact(self) -> None:
        """A run from the list (not in memory): load its adapter on a copy of the model, off the GUI thread."""
        base = self.context.session.base
        folder = self.artifact()
        if base is None or not folder.is_dir():
            self.message.setText(html.escape(f"The trained weights are not in {folder} any more."))
            self._set_check(False)
            return
        method = self._facts().name

        def work(handle):
            from playground.core.finetune.attach import load_attachable

            return load_attachable(base, folder, method, handle)

        self.use_check.setEnabled(False)
        self.message.setText("")
        self.attach_task = self.slot.start(
            "load the fine-tuned model", work, on_done=self._attach,
            on_failed=lambda m, h: (self.message.setText(f"<b>{html.escape(m)}</b> {html.escape(h)}"),
                                    self._set_check(False)),
            on_finished=lambda task: (self.use_check.setEnabled(True), setattr(self, "attach_task", None)))

    def _set_check(self, on: bool) -> None:
        self.use_check.blockSignals(True)
        self.use_check.setChecked(on)
        self.use_check.blockSignals(False)

    def _adapter_changed(self, adapted) -> None:
        session = self.context.session
        mine = adapted is not None and adapted.extras.get("run_dir") == self.run_dir and bool(self.run_dir)
        self._set_check(mine and session.adapter_on)
        if mine and self.report:
            self._say_why_empty()  # the fine-tuned model is at hand now

    def _ask_save_artifact(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save the trained weights in…")
        if folder:
            self.save_artifact(Path(folder) / f"{Path(self.run_dir).name}-{self.artifact().name}")

    def save_artifact(self, target: Path):
        """Copy the adapter (or model) folder to ``target``, all or nothing, in the background
        (a fully fine-tuned model is hundreds of MB). Returns the task, or None when there is
        nothing to copy."""
        import shutil

        from playground.core.finetune.checkpoint import atomic_save_dir

        src, target = self.artifact(), Path(target)
        if not src.is_dir():
            self.message.setText(html.escape(f"The trained weights are not in {src} any more."))
            return None

        def work(handle):
            atomic_save_dir(target, lambda tmp: shutil.copytree(src, tmp, dirs_exist_ok=True))
            return target

        self.save_button.setEnabled(False)
        self.message.setText(html.escape(f"Saving to {target}…"))
        return self.save_slot.start(
            "save the trained weights", work, on_done=self._saved,
            on_failed=lambda message, hint: self.message.setText(
                html.escape(f"The weights could not be saved to {target}: {message}")),
            on_finished=lambda task: self.save_button.setEnabled(self.has_result))

    def _saved(self, target) -> None:
        self.message.setText("")
        self.summary_label.setText(self.summary_label.text() + f"<br>Saved to <code>{html.escape(str(target))}</code>.")

    def _ask_save_job(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the job", "finetune.toml", "TOML (*.toml)")
        if path:
            self.wizard.save_job_file(path, self.report.get("config"))
