"""One fine-tuning job from start to report: ``run_finetune`` yields events the whole way.

Works the same in the GUI (a task runner consumes the generator off the GUI thread), in the
terminal, and under ``accelerate launch`` on several processes (every process runs the job;
only the main one writes files and generates).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator

from playground.core.errors import Cancelled, InputError
from playground.core.finetune.checkpoint import atomic_save_dir, latest_checkpoint, load_checkpoint_state
from playground.core.finetune.config import FinetuneConfig, load_config
from playground.core.finetune.dataset import prepare_data
from playground.core.finetune.evaluate import generate_summaries, rouge_scores
from playground.core.finetune.events import DataEvent, DoneEvent, MethodEvent, RougeEvent, StageEvent, StoppedEvent
from playground.core.finetune.loop import History, Trainer
from playground.core.finetune.methods import apply_method, load_trained_weights, num_virtual_tokens, save_trained
from playground.core.finetune.report import build_report, write_report
from playground.core.finetune.resources import peak_memory_bytes
from playground.core.handle import TaskHandle, ensure_handle
from playground.core.paths import atomic_write_text

JOB_FILE = "job.toml"


def make_accelerator(device: str, precision: str):
    """An Accelerator for this job: CPU, CUDA (bf16/fp16) or the processes of ``accelerate launch``."""
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState, GradientState

    from playground.core.device import pick_device

    launched = int(os.environ.get("WORLD_SIZE", "1")) > 1
    env_cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes")
    base = "cpu" if env_cpu else pick_device(device).split(":")[0]
    if precision == "auto":
        import torch

        precision = ("bf16" if torch.cuda.is_bf16_supported() else "fp16") if base == "cuda" else "no"
    if precision == "fp16" and base == "cpu":
        raise InputError("fp16 training needs a GPU.", "Use precision = \"no\" or \"bf16\" on the CPU.")
    if not launched:
        # One process: each job sets up its own state (a GUI runs several jobs one after another).
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
    return Accelerator(cpu=base == "cpu", mixed_precision=precision)


def prepare_run_dir(cfg: FinetuneConfig, resume: bool, is_main: bool) -> Path:
    run_dir = Path(cfg.output.dir)
    if resume:
        if not (run_dir / JOB_FILE).is_file():
            raise InputError(f"{run_dir} is not a fine-tuning run folder (it has no {JOB_FILE}).",
                             "Pass the output folder of the run to continue.")
        return run_dir
    if run_dir.exists() and (not run_dir.is_dir() or any(run_dir.iterdir())):
        if not cfg.output.overwrite:
            raise InputError(f"The output folder {run_dir} already exists and is not empty.",
                             "Choose another output.dir, allow replacing it (output.overwrite = true, or "
                             "--overwrite), or continue that run with --resume.")
        if is_main:
            if run_dir.is_dir():
                shutil.rmtree(run_dir)
            else:
                run_dir.unlink()
    if is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_text(run_dir / JOB_FILE, cfg.to_toml())
    return run_dir


def resume_config(run_dir: str | Path) -> FinetuneConfig:
    """The job of an existing run folder, pointed at that folder (to continue it)."""
    cfg = load_config(Path(run_dir) / JOB_FILE)
    cfg.output.dir = str(Path(run_dir).resolve())
    return cfg


def _rouge_phase(model, tok, test, cfg, device, handle, when: str, predictions: list) -> Iterator[Any]:
    n = len(test)
    for i, text in enumerate(generate_summaries(model, tok, test, cfg.evaluation.max_new_tokens, device,
                                                bool(getattr(model.config, "is_encoder_decoder", False)),
                                                handle.cancelled), start=1):
        predictions.append(text)
        yield StageEvent(f"rouge_{when}", f"Summarizing test dialogue {i}/{n} ({when} fine-tuning)", i / n)
    if handle.cancelled():
        raise Cancelled()
    scores = rouge_scores(predictions, [e.summary for e in test[:len(predictions)]])
    samples = [{"reference": e.summary, "prediction": p} for e, p in zip(test[:3], predictions)]
    yield RougeEvent(when, scores, len(predictions), samples)


def run_finetune(cfg: FinetuneConfig, handle: TaskHandle | None = None, resume: bool = False) -> Iterator[Any]:
    """Run a fine-tuning job, yielding events (see playground.core.finetune.events).

    Parameters
    ----------
    cfg
        The job. ``cfg.output.dir`` is the run folder.
    handle
        Progress and Stop. A Stop (or closing the generator) between steps writes a checkpoint
        first (``training.save_on_stop``); the last event is then a StoppedEvent.
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


def _run(cfg: FinetuneConfig, handle: TaskHandle, resume: bool, where: dict) -> Iterator[Any]:
    import torch

    from playground.core.model_sources import ModelSource
    from playground.core.models import load_model

    cfg.validate()
    acc = make_accelerator(cfg.model.device, cfg.model.precision)
    main = acc.is_main_process
    run_dir = prepare_run_dir(cfg, resume, main)
    acc.wait_for_everyone()
    ckpt = latest_checkpoint(run_dir) if resume else None
    if resume and (run_dir / "report.json").is_file() and ckpt is None:
        raise InputError(f"The run in {run_dir} is already finished.", "Start a new run to train more.")

    yield StageEvent("model", f"Loading {cfg.model.source} for training...")
    with acc.main_process_first():
        loaded = load_model(ModelSource.parse(cfg.model.source), device="cpu", dtype="float32")
    tok = loaded.tokenizer
    enc_dec = loaded.is_encoder_decoder
    handle.raise_if_cancelled()

    yield StageEvent("data", "Reading and tokenizing the data...")
    data = prepare_data(cfg.data, tok, enc_dec, cfg.training.seed, cfg.evaluation.test_examples)
    test = data.test[: cfg.evaluation.test_examples]
    yield DataEvent({k: v.to_dict() for k, v in data.stats.items()})

    torch.manual_seed(cfg.training.seed)  # the same adapter initialisation on every process and resume
    model, info = apply_method(loaded.model, cfg, loaded.info.folder, enc_dec)
    yield MethodEvent(info.method, info.trainable, info.total, info.target_modules, info.details)

    history = History()
    training_state = None
    if ckpt is not None:
        state, training_state = load_checkpoint_state(ckpt)
        load_trained_weights(model, ckpt / "model", cfg.method.name)
        history = History.from_dict(state)
        yield StageEvent("resume", f"Resuming at step {history.step} from {ckpt.name}")
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.training.weight_decay)
    model, optimizer = acc.prepare(model, optimizer)
    bare = acc.unwrap_model(model)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else (tok.eos_token_id or 0)

    predictions_before: list[str] = []
    if test and cfg.evaluation.before and "rouge_before" not in history.extra:
        if main:
            base = bare.get_base_model() if hasattr(bare, "get_base_model") else bare
            for ev in _rouge_phase(base, tok, test, cfg, acc.device, handle, "before", predictions_before):
                if isinstance(ev, RougeEvent):
                    history.extra["rouge_before"] = ev.scores
                    history.extra["predictions_before"] = predictions_before
                yield ev
        acc.wait_for_everyone()

    def save_model(folder: Path) -> None:
        save_trained(acc.unwrap_model(model), tok, folder, cfg.method.name)

    trainer = Trainer(acc, model, optimizer, cfg, data.train, data.validation, pad_id, enc_dec,
                      num_virtual_tokens(bare), run_dir, save_model, history, handle, training_state)
    where["trainer"] = trainer
    yield StageEvent("train", f"Training for {trainer.total_steps} steps "
                              f"({trainer.plan.steps_per_epoch} per epoch, {acc.num_processes} process(es))")
    yield from trainer.run()

    artifact = run_dir / ("model" if cfg.method.name == "full" else "adapter")
    if main:
        yield StageEvent("save", f"Saving the trained weights to {artifact}")
        atomic_save_dir(artifact, save_model)
    acc.wait_for_everyone()

    rouge_after, predictions_after = None, []
    if test and main:
        for ev in _rouge_phase(bare, tok, test, cfg, acc.device, handle, "after", predictions_after):
            if isinstance(ev, RougeEvent):
                rouge_after = ev.scores
            yield ev
    report = {}
    if main:
        before = history.extra.get("predictions_before", [])
        samples = [{"reference": e.summary, "before": before[i] if i < len(before) else "",
                    "after": predictions_after[i] if i < len(predictions_after) else ""}
                   for i, e in enumerate(test[:5])]
        report = build_report(cfg, info, {k: v.to_dict() for k, v in data.stats.items()}, history,
                              status="finished", artifact=str(artifact), peak_memory=peak_memory_bytes(acc.device),
                              processes=acc.num_processes, device=acc.device.type, precision=acc.mixed_precision,
                              rouge_before=history.extra.get("rouge_before"), rouge_after=rouge_after,
                              samples=samples)
        write_report(run_dir, report)
        shutil.rmtree(run_dir / "checkpoints", ignore_errors=True)  # the run is complete
    acc.wait_for_everyone()
    yield DoneEvent(str(run_dir), str(artifact), report, model=bare, tokenizer=tok)
