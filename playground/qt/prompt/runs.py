"""Running prompts in the Prompt tab: one run, a side-by-side comparison, history and sharing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox

from playground.core.generation import GenerationSettings
from playground.core.history import Run
from playground.core.prompts import TEMPLATES


class PromptRunsMixin:
    """The PromptPanel's runs. Expects the widgets PromptPanel builds."""

    # running -------------------------------------------------------------------------------------
    def settings(self) -> GenerationSettings:
        return GenerationSettings(max_new_tokens=self.max_tokens.value(), do_sample=False, top_n=0)

    def _start(self, variants, on_event, on_finished) -> bool:
        from playground.core.errors import describe_exception
        from playground.core.prompt_lab import run_variants

        if self.busy:
            return False
        loaded = self.context.ready_model(self.message.setText)
        if loaded is None:
            return False
        dialogue, reference, settings = self.dialogue_edit.toPlainText(), self.reference(), self.settings()
        try:
            from playground.core.generation import check_prompt
            from playground.core.prompt_lab import build_variant_prompt

            for v in variants:
                check_prompt(loaded, build_variant_prompt(loaded, dialogue, v).text, settings.max_new_tokens)
        except Exception as exc:
            msg, hint = describe_exception(exc)
            self.message.setText(f"{msg} {hint}".strip())
            return False
        self.message.setText("")
        self._run_meta = {"model": loaded.info.name, "variants": variants, "reference": reference,
                          "dialogue_id": (self.current_example().id if reference else "")}
        self.task = self.slot.start(
            "prompt lab", lambda h: run_variants(loaded, dialogue, reference, variants, settings, h.cancelled),
            on_item=on_event, on_finished=lambda task: on_finished())
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
        self.history.add(Run(model=self._run_meta["model"], template=name, shots=len(v.shots), prompt=event.prompt,
                             settings=self.settings().to_dict(), output=event.summary, scores=event.scores,
                             reference=self._run_meta["reference"], dialogue_id=self._run_meta["dialogue_id"],
                             prompt_tokens=event.prompt_tokens, seconds=event.seconds, label=label))
        self.history_view.refresh()

    def run_single(self) -> None:
        try:
            variant = self.variant()
        except Exception as exc:
            from playground.core.errors import describe_exception

            self.message.setText(" ".join(describe_exception(exc)).strip())
            return
        self.output_edit.clear()
        self.score_label.setText("")
        self.views.setCurrentIndex(0)
        self._start([variant], self._single_event, self._single_finished)

    def _single_event(self, event) -> None:
        if not event.done:
            self.output_edit.setPlainText(event.text)
            return
        self.output_edit.setPlainText(event.summary)
        s = event.scores
        scores = (f"ROUGE-1 <b>{s['rouge1']:.3f}</b> · ROUGE-2 <b>{s['rouge2']:.3f}</b> · "
                  f"ROUGE-L <b>{s['rougeL']:.3f}</b> against the reference · " if s else "No reference to score against · ")
        self.score_label.setText(f"{scores}{event.prompt_tokens:,} prompt tokens · {event.seconds:.1f} s")
        self._save(event, f"{len(self._run_meta['variants'][0].shots)}-shot")
        self.sig_run_finished.emit(event)

    def _single_finished(self) -> None:
        self._finished()
        if self.task is not None and self.task.outcome == "cancelled":
            self.score_label.setText("Stopped.")

    def compare_variants(self):
        loaded = self.context.session.require()
        if self.compare_mode.currentData() == "templates":
            shots = self.shots()
            return [self.variant(shots, t.name, t.label) for t in TEMPLATES.values()]
        k = max(2, self.shots_spin.value())
        all_shots = self.shots(k)
        del loaded
        return [self.variant(all_shots[:n], label=f"{n}-shot") for n in (0, 1, k)]

    def run_compare(self) -> None:
        try:
            variants = self.compare_variants()
        except Exception as exc:
            from playground.core.errors import describe_exception

            self.message.setText(" ".join(describe_exception(exc)).strip())
            return
        self.views.setCurrentIndex(1)
        self.compare_view.reset([v.label for v in variants])
        self._start(variants, self._compare_event, self._compare_finished)

    def _compare_event(self, event) -> None:
        self.compare_view.on_event(event)
        if event.done:
            self._save(event, f"compare: {self._run_meta['variants'][event.index].label}")

    def _compare_finished(self) -> None:
        self._finished()
        self.sig_compare_finished.emit()

    # history and sharing ---------------------------------------------------------------------------
    def reopen(self, run) -> None:
        self.views.setCurrentIndex(0)
        self._setting_prompt = True
        self.prompt_edit.setPlainText(run.prompt)
        self._setting_prompt = False
        self.edited = True
        self.max_tokens.setValue(int(run.settings.get("max_new_tokens", self.max_tokens.value())))
        self.output_edit.setPlainText(run.output)
        self.score_label.setText(f"Reopened run {run.id} ({run.model}, {run.template}, {run.shots}-shot).")
        self.refresh_prompt()

    def python_code(self) -> str:
        from playground.core.prompt_lab import python_snippet

        loaded = self.context.session.require()
        ref = loaded.info.folder or loaded.source.ref
        return python_snippet(ref, self.prompt_edit.toPlainText(), self.settings(), loaded.is_encoder_decoder,
                              chat=self.use_chat(loaded) and not self.edited)

    def copy_as_python(self) -> None:
        code = self.python_code()
        QGuiApplication.clipboard().setText(code)
        box = QMessageBox(QMessageBox.Icon.Information, "Copied as Python",
                          "A runnable script is on the clipboard:", QMessageBox.StandardButton.Ok, self)
        box.setDetailedText(code)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
