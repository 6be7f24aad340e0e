"""The Inside tab's side tasks: the logit lens and the embeddings, each run in its own task slot.
A mixin of InsidePanel (it reads the panel's views, slots and signals)."""

from __future__ import annotations


class SideTasksMixin:
    """The logit lens and the embeddings (side tasks) of InsidePanel."""

    def _cancel_side_task(self) -> None:
        self.lens_slot.stop()
        self.embed_slot.stop()

    def run_lens(self, start: int, count: int) -> None:
        result, loaded = self.result, self.result_model  # the lens reads the model that made the result
        if result is None or loaded is None:
            return
        from playground.core.attention import lens_for

        length = len(result.target_ids) or len(result.tokens)
        positions = list(range(max(0, min(start, length - 1)), min(length, start + count)))
        self._cancel_side_task()
        self.lens_stale = False
        self.lens.status.setText("Reading every layer through the LM head…")
        self.lens_slot.start(
            "logit lens", lambda h: lens_for(loaded, result, positions=positions, handle=h),
            on_progress=self._on_progress, on_done=self._on_lens,
            on_failed=lambda m, h: (self.lens.clear(f"{m} {h}".strip()), self.sig_lens_finished.emit(None)),
            on_finished=self._on_side_finished)

    def _on_side_finished(self, task) -> None:
        if task.outcome == "cancelled":
            self._lens_stopped()
        if not self.busy:
            self.status_label.setText(self._status)

    def _on_lens(self, lens_result) -> None:
        self.lens.show_result(lens_result)
        self.sig_lens_finished.emit(lens_result)

    def _lens_stopped(self) -> None:
        self.lens_stale = True
        self.lens.status.setText("Stopped.")
        self.sig_lens_finished.emit(None)

    def compare_words(self, text: str, leading_space: bool) -> None:
        loaded = self.context.ready_model(self.message_label.setText)
        if loaded is None:
            return
        from playground.core.attention import compare_embeddings, parse_words

        words = parse_words(text)
        self.message_label.setText("")
        self.embed_slot.start(
            "embeddings", lambda h: compare_embeddings(loaded, words, leading_space),
            on_done=lambda r: (self.embeddings.show_result(r),
                               self.embeddings.header.show_for(loaded, settings="input embeddings of words looked up "
                                                               + ("with a space before" if leading_space else "as typed")),
                               self.sig_embeddings_finished.emit(r)),
            on_failed=lambda m, h: (self.message_label.setText(f"{m} {h}".strip()),
                                    self.sig_embeddings_finished.emit(None)))
