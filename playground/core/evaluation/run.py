"""Run up to four systems over a dataset and score them, one example at a time.

A *system* is something that produces a summary for each example: the current model zero-shot,
the current model with k-shot prompts, the current model with a saved adapter (loaded with peft
on a copy, so the model every tab shares is never changed), or a column of predictions from a
file. ``run_evaluation`` is a generator: it yields one ``ExampleResult`` per example (every
system's output and per-pair ROUGE) so a GUI can show progress and stop between examples; the
results already yielded stay valid and can be scored.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from playground.core.prompting.prompt_settings import SUMMARY_MAX_NEW_TOKENS as DEFAULT_MAX_NEW_TOKENS
from playground.core.evaluation.datasets import Example, load_predictions
from playground.core.base.errors import InputError, PlaygroundError
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.evaluation.metrics import (
    PRF,
    ScoreReport,
    make_rouge_scorer,
    score_pair,
    score_predictions,
)
from playground.core.evaluation.text_tokens import DEFAULT

ZERO_SHOT, K_SHOT, ADAPTER, FILE = "zero-shot", "k-shot", "adapter", "file"
SYSTEM_KINDS = (ZERO_SHOT, K_SHOT, ADAPTER, FILE)
MAX_SYSTEMS = 4
#: The phase an evaluation reports (examples done of the total): each example is summarized by every system.
SUMMARIZING = "Summarizing the examples"
SCORING = "Scoring (ROUGE, BLEU, intervals)"


@dataclass
class SystemSpec:
    """One system to compare. ``label`` names it in tables (made up from the kind when empty)."""

    kind: str
    label: str = ""
    shots: int = 0
    adapter_dir: str = ""
    predictions_path: str = ""
    predictions_column: str = ""
    # A prompt lab template (name or text): prompts are built with it, as fine-tuning builds its
    # training prompts, instead of the default summarization prompt.
    template: str = ""
    use_chat_template: bool = False

    def display(self) -> str:
        if self.label:
            return self.label
        if self.kind == ZERO_SHOT:
            return "zero-shot"
        if self.kind == K_SHOT:
            return f"{self.shots}-shot"
        if self.kind == ADAPTER:
            return f"adapter {run_name(self.adapter_dir)}"
        return f"{Path(self.predictions_path).name}:{self.predictions_column}"

    @property
    def needs_model(self) -> bool:
        return self.kind != FILE

    def model_name(self, base_name: str) -> str:
        """The model this system runs, in words: the base model (adapter off) or base + the run."""
        if self.kind == FILE:
            return f"predictions from {Path(self.predictions_path).name}"
        if self.kind == ADAPTER:
            return f"{base_name} + {run_name(self.adapter_dir)}"
        return f"{base_name} (base model, no adapter)"


def run_name(adapter_dir: str | Path) -> str:
    """The name of the run an adapter came from: a Fine-tune run keeps it in RUN/adapter or RUN/model."""
    folder = Path(adapter_dir)
    if folder.name in ("adapter", "model") and folder.parent.name:
        return folder.parent.name
    return folder.name


def training_prompt(adapter_dir: str | Path) -> tuple[str, bool] | None:
    """(template, use_chat_template) the adapter was trained with, read from its run's job.toml.

    None when the folder is not inside a Fine-tune run folder (or its job file cannot be read).
    """
    folder = Path(adapter_dir)
    job = folder.parent / "job.toml"
    if folder.name not in ("adapter", "model") or not job.is_file():
        return None
    try:
        from playground.core.finetune.config import load_config

        cfg = load_config(job)
    except Exception:  # an unreadable job only means no default: the user's settings stand
        return None
    return cfg.data.template, bool(cfg.data.use_chat_template)


@dataclass
class ExampleResult:
    """Every system's output for one example, with its per-pair ROUGE and seconds taken."""

    index: int
    example: Example
    outputs: dict[str, str]
    scores: dict[str, dict[str, PRF]]
    seconds: dict[str, float] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)  # per system label: e.g. a foreign adapter
    # Embedding similarity with the reference (cosine of the bundled encoder's mean-pooled
    # sentence vectors, -1..1) per system; empty when the encoder was not used.
    similarity: dict[str, float] = field(default_factory=dict)


def load_adapter_copy(loaded, adapter_dir: str | Path, handle: TaskHandle | None = None):
    """The current model with a saved peft adapter, built on a deep copy of the model.

    The shared model stays untouched (peft injects its layers into the model it is given).

    Raises
    ------
    InputError
        The folder is not an adapter (no adapter_config.json) or cannot be read.
    PlaygroundError
        The adapter does not fit the loaded model.
    """
    from playground.core.finetune.layout import check_artifact_ready
    from playground.core.models.adapter_check import check_adapter_fit, check_adapter_folder

    folder = Path(adapter_dir)
    check_artifact_ready(folder)  # a run still training (or stopped early) says so
    if hasattr(loaded.model, "peft_config"):
        # peft would stack the adapter on the adapted model, miss every key and load nothing.
        raise PlaygroundError(f"{loaded.info.name} already has an adapter, so {folder.name} cannot be added to it.",
                              "Evaluate adapters on the base model (the Adapter switch off).")
    cfg = check_adapter_folder(folder)
    report_step(ensure_handle(handle), "Loading the adapter", 0, None, folder.name)
    import warnings

    from peft import PeftModel

    base = copy.deepcopy(loaded.model)
    trained_on = cfg.get("base_model_name_or_path") or "another model"
    try:
        with warnings.catch_warnings():  # peft's per-key warnings: said below in one sentence instead
            warnings.simplefilter("ignore")
            model = PeftModel.from_pretrained(base, str(folder), is_trainable=False)
    except Exception as exc:  # peft raises ValueError, RuntimeError (shapes), KeyError...
        raise PlaygroundError(f"The adapter {folder.name} does not fit {loaded.info.name}: {_first_line(exc)}",
                              f"It was trained on {trained_on}; load that model first.") from None
    warning = check_adapter_fit(model, folder, cfg, loaded.info.name, loaded.info.folder)
    model.eval()
    info = replace(loaded.info, name=f"{loaded.info.name} + {run_name(folder)}")
    from playground.core.models.loading import LoadedModel

    return LoadedModel(model=model, tokenizer=loaded.tokenizer, info=info, source=loaded.source,
                       extras={"adapter_dir": str(folder), "peft_type": cfg.get("peft_type", ""),
                               "adapter_warning": warning})


def _first_line(exc: BaseException) -> str:
    """A shape mismatch lists every tensor: keep one sentence and the count of the rest."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    if not lines:
        return type(exc).__name__
    sizes = [ln for ln in lines if "size mismatch" in ln]
    if sizes:
        first = sizes[0].split(":", 1)[-1].strip() if ":" in sizes[0] else sizes[0]
        return (f"{len(sizes)} weights have other shapes than this model's layers "
                f"(first: {first[:160]})")
    return lines[0][:240]


def _generate(model_loaded, prompt: str, settings, cancelled: Callable[[], bool]) -> str:
    from playground.core.decoding.generation import check_prompt, generate_text

    peft_cfg = getattr(model_loaded.model, "active_peft_config", None)
    if peft_cfg is not None and getattr(peft_cfg, "is_prompt_learning", False):
        # Soft prompts are prepended on every forward call; only transformers' generate (through
        # peft's prepare_inputs_for_generation) handles them with a KV cache correctly.
        import torch

        ids = check_prompt(model_loaded, prompt, settings.max_new_tokens)
        model = model_loaded.model
        device = next(model.parameters()).device
        input_ids = torch.tensor([ids], device=device)
        with torch.inference_mode():
            out = model.generate(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                                 max_new_tokens=settings.max_new_tokens, do_sample=False,
                                 pad_token_id=model_loaded.tokenizer.pad_token_id)
        new = out[0] if model_loaded.is_encoder_decoder else out[0, input_ids.shape[1]:]
        return model_loaded.tokenizer.decode(new, skip_special_tokens=True)
    return generate_text(model_loaded, prompt, settings, cancelled)


class _PreparedSystem:
    def __init__(self, spec: SystemSpec, predict: Callable[[int, Example, Callable[[], bool]], str]):
        self.spec = spec
        self.label = spec.display()
        self.predict = predict
        self.warning = ""


def _same_folder(a: str | Path, b: str | Path) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def _prepare(loaded, spec: SystemSpec, examples: list[Example], train: Sequence[Example] | None,
             settings, handle: TaskHandle, attached=None) -> _PreparedSystem:
    from playground.core.prompting.summarize import build_prompt, clean_summary, pick_shots

    if spec.kind not in SYSTEM_KINDS:
        raise InputError(f"Unknown kind of system '{spec.kind}'.")
    if spec.kind == FILE:
        if not spec.predictions_path or not spec.predictions_column:
            raise InputError("A predictions file and the column holding the predictions are needed.")
        preds = load_predictions(spec.predictions_path, spec.predictions_column, examples)
        return _PreparedSystem(spec, lambda i, ex, c: preds[i])
    if loaded is None:
        raise PlaygroundError("No model is loaded yet.", "Load a model, or compare prediction files only.")
    shots = spec.shots if spec.kind == K_SHOT else 0
    if shots and not train:
        raise InputError("k-shot prompts need training examples to show.")
    if spec.kind == ADAPTER:
        dir_attached = attached.extras.get("adapter_dir", "") if attached is not None else ""
        if dir_attached and _same_folder(dir_attached, spec.adapter_dir):
            model = attached  # already in memory (and a full fine-tune's model/ is no peft adapter)
        else:
            model = load_adapter_copy(loaded, spec.adapter_dir, handle)
    else:
        model = loaded

    def predict(i: int, ex: Example, cancelled) -> str:
        chosen = pick_shots(train or [], shots, exclude=ex)
        if spec.template:
            from playground.core.prompting.prompts import assemble
            from playground.core.prompting.prompts import clean_summary as clean_completion

            chat = spec.use_chat_template and not model.is_encoder_decoder
            prompt = assemble(ex.input, chosen, spec.template, tokenizer=model.tokenizer, use_chat_template=chat).text
            return clean_completion(_generate(model, prompt, settings, cancelled))
        prompt = build_prompt(model, ex.input, chosen)
        if shots:
            _check_shots_fit(model, ex, chosen, settings.max_new_tokens)
        return clean_summary(_generate(model, prompt, settings, cancelled))

    prepared = _PreparedSystem(spec, predict)
    prepared.warning = model.extras.get("adapter_warning", "") if spec.kind == ADAPTER else ""
    return prepared


def _check_shots_fit(model, ex: Example, chosen: list, max_new_tokens: int) -> None:
    """Too many shots for the context window: name how many fit, not "shorten the prompt"."""
    from playground.core.decoding.generation import check_prompt
    from playground.core.prompting.summarize import build_prompt

    try:
        check_prompt(model, build_prompt(model, ex.input, chosen), max_new_tokens)
        return
    except InputError:
        pass
    check_prompt(model, build_prompt(model, ex.input, []), max_new_tokens)  # too long even alone: say that
    fit = 0
    for n in range(1, len(chosen)):
        try:
            check_prompt(model, build_prompt(model, ex.input, chosen[:n]), max_new_tokens)
        except InputError:
            break
        fit = n
    window = model.info.context_window
    many = f"{len(chosen)} shot{'s do' if len(chosen) != 1 else ' does'}"
    raise InputError(f"{many} not fit: this model's context window is {window} tokens (with {max_new_tokens} "
                     f"new tokens), and at most {fit} fit with example {ex.id}.",
                     f"Use {fit} shots or fewer{'' if fit else ' (zero-shot)'}, or a model with a longer context.")


def check_systems(systems: Sequence[SystemSpec]) -> None:
    if not systems:
        raise InputError("Choose at least one system to evaluate.")
    if len(systems) > MAX_SYSTEMS:
        raise InputError(f"At most {MAX_SYSTEMS} systems can be compared at once.")
    labels = [s.display() for s in systems]
    dup = {x for x in labels if labels.count(x) > 1}
    if dup:
        raise InputError(f"Two systems have the same name ({', '.join(sorted(dup))}).",
                         "Give them different settings or labels.")


def run_evaluation(loaded, examples: Sequence[Example], systems: Sequence[SystemSpec], *,
                   train: Sequence[Example] | None = None, settings=None, tokenizer: str = DEFAULT,
                   use_stemmer: bool = True, handle: TaskHandle | None = None,
                   attached=None, similarity: bool = True) -> Iterator[ExampleResult]:
    """Generate with every system on every example, yielding one ExampleResult per example.

    Parameters
    ----------
    loaded
        The base LoadedModel, without an adapter: zero-shot and k-shot run on it, an adapter is
        loaded on a copy of it (None is fine when every system is a predictions file).
    examples
        The rows to evaluate, in order.
    systems
        Up to four SystemSpecs.
    train
        The pool k-shot examples are drawn from (never the example itself).
    settings
        GenerationSettings; greedy with 60 new tokens when None.
    tokenizer, use_stemmer
        How the per-pair ROUGE is computed.
    handle
        Progress (examples done / total) and Stop, checked between tokens and examples. An
        example interrupted by Stop is not yielded, so every yielded result is complete.
    attached
        The fine-tuned LoadedModel already in memory (``extras["adapter_dir"]``): an adapter
        system naming that folder runs on it instead of loading the folder again.
    similarity
        Also score each output's embedding similarity with the reference (the bundled encoder,
        see :mod:`playground.core.models.encoder`).
    """
    from playground.core.decoding.generation import GenerationSettings

    handle = ensure_handle(handle)
    examples = list(examples)
    if not examples:
        raise InputError("The dataset has no rows to evaluate.", "Choose another split or file.")
    check_systems(systems)
    settings = settings or GenerationSettings.make(max_new_tokens=DEFAULT_MAX_NEW_TOKENS, do_sample=False, top_n=0)
    settings.validate()
    scorer = make_rouge_scorer(use_stemmer, tokenizer)
    prepared = []
    for spec in systems:
        handle.raise_if_cancelled()
        prepared.append(_prepare(loaded, spec, examples, train, settings, handle, attached))
    n = len(examples)
    report_step(handle, SUMMARIZING, 0, n)
    for i, ex in enumerate(examples):
        outputs, scores, seconds = {}, {}, {}
        for system in prepared:
            if handle.cancelled():
                return
            t0 = time.perf_counter()
            out = system.predict(i, ex, handle.cancelled)
            if handle.cancelled():
                return  # a half-generated output would be scored unfairly: drop the example
            seconds[system.label] = time.perf_counter() - t0
            outputs[system.label] = out
            scores[system.label] = score_pair(scorer, out, ex.reference)
        warned = {p.label: p.warning for p in prepared if p.warning}
        sims = _similarities(outputs, ex.reference) if similarity else {}
        yield ExampleResult(index=i, example=ex, outputs=outputs, scores=scores, seconds=seconds, warnings=warned,
                            similarity=sims)
        report_step(handle, SUMMARIZING, i + 1, n)


def _similarities(outputs: dict[str, str], reference: str) -> dict[str, float]:
    from playground.core.models.encoder import pair_similarities

    labels = list(outputs)
    scores = pair_similarities([outputs[k] for k in labels], [reference] * len(labels)).vectors
    return {label: float(v) for label, v in zip(labels, scores)}


def score_results(results: Sequence[ExampleResult], labels: Sequence[str], *, tokenizer: str = DEFAULT,
                  use_stemmer: bool = True, n_resamples: int = 1000, seed: int = 0,
                  handle: TaskHandle | None = None) -> dict[str, ScoreReport]:
    """The aggregate table (ROUGE, BLEU, intervals) of each system over the results so far; reports
    the phase "Scoring" one system at a time on ``handle``."""
    if not results:
        raise InputError("No example has finished yet, so there is nothing to score.",
                         "Let the evaluation run for at least one example.")
    from playground.core.evaluation.metrics import bootstrap_ci

    references = [r.example.reference for r in results]
    reports = {}
    for i, label in enumerate(labels):
        report_step(handle, SCORING, i, len(labels), label)
        reports[label] = score_predictions([r.outputs[label] for r in results], references, tokenizer=tokenizer,
                                           use_stemmer=use_stemmer, n_resamples=n_resamples, seed=seed)
    report_step(handle, SCORING, len(labels), len(labels))
    for label, rep in reports.items():
        sims = [r.similarity[label] for r in results if label in r.similarity]
        if sims and len(sims) == len(results):
            rep.similarity = sum(sims) / len(sims)
            rep.ci["similarity"] = bootstrap_ci(sims, n_resamples, seed=seed)
    return reports
