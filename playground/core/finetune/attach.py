"""A trained run's weights made into the model every tab can use, from its folder on disk.

The Fine-tune Result page loads a run from its list with this, and the app re-attaches the adapter
a session had attached when it starts again (``AppContext.restore_adapter``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle
from playground.core.finetune.methods import METHOD_FACTS


def load_attachable(base, folder: str | Path, method: str = "lora", handle: TaskHandle | None = None):
    """The base model with the weights a run saved in ``folder``, as a LoadedModel the tabs can run.

    LoRA: the adapter on a copy of the base (the base stays untouched, so the Adapter switch can go
    back to it). Prompt tuning: the base reading the saved soft prompt. Full fine-tuning: the saved
    model, loaded whole on the base's device and dtype.

    Raises
    ------
    InputError
        The folder is gone or holds no adapter / model.
    PlaygroundError
        The weights do not fit ``base`` (another model's adapter).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"The trained weights are not in {folder} any more.",
                         "The run folder was moved or deleted; train again or pick another run.")
    facts = METHOD_FACTS.get(method, METHOD_FACTS["lora"])
    if facts.trains_all:
        from playground.core.models.loading import load_model
        from playground.core.models.sources import ModelSource

        return load_model(ModelSource("local", str(folder)), device=base.info.device, dtype=base.info.dtype,
                          handle=handle)
    from playground.core.evaluation.run import load_adapter_copy

    adapted = load_adapter_copy(base, folder, handle)
    from playground.core.models.sharing import share_frozen_weights

    share_frozen_weights(adapted.model, base.model)  # the copy costs its adapter, not a second model (issue 35)
    if facts.soft_prompt:  # keep only the soft prompt; the copy goes
        from playground.core.models.soft_prompt import with_soft_prompt

        return with_soft_prompt(base, adapted.model)
    return adapted


def named_for_run(base, trained, artifact: str | Path, run_dir: str | Path, method: str):
    """``trained`` labelled as the run it came from: 'SmolLM2 + <run>', with where its weights lie
    (``extras``: adapter_dir, adapter_name, run_dir, method), which the session remembers."""
    run_dir = Path(run_dir)
    extras = dict(trained.extras) | {"adapter_dir": str(artifact), "adapter_name": run_dir.name,
                                     "run_dir": str(run_dir), "method": method}
    info = replace(trained.info, name=f"{base.info.name} + {run_dir.name}")
    return type(trained)(model=trained.model, tokenizer=trained.tokenizer, info=info, source=trained.source,
                         extras=extras)
