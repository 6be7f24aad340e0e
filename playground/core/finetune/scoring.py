"""ROUGE on the held-out test split, before and after fine-tuning, through the evaluation core.

The test dialogues are summarized greedily with the job's template (the prompt the model was
trained on) by ``evaluation.run_evaluation`` and scored by ``evaluation.score_results`` (ROUGE as
rouge-score computes it, BLEU, 95% bootstrap intervals), so a fine-tuning report's numbers are
the Evaluate tab's numbers.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterator

from playground.core.evaluation.datasets import Example as Row
from playground.core.base.errors import Cancelled
from playground.core.finetune.config import FinetuneConfig
from playground.core.finetune.events import RougeEvent, StageEvent
from playground.core.base.handle import TaskHandle
from playground.core.base.progress import report_step

SAMPLES = 3  # example summaries carried in the event and the report


def as_loaded(loaded, model, name_suffix: str):
    """The LoadedModel ``loaded`` with another model (e.g. the trained peft model) in its place."""
    from playground.core.models.loading import LoadedModel

    return LoadedModel(model=model, tokenizer=loaded.tokenizer, info=replace(loaded.info, name=loaded.info.name + name_suffix),
                       source=loaded.source, extras=dict(loaded.extras))


#: the phase names of the two scoring passes (the progress strip restarts its bar per phase)
SCORING_PHASES = {"before": "Scoring the test set before training", "after": "Scoring the test set after training"}


class _PhaseReports:
    """A handle whose reports are dropped (the caller reports the phase's steps itself); everything
    else (Stop, pause, cancelled) is the wrapped handle's own."""

    def __init__(self, handle: TaskHandle, phase: str) -> None:
        self._handle, self.phase = handle, phase

    def report(self, progress, message: str = "") -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._handle, name)


def score_test_split(loaded, rows: list[Row], cfg: FinetuneConfig, when: str,
                     handle: TaskHandle) -> Iterator[Any]:
    """Summarize ``rows`` with ``loaded`` and score them: StageEvents while going, then a RougeEvent.

    Parameters
    ----------
    loaded
        The model to score (a LoadedModel; its model may be a peft model).
    rows
        Test rows (dialogue in ``input``, reference summary in ``reference``).
    cfg
        The job: its template, chat-template choice and ``evaluation.max_new_tokens``.
    when
        "before" or "after" (the system's label in the event and the report).
    handle
        Stop, checked between tokens; raises Cancelled when stopped.
    """
    from playground.core.evaluation.run import (
        ZERO_SHOT,
        SystemSpec,
        run_evaluation,
        score_results,
    )
    from playground.core.decoding.generation import GenerationSettings

    spec = SystemSpec(ZERO_SHOT, label=when, template=cfg.data.template,
                      use_chat_template=cfg.data.use_chat_template)
    settings = GenerationSettings.make(max_new_tokens=cfg.evaluation.max_new_tokens, do_sample=False, top_n=0)
    model = loaded.model
    was_training = model.training
    model.eval()  # no dropout while generating
    results = []
    phase = SCORING_PHASES.get(when, f"Scoring the test set ({when})")
    report_step(handle, phase, 0, len(rows))
    try:
        # the evaluation's own "n / N examples" reports are said as this phase, step n of N
        for res in run_evaluation(loaded, rows, [spec], settings=settings, handle=_PhaseReports(handle, phase)):
            results.append(res)
            report_step(handle, phase, len(results), len(rows))
            yield StageEvent(f"rouge_{when}", f"Summarizing test dialogue {len(results)}/{len(rows)} "
                                              f"({when} fine-tuning)", len(results) / len(rows))
    finally:
        model.train(was_training)
    if handle.cancelled() or len(results) < len(rows):
        raise Cancelled()
    report = score_results(results, [when], n_resamples=200)[when]
    predictions = [r.outputs[when] for r in results]
    samples = [{"id": r.example.id, "reference": r.example.reference, "prediction": r.outputs[when]}
               for r in results[:SAMPLES]]
    yield RougeEvent(when, {k: float(v) for k, v in report.rouge.items()}, len(results), samples,
                     bleu=float(report.bleu), intervals={k: list(v) for k, v in report.ci.items()},
                     predictions=predictions)


def predictions_csv(rows: list[Row], predictions: dict[str, list[str]]) -> str:
    """Every test row with each system's summary and its per-pair ROUGE (the Evaluate tab's CSV)."""
    from playground.core.evaluation.report import results_csv
    from playground.core.evaluation.run import ExampleResult
    from playground.core.evaluation.metrics import make_rouge_scorer, score_pair

    scorer = make_rouge_scorer()
    labels = [k for k, v in predictions.items() if v]
    results = []
    for i, row in enumerate(rows):
        outputs = {k: predictions[k][i] for k in labels if i < len(predictions[k])}
        results.append(ExampleResult(i, row, outputs, {k: score_pair(scorer, v, row.reference)
                                                       for k, v in outputs.items()}))
    return results_csv(results, labels)
