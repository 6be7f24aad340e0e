"""The Retrieval section's work with the generating model: the answers with and without retrieval
(streamed), leave-one-out, retrieval quality, and the failure-mode presets. A mixin of ``RetrievalPage``,
kept apart so each file stays one concern."""

from __future__ import annotations

from playground.qt.binding import Draft, form_row
from playground.qt.build.xray_chart import METHOD_NAMES
from playground.qt.task_slot import TaskSlot


class AnswerWork:
    """Needs the page's ``context``, ``box``, ``xray``, ``answers``, ``attribution``, ``quality``, ``index``,
    ``kb``, ``search`` and ``draft``."""

    def _init_work(self) -> None:
        from playground.core.retrieval import PRESETS, answer_settings

        self.answer_slot = TaskSlot(self.context.runner, parent=self)
        self.attr_slot = TaskSlot(self.context.runner, parent=self)
        self.eval_slot = TaskSlot(self.context.runner, parent=self)
        self.answer_slot.say = self.answers.note.setText
        self.attr_slot.say = self.attribution.verdict.setText
        self.eval_slot.say = self.quality.explain.setText
        self.answers.strip.attach(self.answer_slot)
        self.attribution.strip.attach(self.attr_slot)
        self.quality.strip.attach(self.eval_slot)
        # One declaration of "max new tokens" (GenerationSettings); greedy, so an answer repeats.
        self.generation = Draft(answer_settings(), self)
        label, self.max_tokens = form_row(self.generation, "max_new_tokens")
        self.max_tokens.setMaximumWidth(90)
        row = self.answers.layout().itemAt(0).layout()
        row.insertWidget(1, label)
        row.insertWidget(2, self.max_tokens)
        self.answers.answer_button.clicked.connect(self.answer)
        self.attribution.run_button.clicked.connect(self.attribute)
        self.quality.run_button.clicked.connect(self.evaluate)
        self.answered = None  # (loaded, search, answer with retrieval)
        self.box.set_presets(PRESETS, self.apply_preset)
        self.box.presets_button.setEnabled(bool(PRESETS))
        if not PRESETS:
            self.box.preset_label.setText("<small>No failure-mode presets are defined yet.</small>")

    def work_slots(self) -> list[TaskSlot]:
        return [self.answer_slot, self.attr_slot, self.eval_slot]

    # --- with and without ---------------------------------------------------------------------------
    def answer(self) -> None:
        """Ask the loaded model the last search's question without, then with, the retrieved chunks."""
        if self.search is None:
            self.answers.note.setText("Search first (Query X-ray): the answer with retrieval uses the chunks found.")
            return
        loaded = self.context.ready_model(self.answers.note.setText)
        if loaded is None or self.answer_slot.busy:
            return
        from playground.core.base.progress import report_step
        from playground.core.retrieval import build_prompt, score_answer, stream_answer

        search, settings = self.search, self.generation.value
        gold = search.gold.answer if search.gold is not None else None
        chunks = ", ".join(h.chunk.id for h in search.hits) or "none passed the threshold"
        form = "chat template" if loaded.info.has_chat_template and not loaded.is_encoder_decoder else "raw text"
        self.answers.columns["without"].start(loaded, settings.describe(), "no documents", form)
        chunking = self.index.settings.describe()
        self.answers.columns["with"].start(loaded, settings.describe(),
                                           f"{METHOD_NAMES[search.method]}, k={search.k}, {chunking}; chunks: {chunks}",
                                           form)
        self.answers.note.setText("")
        self.attribution.clear("Answer with retrieval first, then leave each chunk out.")

        def work(h):
            for side, hits in (("without", []), ("with", search.hits)):
                prompt = build_prompt(search.question, hits, loaded)
                phase = f"Answering {side} retrieval"
                report_step(h, phase, 0, settings.max_new_tokens)
                text = ""
                for i, step in enumerate(stream_answer(loaded, prompt, settings, h.cancelled), start=1):
                    text += step.text
                    report_step(h, phase, i, settings.max_new_tokens)
                    yield side, step.text
                if h.cancelled():
                    return
                yield side, (score_answer(text.strip(), gold) if gold else None)

        self.answer_slot.start("answer", work, on_item=self._answer_piece, on_progress=self.answers.strip.on_progress,
                               on_finished=lambda task: self._answered(task, loaded, search))
        self.views.setCurrentWidget(self.answers)

    def _answer_piece(self, item) -> None:
        side, piece = item
        column = self.answers.columns[side]
        if isinstance(piece, str):
            column.add(piece)
        elif piece is not None:
            column.score = piece
            column.scores.setText(piece.describe())

    def _answered(self, task, loaded, search) -> None:
        if task.outcome == "cancelled":
            self.answers.note.setText("Stopped: what was written stays.")
            return
        if task.outcome != "done":
            return
        cols = self.answers.columns
        # the answer as generated (spaces and line breaks too): leave-one-out measures those very tokens
        self.answered = (loaded, search, cols["with"].answer)
        if search.gold is None:
            self.answers.note.setText("A question of your own: there is no gold answer to score against.")

        def scores(side):
            s = getattr(cols[side], "score", None)
            return None if s is None else {"exact_match": s.exact_match, "token_f1": s.token_f1,
                                           "rouge_l": s.rouge_l, "contains": s.contains}

        self.sig_compared.emit({"question_id": getattr(search.gold, "id", None), "k": search.k,
                                "method": search.method, "without": scores("without"), "with": scores("with")})

    # --- leave-one-out ---------------------------------------------------------------------------------
    def attribute(self) -> None:
        if self.answered is None or not self.answered[2]:
            self.attribution.verdict.setText("Answer with retrieval first (With and without): leave-one-out "
                                             "measures that answer.")
            return
        loaded, search, answer = self.answered
        if self.context.session.current is not loaded:
            self.attribution.verdict.setText("The model changed since that answer: answer again first.")
            return
        from playground.core.retrieval import leave_one_out

        labels = {h.chunk.id: f"#{h.rank} {h.chunk.id}" for h in search.hits}
        self.attribution.header.show_for(loaded, settings=f"{METHOD_NAMES[search.method]}, k={search.k}",
                                         extra=f"answer: {answer[:60]}")

        def done(effects) -> None:
            self.attribution.show_effects(effects, labels)
            best = max(effects, key=lambda e: e.drop) if effects else None
            self.sig_attributed.emit({"question_id": getattr(search.gold, "id", None), "chunks": len(effects),
                                      "top_chunk": best.chunk_id if best else None,
                                      "top_drop": best.drop if best else None,
                                      "gold_doc": getattr(search.gold, "passage_id", None)})

        self.attr_slot.start("leave one out", lambda h: leave_one_out(loaded, search.question, search.hits, answer, h),
                             on_done=done, on_progress=self.attribution.strip.on_progress)

    # --- quality ----------------------------------------------------------------------------------------
    def evaluate(self) -> None:
        if self.index is None or self.kb is None or not self.kb.questions:
            self.quality.explain.setText("Open the bundled knowledge base: its questions have known answer passages.")
            return
        with_answers = self.quality.answers_check.isChecked()
        loaded = self.context.ready_model(self.quality.explain.setText) if with_answers else None
        if with_answers and loaded is None:
            return
        from playground.core.retrieval import answer_accuracy, evaluate_retrieval

        index, questions, k, method = self.index, list(self.kb.questions), self.xray.k, self.xray.method
        settings = self.generation.value  # the answers' settings, as the header says

        def work(h):
            report = evaluate_retrieval(index, questions, handle=h)
            accuracy = (answer_accuracy(loaded, index, questions, k, h, method, settings=settings)
                        if with_answers else None)
            return report, accuracy

        def done(result) -> None:
            report, accuracy = result
            self.quality.show_reports(report, accuracy)
            what = f"{len(questions)} bundled questions · {index.settings.describe()}"
            if accuracy is not None:
                self.quality.header.show_for(loaded, settings=self.generation.value.describe(),
                                             extra=f"{what} · answers with {METHOD_NAMES[method]}, k={k}")
            else:
                self.quality.header.setText(f"Retrieval only · {what} · encoder {index.encoder.name}")
            self.sig_evaluated.emit({
                "recall": {m: {k2: report.recall(m, k2) for k2 in report.ks} for m in report.ranks},
                "mrr": {m: report.mrr(m) for m in report.ranks},
                "accuracy": None if accuracy is None else {"with": accuracy.mean("with"),
                                                           "without": accuracy.mean("without")}})

        self.eval_slot.start("evaluate retrieval", work, on_done=done, on_progress=self.quality.strip.on_progress)

    # --- presets ------------------------------------------------------------------------------------------
    def apply_preset(self, preset) -> None:
        """Set up a failure mode: its chunking (indexing again if it changed), method, k and question, then search."""
        if self.kb is None:
            self.box.message.setText("Wait for the knowledge base to open, then pick the failure mode again.")
            return
        self.box.preset_label.setText(f"<b>{preset.name}.</b> {preset.sentence}")
        if preset.method:
            self.xray.method_combo.setCurrentIndex(self.xray.method_combo.findData(preset.method))
        self.pending_k = preset.k  # set again once the index is ready: fewer chunks now may cap the slider
        if preset.k:
            self.xray.k_slider.setValue(preset.k)
        known = {q.id for q in self.kb.questions}
        if preset.question_id and preset.question_id not in known:
            self.box.message.setText(f"'{preset.name}' is set up on the bundled knowledge base: open it (Bundled), "
                                     "then pick the failure mode again.")
            return
        gold = self.kb.question(preset.question_id) if preset.question_id else None
        if gold is not None and not preset.question:
            self.xray.pick_question(gold)
        else:  # its own wording (the gold answer kept), or a question the documents cannot answer
            self.xray.pick_question(preset.question_text(self.kb), gold)
        self.views.setCurrentWidget(self.xray)
        self.sig_preset.emit({"name": preset.key})
        # from the default chunking, not the last preset's: each preset shows what its sentence says
        settings = preset.chunk_settings()
        self.search = None
        if self.index is None or settings != self.index.settings:
            self._rechunk_timer.stop()
            self.draft.replace(settings)
            self._rechunk_timer.stop()
            kb = self.kb
            self._ask_after_index = True
            self._open(lambda h: kb, "Indexing for the failure mode")
        else:
            self.ask()

    # --- the model changed --------------------------------------------------------------------------------
    def on_model_changed(self, loaded) -> None:
        """Answers belong to the model that wrote them: the Adapter switch marks them out of date, another model
        clears them; the prompt is rebuilt with the new tokenizer."""
        made_by = self.answered[0] if self.answered else None
        if made_by is not None and made_by is not loaded and self.context.only_switched(made_by, loaded):
            for column in self.answers.columns.values():
                column.header.mark_stale("the Adapter switch changed the model since; answer again")
            self.attribution.header.mark_stale("the model changed since")
        elif made_by is not loaded:
            for slot in self.work_slots():
                slot.stop()
            self.answered = None
            self.answers.clear()
            self.attribution.clear("Answer with retrieval first, then leave each chunk out.")
            if self.quality.accuracy is not None:
                self.quality.header.mark_stale("the model changed since")
        if self.search is not None:
            self.recut()
