"""One distillation job from start to report: ``run_distill`` yields events the whole way.

The teacher is measured, then each student (soft targets, then hard labels only) is made, trained by
the fine-tuning loop with the distillation loss, saved as a Hugging Face folder and measured. Stop
between steps writes a checkpoint; ``resume`` continues the run folder: a student already saved is
kept, the one being trained goes on from its newest checkpoint, measurements made are not redone.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Iterator

from playground.core.base.errors import Cancelled, InputError, writing
from playground.core.base.handle import TaskHandle, ensure_handle
from playground.core.base.paths import atomic_write_text
from playground.core.distill.config import DistillJob, load_job
from playground.core.distill.events import DistillDoneEvent, DistillStepEvent, MeasuredEvent, StudentEvent
from playground.core.distill.measure import ModelRow, measure_model
from playground.core.distill.report import build_report, write_report
from playground.core.distill.store import KINDS, is_student, student_dir
from playground.core.distill.student import check_pair, kept_layers, layer_count, make_student, parameter_count
from playground.core.distill.trainer import DistillTrainer
from playground.core.finetune.checkpoint import atomic_save_dir, load_checkpoint_state
from playground.core.finetune.divergence import DivergedError, refuse_nonfinite
from playground.core.finetune.events import DataEvent, StageEvent, StepEvent, StoppedEvent
from playground.core.finetune.layout import JOB_FILE, RunFolder
from playground.core.finetune.lock import RunLock
from playground.core.finetune.loop import History

MEASURES_FILE = "measures.json"
PERPLEXITY_TEXTS = 20  # test summaries the perplexity is measured on


def resume_job(run_dir: str | Path) -> DistillJob:
    """The job of an existing run folder, pointed at that folder (to continue it)."""
    run_dir = Path(run_dir)
    if not (run_dir / JOB_FILE).is_file():
        raise InputError(f"{run_dir} is not a distillation run folder (it has no {JOB_FILE}).",
                         "Pass the output folder of the run to continue.")
    job = load_job(run_dir / JOB_FILE)
    job.output.dir = str(run_dir.resolve())
    return job


def prepare_run_dir(job: DistillJob, resume: bool, lock: RunLock) -> Path:
    """Take the folder's lock, then check (and make) the run folder."""
    run_dir = Path(job.output.dir)
    with writing("the run folder", run_dir):
        lock.acquire()
    if resume:
        if not (run_dir / JOB_FILE).is_file():
            raise InputError(f"{run_dir} is not a distillation run folder (it has no {JOB_FILE}).",
                             "Pass the output folder of the run to continue.")
        if (run_dir / "report.json").is_file():
            raise InputError(f"The distillation run in {run_dir} is already finished.", "Start a new run.")
        return run_dir
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        if not job.output.overwrite:
            raise InputError(f"The output folder {run_dir} already exists and is not empty.",
                             "Choose another output.dir, allow replacing it (output.overwrite = true, or "
                             "--overwrite), or continue that run with --resume.")
        with writing("over the old run", run_dir):
            shutil.rmtree(run_dir) if run_dir.is_dir() else run_dir.unlink()
    with writing("the run folder", run_dir):
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / JOB_FILE, job.to_toml())
    return run_dir


def run_distill(job: DistillJob, handle: TaskHandle | None = None, resume: bool = False, *, teacher=None,
                view_context: str = "", view_every: int = 5) -> Iterator[Any]:
    """Run a distillation job, yielding events (``distill.events`` and the fine-tuning job's own).

    Parameters
    ----------
    job
        The job; ``job.output.dir`` is the run folder.
    handle
        Progress, Pause and Stop. A Stop between steps writes a checkpoint first; the last event is
        then a StoppedEvent, and ``resume=True`` on the same folder goes on from it.
    resume
        Continue the run in ``job.output.dir`` (see ``resume_job``).
    teacher
        The teacher already loaded (a LoadedModel, float32, e.g. the app's model); None loads
        ``job.model.source``. It is only read, never changed.
    view_context
        When given, a ViewEvent compares teacher and student on this text as each student starts
        and every ``view_every`` steps.

    Raises
    ------
    InputError, PlaygroundError
        Bad settings (T <= 0, alpha outside 0-1, a student larger than its teacher, another
        tokenizer), a folder in the way, or training that diverged (the step is not applied).
    """
    handle = ensure_handle(handle)
    where: dict = {}
    try:
        yield from _run(job, handle, resume, where, teacher, (view_context, view_every))
    except Cancelled:
        trainer = where.get("trainer")
        yield trainer.stopped_event() if trainer is not None else StoppedEvent(0, "")
    except DivergedError as exc:
        from playground.core.finetune.safety import vet_divergence

        checked = vet_divergence(exc, where.get("sub"))
        _note_failure(where, checked)
        if checked is exc:
            raise
        raise checked from None
    except Exception as exc:
        _note_failure(where, exc)
        raise
    finally:
        if "lock" in where:
            where["lock"].release()


def _note_failure(where: dict, exc: Exception) -> None:
    run = where.get("run")
    if run is None or not run.job.is_file():
        return
    trainer = where.get("trainer")
    note = {"message": getattr(exc, "message", "") or str(exc) or type(exc).__name__,
            "hint": getattr(exc, "hint", "") or "", "step": trainer.history.step if trainer is not None else 0}
    try:
        atomic_write_text(run.failed_json, json.dumps(note, indent=1))
    except OSError:
        pass


def _run(job: DistillJob, handle: TaskHandle, resume: bool, where: dict, given, view) -> Iterator[Any]:
    from playground.core.finetune.job import make_accelerator
    from playground.core.finetune.prepare import prepare_data_events

    job.validate()
    acc = make_accelerator(job.model.device, job.model.precision)
    if acc.num_processes > 1:
        raise InputError("Distillation runs in one process.", "Run `playground distill` without accelerate launch.")
    where["lock"] = RunLock(job.output.dir)
    run = RunFolder(prepare_run_dir(job, resume, where["lock"]))
    where["run"] = run
    run.failed_json.unlink(missing_ok=True)
    parts = handle.ending_on_stop()  # loading and scoring have nothing to save: a Stop ends them
    teacher_loaded = yield from _load_teacher(job, parts, given)
    tok = teacher_loaded.tokenizer
    yield StageEvent("data", "Reading and tokenizing the data...")
    data = yield from prepare_data_events(job.data, tok, False, job.training.seed,
                                          max(PERPLEXITY_TEXTS, job.evaluation.test_examples), parts)
    yield DataEvent({k: v.to_dict() for k, v in data.stats.items()})
    teacher = teacher_loaded.model.to(acc.device).eval()
    if given is None:
        teacher.requires_grad_(False)  # ours alone; a given model is only read (under no_grad)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)
    cfg = job.finetune_config()
    rows = data.test_rows(job.evaluation.test_examples) if job.evaluation.test_examples else []
    measure_args = (data.test[:PERPLEXITY_TEXTS], rows, cfg, pad_id, parts)
    measures = _read_measures(run.path)
    if job.evaluation.before and "teacher" not in measures:
        row = yield from measure_model("teacher", f"{layer_count(teacher)} layers, as loaded", teacher_loaded,
                                       *measure_args)
        yield from _keep(measures, run.path, row)
    students = {}
    for kind in KINDS[:2 if job.distill.compare_hard else 1]:
        alpha = job.distill.alpha if kind == "soft" else 1.0
        where["sub"] = RunFolder(run.path / kind)
        out = student_dir(run.path, kind)
        if is_student(out):
            from transformers import AutoModelForCausalLM

            student = AutoModelForCausalLM.from_pretrained(str(out)).to(acc.device)
            yield StageEvent("resume", f"{kind}: the student saved in {out} is kept")
        else:
            student = yield from _train(job, kind, alpha, acc, teacher_loaded, data, pad_id, handle, where, resume,
                                        view)
        students[kind] = str(out)
        if kind not in measures:
            from playground.core.finetune.scoring import as_loaded

            loaded = as_loaded(teacher_loaded, student, f" (student, {kind})")
            row = yield from measure_model(kind, _settings_text(job, kind, student, alpha), loaded, *measure_args)
            yield from _keep(measures, run.path, row)
    ordered = [measures[k] for k in ("teacher", *KINDS) if k in measures]
    report = build_report(job, ordered, students, _curves(run.path))
    with writing("the report", run.path, "The students are saved."):
        write_report(run.path, report)
    yield DistillDoneEvent(str(run.path), students, report, ordered)


def _load_teacher(job: DistillJob, handle: TaskHandle, given=None):
    from playground.core.base.progress import report_step
    from playground.core.models.loading import load_model
    from playground.core.models.sources import ModelSource

    loaded = given
    if loaded is None:
        yield StageEvent("model", f"Loading the teacher {job.model.source}...")
        report_step(handle, "Loading the teacher", 0, None)
        loaded = load_model(ModelSource.parse(job.model.source), device="cpu", dtype="float32")
    if loaded.is_encoder_decoder or loaded.info.kind != "decoder-only":
        raise InputError("Distillation here makes students of next-token (decoder-only) models.",
                         "Load a decoder-only model such as the bundled one.")
    window = loaded.info.context_window
    if window and job.data.max_length > window:
        job.data.max_length = window
    handle.raise_if_cancelled()
    return loaded


def _settings_text(job: DistillJob, kind: str, student, alpha: float) -> str:
    d = job.distill
    soft = f"α = {alpha:g}, T = {d.temperature:g}, {d.direction} KL" if alpha < 1 else "α = 1 (hard labels only)"
    return (f"{layer_count(student)} layers; {soft}; {job.training.max_steps} steps, "
            f"learning rate {job.learning_rate:g}, batch {job.training.micro_batch_size}×"
            f"{job.training.gradient_accumulation_steps}")


def _keep(measures: dict, run_dir: Path, row: ModelRow):
    measures[row.kind] = row
    atomic_write_text(run_dir / MEASURES_FILE, json.dumps({k: r.to_dict() for k, r in measures.items()}, indent=1))
    yield MeasuredEvent(row)


def _read_measures(run_dir: Path) -> dict:
    try:
        raw = json.loads((run_dir / MEASURES_FILE).read_text(encoding="utf-8"))
        return {k: ModelRow.from_dict(v) for k, v in raw.items()}
    except (OSError, ValueError, TypeError):
        return {}


def _curves(run_dir: Path) -> dict:
    out = {}
    for kind in KINDS:
        try:
            out[kind] = json.loads((run_dir / kind / "history.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return out


def _make(job: DistillJob, teacher_loaded):
    """The student (a new model) and its tokenizer: cut from the teacher, or the job's model folder."""
    if not job.distill.student:
        student, kept = make_student(teacher_loaded.model, job.distill.student_layers)
        return student, teacher_loaded.tokenizer, kept
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder = job.distill.student
    student = AutoModelForCausalLM.from_pretrained(folder, dtype="float32")
    return student, AutoTokenizer.from_pretrained(folder), list(range(layer_count(student)))


def _view(kind, step, teacher_loaded, student, job, view):
    """A ViewEvent on the view's context (None without one, or when it cannot be computed)."""
    from playground.core.distill.events import ViewEvent
    from playground.core.distill.view import next_token_view

    context, _ = view
    if not context:
        return None
    was = student.training
    student.eval()
    try:
        return ViewEvent(kind, step, next_token_view(teacher_loaded.model, student, teacher_loaded.tokenizer,
                                                     context, job.distill.temperature))
    except InputError:
        return None
    finally:
        student.train(was)


def _train(job, kind, alpha, acc, teacher_loaded, data, pad_id, handle, where, resume, view=("", 5)):
    """Make, train and save one student (yields its events); returns the trained model."""
    import torch

    from playground.core.finetune.methods import load_trained_weights
    from playground.core.finetune.resources import PeakMeter
    from playground.core.finetune.safety import refuse_blown_up, saving, weight_scale

    sub = where["sub"]
    teacher, tok = teacher_loaded.model, teacher_loaded.tokenizer
    torch.manual_seed(job.training.seed)
    student, student_tok, kept = _make(job, teacher_loaded)
    check_pair(teacher, tok, student, student_tok)
    history, state = History(), None
    ckpt = sub.latest_checkpoint() if resume else None
    if ckpt is not None:
        saved, state = load_checkpoint_state(ckpt)
        history = History.from_dict(saved)
        load_trained_weights(student, ckpt / "model", "full")
    yield StudentEvent(kind, alpha, job.distill.temperature, kept, parameter_count(student),
                       parameter_count(teacher), history.step)
    first = _view(kind, history.step, teacher_loaded, student, job, view)
    if first is not None:
        yield first
    student.train()
    optimizer = torch.optim.AdamW(student.parameters(), lr=job.learning_rate, weight_decay=job.training.weight_decay)
    model, optimizer = acc.prepare(student, optimizer)
    start_scale = weight_scale(student)

    def save_model(folder: Path) -> None:
        refuse_nonfinite(student, str(folder))
        refuse_blown_up(student, str(sub.path), start_scale, job.learning_rate, "full")
        with saving(student, sub.path, sub.latest_checkpoint()):
            folder.mkdir(parents=True, exist_ok=True)
            student.save_pretrained(str(folder), safe_serialization=True)
            student_tok.save_pretrained(str(folder))

    sub.path.mkdir(parents=True, exist_ok=True)
    trainer = DistillTrainer(acc, model, optimizer, job.finetune_config(), data.train, data.validation, pad_id,
                             False, 0, sub.path, save_model, history, handle, state, PeakMeter(acc.device).start(),
                             teacher=teacher if alpha < 1 else None, settings=job.distill, alpha=alpha)
    where["trainer"] = trainer
    yield StageEvent("train", f"{kind}: training for {trainer.total_steps} steps")
    for ev in trainer.run():
        if not isinstance(ev, StepEvent):
            yield ev
            continue
        history.extra.setdefault("parts", []).append([ev.step, trainer.last_kl, trainer.last_ce])
        yield DistillStepEvent(kind, ev, trainer.last_kl, trainer.last_ce)
        if view[1] and (ev.step % view[1] == 0 or ev.step == trainer.total_steps):
            shown = _view(kind, ev.step, teacher_loaded, student, job, view)
            if shown is not None:
                yield shown
    with writing(f"the {kind} student", student_dir(sub.path.parent, kind)):
        atomic_save_dir(student_dir(sub.path.parent, kind), save_model)
    atomic_write_text(sub.path / "history.json", json.dumps(history.to_dict()))
    shutil.rmtree(sub.checkpoints, ignore_errors=True)
    where.pop("trainer", None)
    student.eval()
    return student
