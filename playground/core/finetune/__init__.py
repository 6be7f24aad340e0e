"""Fine-tuning: LoRA, full fine-tuning and prompt tuning, headless or under ``accelerate launch``.

Typical use::

    from playground.core.finetune import load_config, run_finetune

    for event in run_finetune(load_config("job.toml"), handle):
        ...  # StageEvent, DataEvent, MethodEvent, StepEvent, EvalEvent, CheckpointEvent,
             # RougeEvent, then DoneEvent (or StoppedEvent after a Stop)

Modules: config (the TOML job), records (reading files), dataset (tokens and labels), batching,
methods (LoRA / full / prompt tuning), loop (the optimizer steps), checkpoint, evaluate (loss,
ROUGE), report, job (the whole run).
"""

from __future__ import annotations

from typing import Any, Callable

from playground.core.finetune.config import FinetuneConfig, dump_toml, load_config
from playground.core.finetune.events import (CheckpointEvent, DataEvent, DoneEvent, EvalEvent, MethodEvent,
                                             RougeEvent, StageEvent, StepEvent, StoppedEvent)
from playground.core.finetune.job import resume_config, run_finetune

__all__ = [
    "FinetuneConfig", "load_config", "dump_toml", "run_finetune", "resume_config", "finetune",
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
