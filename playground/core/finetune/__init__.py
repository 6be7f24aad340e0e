"""Fine-tuning: LoRA, full fine-tuning and prompt tuning, headless or under ``accelerate launch``.

Typical use::

    from playground.core.finetune import load_config, run_finetune

    for event in run_finetune(load_config("job.toml"), handle):
        ...  # StageEvent, DataEvent, MethodEvent, StepEvent, EvalEvent, CheckpointEvent,
             # RougeEvent, then DoneEvent (or StoppedEvent after a Stop)

Modules: config (the TOML job), dataset (rows from core.datasets, prompts from core.prompts,
tokens and labels), batching, methods (LoRA / full / prompt tuning), loss, loop (the optimizer
steps), checkpoint, layout (the run folder), scoring (ROUGE before/after through
core.evaluation), report, job (the whole run).
"""

from __future__ import annotations

from typing import Any, Callable

from playground.core.finetune.config import (
    METHODS,
    FinetuneConfig,
    dump_toml,
    load_config,
)
from playground.core.finetune.prepare import prepare_data
from playground.core.finetune.events import (
    CheckpointEvent,
    DataEvent,
    DoneEvent,
    EvalEvent,
    MethodEvent,
    RougeEvent,
    StageEvent,
    StepEvent,
    StoppedEvent,
)
from playground.core.finetune.job import resume_config, run_finetune
from playground.core.finetune.layout import RunFolder
from playground.core.finetune.methods import (
    LORA_TARGETS,
    count_parameters,
    detect_lora_targets,
)

__all__ = [
    "FinetuneConfig", "METHODS", "load_config", "dump_toml", "run_finetune", "resume_config", "finetune",
    "RunFolder", "prepare_data", "detect_lora_targets", "count_parameters", "LORA_TARGETS",
    "StageEvent", "DataEvent", "MethodEvent", "StepEvent", "EvalEvent", "CheckpointEvent", "RougeEvent",
    "StoppedEvent", "DoneEvent",
]


def finetune(cfg: FinetuneConfig, on_event: Callable[[Any], None] | None = None, handle=None,
             resume: bool = False):
    """Run a job to its end, calling ``on_event`` for each event; return the last (Done or Stopped)."""
    last = None
    for event in run_finetune(cfg, handle, resume):
        if on_event is not None:
            on_event(event)
        last = event
    return last
