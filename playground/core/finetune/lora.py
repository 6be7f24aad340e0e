"""One place that says how a LoRA adapter is configured: fine-tuning, the align policy, a full
reward model on a causal backbone, and the notebook templates that replay them.

``lora_config`` gives peft's ``LoraConfig``; ``lora_config_code`` writes the same call as source
text for a notebook, so a template never hard-codes a rank of its own.
"""

from __future__ import annotations

import json

#: The rank everything uses unless told otherwise (the fine-tune job's and the align job's default).
DEFAULT_RANK = 8


def lora_kwargs(rank: int = DEFAULT_RANK, alpha: int | None = None, dropout: float = 0.0,
                target_modules: list | str | None = None, task_type: str | None = None) -> dict:
    """peft ``LoraConfig`` keyword arguments.

    Parameters
    ----------
    rank
        The size of the two low-rank matrices.
    alpha
        The update's scale (alpha / rank multiplies it); None gives 2 x rank, the align jobs' choice.
    dropout
        Dropout on the LoRA input while training (0: scores and steps repeat exactly).
    target_modules
        The layers to adapt (a list, or peft's "all-linear"); None leaves peft's choice.
    task_type
        "CAUSAL_LM" or "SEQ_2_SEQ_LM" for a task-specific peft model; None for a plain PeftModel.
    """
    kw = {"r": int(rank), "lora_alpha": int(2 * rank if alpha is None else alpha), "lora_dropout": float(dropout)}
    if target_modules is not None:
        kw["target_modules"] = target_modules if isinstance(target_modules, str) else list(target_modules)
    if task_type is not None:
        kw["task_type"] = task_type
    return kw


def lora_config(rank: int = DEFAULT_RANK, alpha: int | None = None, dropout: float = 0.0,
                target_modules: list | str | None = None, task_type: str | None = None):
    """peft's ``LoraConfig`` (see ``lora_kwargs``). The layers of a model are those
    ``methods.detect_lora_targets(model)`` picks for its architecture."""
    from peft import LoraConfig

    return LoraConfig(**lora_kwargs(rank, alpha, dropout, target_modules, task_type))


def lora_config_code(rank: int = DEFAULT_RANK, alpha: int | None = None, dropout: float = 0.0,
                     target_modules: list | str | None = None, task_type: str | None = None) -> str:
    """The ``LoraConfig(...)`` call with these settings, as Python source for a notebook."""
    return "LoraConfig(" + ", ".join(f"{k}={json.dumps(v)}" for k, v in
                                     lora_kwargs(rank, alpha, dropout, target_modules, task_type).items()) + ")"
