"""One fine-tuning job from start to report: ``run_finetune`` yields events the whole way.

Works the same in the GUI (a task runner consumes the generator off the GUI thread), in the
terminal, and under ``accelerate launch`` on several processes (every process runs the job;
only the main one writes files and generates).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterator

from playground.core.base.errors import Cancelled, InputError, writing
from playground.core.finetune.checkpoint import atomic_save_dir, load_checkpoint_state
from playground.core.finetune.config import FinetuneConfig, load_config
from playground.core.finetune.prepare import prepare_data_events
from playground.core.finetune.divergence import DivergedError, refuse_nonfinite
from playground.core.finetune.events import (
    DataEvent,
    DoneEvent,
    MethodEvent,
    RougeEvent,
    StageEvent,
    StoppedEvent,
)
from playground.core.finetune.layout import JOB_FILE, RunFolder
from playground.core.finetune.lock import RunLock
from playground.core.finetune.loop import History, Trainer
from playground.core.finetune.memory_measure import run_memory
from playground.core.finetune.methods import (
    apply_method,
    load_trained_weights,
    num_virtual_tokens,
    save_trained,
)
from playground.core.finetune.report import build_report, write_report
from playground.core.finetune.resources import PeakMeter
from playground.core.finetune.safety import absurd_rate_warning, refuse_blown_up, saving, vet_divergence, weight_scale
from playground.core.finetune.scoring import (
    as_loaded,
    predictions_csv,
    score_test_split,
)
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.progress import report_step
from playground.core.base.paths import atomic_write_text


def make_accelerator(device: str, precision: str):
    """An Accelerator for this job: CPU, CUDA (bf16/fp16) or the processes of ``accelerate launch``."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    from playground.core.models.device import pick_device

    launched = int(os.environ.get("WORLD_SIZE", "1")) > 1
    env_cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    base = "cpu" if env_cpu else pick_device(device).split(":")[0]
    from playground.core.finetune.mixed import resolve_precision

    precision = resolve_precision(precision, base)  # auto: BF16 where the GPU or CPU has it natively
    if precision == "fp16" and base == "cpu":
        raise InputError("fp16 training needs a GPU.", "Use precision = \"no\" or \"bf16\" on the CPU.")
    if not launched:
        # One process: each job sets up its own state (a GUI runs several jobs one after another).
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
    return Accelerator(cpu=base == "cpu", mixed_precision=precision)


def prepare_run_dir(cfg: FinetuneConfig, resume: bool, is_main: bool, lock: RunLock | None = None) -> Path:
    """Check (and make) the run folder; with ``lock``, take the folder's lock first, so two runs
    reaching the check at once cannot both pass and a running run's folder is never replaced."""
    run_dir = Path(cfg.output.dir)
    if lock is not None and is_main:
        with writing("the run folder", run_dir):
            lock.acquire()
    if resume:
        if not (run_dir / JOB_FILE).is_file():
            raise InputError(f"{run_dir} is not a fine-tuning run folder (it has no {JOB_FILE}).",
                             "Pass the output folder of the run to continue.")
        return run_dir
    if not is_main:
        # Only the main process checks and makes the folder (the caller then waits for it): a
        # second process looking after the first made it would find it "not empty" and refuse.
        return run_dir
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        # A retry after a run that failed in setup (before its first step) reuses the folder it left.
        if not cfg.output.overwrite and not RunFolder(run_dir).failed_in_setup():
            raise InputError(f"The output folder {run_dir} already exists and is not empty.",
                             "Choose another output.dir, allow replacing it (output.overwrite = true, or "
                             "--overwrite), or continue that run with --resume.")
        with writing("over the old run", run_dir):
            if run_dir.is_dir():
                shutil.rmtree(run_dir)
            else:
                run_dir.unlink()
    with writing("the run folder", run_dir):
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / JOB_FILE, cfg.to_toml())
    return run_dir


def resume_config(run_dir: str | Path) -> FinetuneConfig:
    """The job of an existing run folder, pointed at that folder (to continue it)."""
    cfg = load_config(Path(run_dir) / JOB_FILE)
    cfg.output.dir = str(Path(run_dir).resolve())
    return cfg


def run_finetune(cfg: FinetuneConfig, handle: TaskHandle | None = None, resume: bool = False) -> Iterator[Any]:
    """Run a fine-tuning job, yielding events (see playground.core.finetune.events).

    Parameters
    ----------
    cfg
        The job. ``cfg.output.dir`` is the run folder.
    handle
        Progress and Stop. A Stop (``request_stop()`` or a cancel, or closing the generator) between
        steps writes a checkpoint first (``training.save_on_stop``); the last event is then a StoppedEvent.
    resume
        Continue the run in ``cfg.output.dir`` from its newest complete checkpoint (see
        ``resume_config``). Without a checkpoint it starts again from step 0.

    Raises
    ------
    InputError, PlaygroundError
        Bad settings or data, an output folder in the way, out of memory (with what to change).
    """
    handle = ensure_handle(handle)
    where: dict = {}
    try:
        yield from _run(cfg, handle, resume, where)
    except Cancelled:
        trainer = where.get("trainer")
        yield trainer.stopped_event() if trainer is not None else StoppedEvent(0, "")
    except DivergedError as exc:
        checked = vet_divergence(exc, where.get("run"))  # "the last good checkpoint" only if it is
        _note_failure(where, checked)
        if checked is exc:
            raise
        raise checked from None
    except Exception as exc:
        _note_failure(where, exc)
        raise
    finally:
        if "meter" in where:
            where["meter"].stop()
        if "lock" in where:
            where["lock"].release()


def _note_failure(where: dict, exc: Exception) -> None:
    """Leave failed.json in the run folder, so the runs list says why the run stopped."""
    run, main = where.get("run"), where.get("main", False)
    if run is None or not main or not run.job.is_file():
        return
    trainer = where.get("trainer")
    note = {"message": getattr(exc, "message", "") or str(exc) or type(exc).__name__,
            "hint": getattr(exc, "hint", "") or "", "step": trainer.history.step if trainer is not None else 0}
    try:
        atomic_write_text(run.failed_json, json.dumps(note, indent=1))
    except OSError:
        pass  # the error itself still reaches the caller


def _run(cfg: FinetuneConfig, handle: TaskHandle, resume: bool, where: dict) -> Iterator[Any]:
    import torch

    cfg.validate()
    warning = absurd_rate_warning(cfg)
    if warning:
        yield StageEvent("warning", warning)
    acc, run, ckpt = _open_run(cfg, resume, where)
    main = acc.is_main_process
    meter = PeakMeter(acc.device).start()  # this run's peak, not what the process did before
    where["meter"] = meter
    parts = handle.ending_on_stop()  # loading and scoring have nothing to save: a Stop ends them
    loaded, data, test_rows = yield from _load_model_and_data(cfg, acc, parts)
    tok, enc_dec = loaded.tokenizer, loaded.is_encoder_decoder

    history, training_state = History(), None
    if ckpt is not None:
        state, training_state = load_checkpoint_state(ckpt)
        history = History.from_dict(state)
    if test_rows and cfg.evaluation.before and "rouge_before" not in history.extra:
        if main:  # the base model, before any method touches it; the other processes wait
            loaded.model.to(acc.device)
            for ev in score_test_split(loaded, test_rows, cfg, "before", parts):
                if isinstance(ev, RougeEvent):
                    history.extra["rouge_before"] = _scores_of(ev)
                    history.extra["predictions_before"] = ev.predictions
                yield ev
        acc.wait_for_everyone()

    torch.manual_seed(cfg.training.seed)  # the same initialisation on every process and every resume
    model, info = apply_method(loaded.model, cfg, loaded.info.folder, enc_dec)
    yield MethodEvent(info.method, info.trainable, info.total, info.target_modules, info.details)
    if ckpt is not None:
        load_trained_weights(model, ckpt / "model", cfg.method.name)
        yield StageEvent("resume", f"Resuming at step {history.step} from {ckpt.name}")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.training.weight_decay)
    model, optimizer = acc.prepare(model, optimizer)
    bare = acc.unwrap_model(model)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)

    start_scale = weight_scale(bare)

    def save_model(folder: Path) -> None:
        trained = acc.unwrap_model(model)
        refuse_nonfinite(trained, str(folder))  # never a NaN adapter as a result
        refuse_blown_up(trained, str(run.path), start_scale, cfg.learning_rate, cfg.method.name)
        with saving(trained, run.path, run.latest_checkpoint()):  # a full disk: what it needs, where
            save_trained(trained, tok, folder, cfg.method.name)

    trainer = Trainer(acc, model, optimizer, cfg, data.train, data.validation, pad_id, enc_dec,
                      num_virtual_tokens(bare), run.path, save_model, history, handle, training_state, meter)
    where["trainer"] = trainer
    yield StageEvent("train", f"Training for {trainer.total_steps} steps "
                              f"({trainer.plan.steps_per_epoch} per epoch, {acc.num_processes} process(es))")
    meter.mark()  # the training steps' own memory, apart from loading and scoring the base model
    yield from trainer.run()
    # Trained: the weights are FP32, so scoring and the app get an FP32 model (without the autocast
    # that mixed precision put around its forward for training).
    bare = acc.unwrap_model(model, keep_fp32_wrapper=False)
    train_peak = meter.peak()  # before scoring: generation is not training
    memory = run_memory(bare, cfg, data.train, acc.mixed_precision, enc_dec, info.target_modules, meter)

    artifact = run.artifact(cfg.method.name)
    if main:
        yield StageEvent("save", f"Saving the trained weights to {artifact}")
        report_step(handle, "Saving the trained weights", 0, None)
        kept = run.latest_checkpoint()
        with writing("the trained weights", artifact,
                     f"The last checkpoint is safe: {kept}." if kept else ""):
            atomic_save_dir(artifact, save_model)
    acc.wait_for_everyone()

    trained = as_loaded(loaded, bare, " (fine-tuned)")
    report = {}
    if main:
        report = yield from _score_after_and_report(cfg, run, trained, test_rows, history, dict(
            info=info, stats={k: v.to_dict() for k, v in data.stats.items()}, artifact=str(artifact),
            peak_memory=train_peak, memory_at_start=meter.start_bytes, memory=memory, processes=acc.num_processes,
            device=acc.device.type, precision=acc.mixed_precision), parts)
    acc.wait_for_everyone()
    yield DoneEvent(str(run.path), str(artifact), report, model=bare, tokenizer=tok, loaded=trained)


def _open_run(cfg: FinetuneConfig, resume: bool, where: dict):
    """The accelerator, the locked run folder and (when resuming) its newest checkpoint."""
    acc = make_accelerator(cfg.model.device, cfg.model.precision)
    main = acc.is_main_process
    where["lock"] = RunLock(cfg.output.dir)  # held until the run ends, however it ends
    run = RunFolder(prepare_run_dir(cfg, resume, main, where["lock"]))
    where["run"], where["main"] = run, main
    if resume and main:
        run.failed_json.unlink(missing_ok=True)  # tried again: the old error no longer stands
    acc.wait_for_everyone()
    ckpt = run.latest_checkpoint() if resume else None
    if resume and run.report_json.is_file() and ckpt is None:
        raise InputError(f"The run in {run.path} is already finished.", "Start a new run to train more.")
    return acc, run, ckpt


def _load_model_and_data(cfg: FinetuneConfig, acc, handle: TaskHandle):
    """Load the model and tokenize the data (yields their events); returns (loaded, data, test rows)."""
    from playground.core.models.sources import ModelSource
    from playground.core.models.loading import load_model

    yield StageEvent("model", f"Loading {cfg.model.source} for training...")
    report_step(handle, "Loading the model for training", 0, None)
    with acc.main_process_first():  # the first load may convert and cache the model: once
        loaded = load_model(ModelSource.parse(cfg.model.source), device="cpu", dtype="float32")
    window = loaded.info.context_window
    if window and cfg.data.max_length > window:
        yield StageEvent("data", f"data.max_length {cfg.data.max_length} is beyond the model's context window: "
                                 f"using {window} tokens")
        cfg.data.max_length = window
    handle.raise_if_cancelled()
    yield StageEvent("data", "Reading and tokenizing the data...")
    data = yield from prepare_data_events(cfg.data, loaded.tokenizer, loaded.is_encoder_decoder, cfg.training.seed,
                                          cfg.evaluation.test_examples, handle)  # counts; Stop between batches
    test_rows = data.test_rows(cfg.evaluation.test_examples) if cfg.evaluation.test_examples else []
    yield DataEvent({k: v.to_dict() for k, v in data.stats.items()})
    return loaded, data, test_rows


def _score_after_and_report(cfg: FinetuneConfig, run: RunFolder, trained, test_rows, history: History,
                            facts: dict, handle: TaskHandle):
    """Main process: score the trained model on the test split, write the predictions and the
    report; returns the report. ``facts``: what build_report needs about the run itself."""
    rouge_after, predictions_after, status = None, [], "finished"
    if test_rows:
        try:
            for ev in score_test_split(trained, test_rows, cfg, "after", handle):
                if isinstance(ev, RougeEvent):
                    rouge_after, predictions_after = _scores_of(ev), ev.predictions
                yield ev
        except Cancelled:  # the weights are saved: finish the run without the after-scores
            status = "finished (test scoring stopped)"
            yield StageEvent("rouge_after", "Scoring stopped: the report has no ROUGE after fine-tuning")
    yield StageEvent("report", f"Writing the report to {run.report_md}")
    report_step(handle, "Writing the report", 0, None)
    before = history.extra.get("predictions_before", [])
    samples = [{"id": r.id, "reference": r.reference, "before": before[i] if i < len(before) else "",
                "after": predictions_after[i] if i < len(predictions_after) else ""}
               for i, r in enumerate(test_rows[:5])]
    if before or predictions_after:
        atomic_write_text(run.predictions_csv, predictions_csv(test_rows, {"before": before, "after": predictions_after}))
    info, stats = facts.pop("info"), facts.pop("stats")
    report = build_report(cfg, info, stats, history, status=status, rouge_before=history.extra.get("rouge_before"),
                          rouge_after=rouge_after, samples=samples, **facts)
    with writing("the report", run.path, f"The trained weights are saved in {facts['artifact']}."):
        write_report(run.path, report)
    shutil.rmtree(run.checkpoints, ignore_errors=True)  # the run is complete
    return report


def _scores_of(ev: RougeEvent) -> dict:
    """What the report keeps of a RougeEvent: mean F1s, BLEU and the intervals."""
    return dict(ev.scores) | {"bleu": ev.bleu, "intervals": ev.intervals, "examples": ev.examples}
