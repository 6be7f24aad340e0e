"""Running prompts in the Prompt tab: one run, a side-by-side comparison, history and sharing."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from playground.core.decoding.generation import GenerationSettings
from playground.core.prompting.history import Run
from playground.core.prompting.prompts import TEMPLATES
from playground.core.prompting.special_tokens import readable


def score_html(scores: dict, bold: bool = True) -> str:
    """'ROUGE-1 <b>31.2</b> · ROUGE-2 <b>8.0</b> · ROUGE-L <b>25.1</b>': the app's 0-100 scale (format_score)."""
    from playground.core.base.units import format_score

    b, nb = ("<b>", "</b>") if bold else ("", "")
    names = (("rouge1", "ROUGE-1"), ("rouge2", "ROUGE-2"), ("rougeL", "ROUGE-L"))
    return " · ".join(f"{name} {b}{format_score(scores[k], k)}{nb}" for k, name in names if k in scores)


def describe_prompt(variant, template_label: str) -> str:
    """The prompt form for a result header: 'Plain instruction template, 2-shot, chat template' or 'edited by hand'."""
    if variant.prompt_override.strip():
        return "prompt edited by hand"
    chat = ", chat template" if variant.use_chat_template else ", no chat template"
    return f"{template_label} template, {len(variant.shots)}-shot{chat}"


def describe_shots(shots) -> str:
    """The worked examples of a prompt in words: 'none (zero-shot)' or 'train12 · lunch, …'."""
    if not shots:
        return "none (zero-shot)"
    return ", ".join(f"{getattr(s, 'id', '?')} · {getattr(s, 'topic', '')}".rstrip(" ·") for s in shots)


class PromptRunsMixin:
    """The PromptPanel's runs. Expects the widgets PromptPanel builds."""

    # running -------------------------------------------------------------------------------------
    def settings(self) -> GenerationSettings:
        return self.draft.value.generation

    def _start(self, variants, on_event, on_finished) -> bool:
        from playground.core.base.errors import describe_exception
        from playground.core.prompting.lab import run_variants

        if self.busy:
            return False
        loaded = self.context.ready_model(self.message.setText)
        if loaded is None:
            return False
        dialogue, reference, settings = self.typed_dialogue(loaded), self.reference(), self.settings()
        try:
            from playground.core.decoding.generation import check_prompt
            from playground.core.prompting.lab import build_variant_prompt

            for v in variants:
                check_prompt(loaded, build_variant_prompt(loaded, dialogue, v).text, settings.max_new_tokens)
        except Exception as exc:
            msg, hint = describe_exception(exc)
            self.message.setText(f"{msg} {hint}".strip())
            return False
        self.message.setText("")
        self._run_meta = {"model": loaded.info.name, "variants": variants, "reference": reference,
                          "dialogue_id": (self.current_example().id if reference else ""),
                          "settings": settings.to_dict()}
        self._run_loaded = loaded
        self.task = self.slot.start(
            "prompt lab", lambda h: run_variants(loaded, dialogue, reference, variants, settings, h.cancelled,
                                                 handle=h),
            on_item=on_event, on_progress=self.progress_strip.on_progress, on_finished=lambda task: on_finished())
        self.run_button.setEnabled(False)
        self.compare_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        return True

    def _finished(self) -> None:
        self.run_button.setEnabled(True)
        self.compare_button.setEnabled(True)
        self.stop_button.setEnabled(False)

    def _save(self, event, label: str) -> None:
        v = self._run_meta["variants"][event.index]
        name = v.template if v.template in TEMPLATES else "free"
        if v.prompt_override.strip():
            name += " (edited)"
        self.session_runs = getattr(self, "session_runs", [])
        self.session_runs.append((label, self._run_meta["model"], name, len(v.shots), event))
        self.history.add(Run(model=self._run_meta["model"], template=name, shots=len(v.shots),
                             prompt=readable(event.prompt),
                             settings=self.settings().to_dict(), output=event.summary, scores=event.scores,
                             reference=self._run_meta["reference"], dialogue_id=self._run_meta["dialogue_id"],
                             prompt_tokens=event.prompt_tokens, seconds=event.seconds, label=label))
        self.history_view.refresh()

    def _output_key(self) -> tuple:
        """What the output on screen depends on: the prompt as the model reads it, the answer room, the model."""
        return self.prompt_edit.toPlainText(), self.draft.value.generation.max_new_tokens, id(self.context.session.current)

    def _header_text(self, variant) -> tuple[str, str]:
        """(prompt form, settings) of a run's result header."""
        label = self.template_combo.itemText(max(0, self.template_combo.findData(variant.template)))
        if variant.template not in TEMPLATES:
            label = "free"
        return describe_prompt(variant, label), self.settings().describe()

    def _mark_stale(self) -> None:
        """Keep the last output, but say so once the prompt or settings no longer match it."""
        shown = getattr(self, "_shown_key", None)
        if shown is None or self.busy:
            return
        if self._output_key() == shown:
            self.score_label.setText(self._score_text)
            if self._shown_provenance is not None:
                self.result_header.show_provenance(self._shown_provenance)
        else:
            self.result_header.mark_stale("the prompt, its examples, max new tokens or the model changed since")
            self.score_label.setText(
                "<span style='color:#8a5a00'><b>Stale:</b> the prompt, its examples, max new tokens or the model "
                "changed since this output. Generate again to see the new one.</span><br>"
                f"<span style='color:#666'>{self._score_text}</span>")

    def _show_output(self, text: str, score_text: str, key: tuple | None = None, provenance=None) -> None:
        self.output_edit.setPlainText(text)
        self._shown_provenance = provenance
        if provenance is not None:
            self.result_header.show_provenance(provenance)
        else:
            self.result_header.clear_result("A run reopened from the history: its model and settings are below.")
        self._score_text = score_text
        self._shown_key = self._output_key() if key is None else key
        self.score_label.setText(score_text)

    def _made_or_said(self, make):
        """``make()``, or None after the message line says in plain words what stopped it."""
        try:
            return make()
        except Exception as exc:
            from playground.core.base.errors import describe_exception

            self.message.setText(" ".join(describe_exception(exc)).strip())
            return None

    def run_single(self) -> None:
        variant = self._made_or_said(self.variant)
        if variant is None:
            return
        self.output_edit.clear()
        self.score_label.setText("")
        self.result_header.clear_result("Writing…")
        self._shown_key = None
        self._run_key = self._output_key()  # what this output will depend on, as the run starts
        self.views.setCurrentIndex(0)
        self._start([variant], self._single_event, self._single_finished)

    def _single_event(self, event) -> None:
        if not event.done:
            self.output_edit.setPlainText(event.text)
            return
        from playground.core.base.provenance import provenance_of

        s = event.scores
        scores = (f"{score_html(s)} (0–100) against the reference · " if s else "No reference to score against · ")
        variant = self._run_meta["variants"][0]
        shots = "as edited by hand" if variant.prompt_override.strip() else html.escape(describe_shots(variant.shots))
        prompt, settings = self._header_text(variant)
        provenance = provenance_of(self._run_loaded, prompt=prompt, settings=settings)
        self._show_output(event.summary, f"{scores}{event.prompt_tokens:,} prompt tokens · {event.seconds:.1f} s · "
                          f"examples: {shots}", self._run_key, provenance)
        self._save(event, f"{len(self._run_meta['variants'][0].shots)}-shot")
        self.sig_run_finished.emit(event)

    def _single_finished(self) -> None:
        self._finished()
        if self.task is not None and self.task.outcome == "cancelled":
            self.score_label.setText("Stopped.")
            self.result_header.clear_result("Stopped before the output was finished.")

    def compare_variants(self):
        loaded = self.context.session.require()
        if self.compare_mode.currentData() == "templates":
            shots = self.shots()
            return [self.variant(shots, t.name, t.label) for t in TEMPLATES.values()]
        k = max(2, self.draft.value.shots)
        all_shots = self.shots(k)
        del loaded
        return [self.variant(all_shots[:n], label=f"{n}-shot") for n in (0, 1, k)]

    def run_compare(self) -> None:
        variants = self._made_or_said(self.compare_variants)
        if variants is None:
            return
        self.views.setCurrentIndex(1)
        self.compare_header.clear_result("Running the comparison…")
        self._compare_loaded = None
        self.compare_view.reset([v.label for v in variants],
                                ["as edited by hand" if v.prompt_override.strip() else describe_shots(v.shots)
                                 for v in variants])
        self._start(variants, self._compare_event, self._compare_finished)

    def _compare_event(self, event) -> None:
        self.compare_view.on_event(event)
        if event.done:
            self._save(event, f"compare: {self._run_meta['variants'][event.index].label}")

    def _compare_finished(self) -> None:
        self._finished()
        variants = self._run_meta["variants"]
        if self.compare_view.scored:
            if self.compare_mode.currentData() == "templates":
                prompt = f"every template at {len(variants[0].shots)}-shot"
            else:
                prompt = f"{self._header_text(variants[0])[0].split(',')[0]}, 0, 1 and {len(variants[-1].shots)} shots"
            chat = "chat template" if variants[0].use_chat_template else "no chat template"
            stopped = "" if self.compare_view.scored == len(variants) else \
                f"stopped after {self.compare_view.scored} of {len(variants)} columns"
            self._compare_loaded = self._run_loaded
            self.compare_header.show_for(self._run_loaded, prompt=f"{prompt}, {chat}",
                                         settings=self.settings().describe(), extra=stopped)
        else:
            self.compare_header.clear_result("Stopped before any column was scored.")
        self.sig_compare_finished.emit()

    def session_snapshot(self) -> list[tuple[str, str]]:
        """Every run of this session: the prompt as the model read it, its output and its scores."""
        items = []
        for label, model, template, shots, event in getattr(self, "session_runs", []):
            s = event.scores
            scores = f"{score_html(s, bold=False)} (0–100)" if s else "no reference to score against"
            items.append((f"{label} · {model} · template {template} · {shots} shots",
                          f"{readable(event.prompt)}\n\n--- output ---\n{event.summary}\n\n{scores} · "
                          f"{event.prompt_tokens:,} prompt tokens · {event.seconds:.1f} s"))
        return items

    # history and sharing ---------------------------------------------------------------------------
    def reopen(self, run) -> None:
        self.views.setCurrentIndex(0)
        self._setting_prompt = True
        self.prompt_edit.setPlainText(run.prompt)
        self._setting_prompt = False
        self.edited = True
        self.draft.set("generation", GenerationSettings.from_dict({**self.draft.value.generation.to_dict(),
                                                                   **run.settings}))
        self._show_output(run.output, html.escape(f"Reopened run {run.id} ({run.model}, {run.template}, "
                                                  f"{run.shots}-shot)."))
        self.refresh_prompt()

    def last_run(self) -> dict:
        """The last run or comparison started: model, variants, reference (read-only; for the Labs)."""
        return dict(getattr(self, "_run_meta", {}))

    def python_code(self) -> str:
        from playground.core.labs.notebook import model_ref
        from playground.core.prompting.lab import python_snippet

        loaded = self.context.session.require()
        # The model as the app uses it: the bundled one, a folder, or a base with the attached adapter.
        return python_snippet(model_ref(loaded), self.prompt_edit.toPlainText(), self.settings(),
                              loaded.is_encoder_decoder,
                              chat=self.use_chat(loaded) and not self.edited)

    def export_notebook(self) -> None:
        window = self.window()
        if hasattr(window, "export_notebook_dialog"):
            window.export_notebook_dialog(None)
        else:
            self.message.setText("Notebook export works in the app's main window (File > Export as notebook).")

    def copy_as_python(self) -> None:
        code = self.python_code()
        QGuiApplication.clipboard().setText(code)
        box = QMessageBox(QMessageBox.Icon.Information, "Copied as Python",
                          "A runnable script is on the clipboard:", QMessageBox.StandardButton.Ok, self)
        box.setDetailedText(code)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
