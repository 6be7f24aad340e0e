"""Where an align run starts: the model the model bar shows.

The policy is a LoRA adapter on a training copy of the model. When the model bar shows a LoRA run
attached and switched on ("SmolLM2 + run-7"), that run's adapter is merged into the copy first
(``model.adapter`` in the job), so the policy starts from the fine-tuned model and its reference
(the align adapter switched off) is that fine-tuned model too. A fully fine-tuned run is its own
model folder (``model.source``). A soft prompt (prompt tuning) cannot be merged into the weights: the
run then starts from the base, and says so and why.

The run's own ``adapter/`` is self-contained: the started-from LoRA and the align LoRA concatenated
into one adapter on the base (peft's ``add_weighted_adapter(..., combination_type="cat")``, exact),
so attaching it later, or evaluating it, gives the aligned model without knowing where it started.
Its checkpoints hold the align LoRA alone; a resumed run merges ``model.adapter`` again first.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from playground.core.base.errors import InputError, PlaygroundError


@dataclass(frozen=True)
class StartingPoint:
    """What an align run started from the app's model bar trains."""

    source: str    # the job's model.source
    adapter: str   # the job's model.adapter: a LoRA folder merged in before the align LoRA ("" = none)
    name: str      # how the app names it: "SmolLM2-135M-Instruct" or "SmolLM2-135M-Instruct + run-7"
    note: str      # the sentence the Optimize page shows before Start


def source_of(loaded) -> str:
    """A loaded model as a job's ``model.source``: "bundled", or the folder it was read from."""
    src = loaded.source
    return "bundled" if src.kind == "bundled" else (loaded.info.folder or src.ref)


def start_name(adapter: str) -> str:
    """report.json's ``start``: "base", or "base + <run>" when a LoRA run was merged in first."""
    if not adapter:
        return "base"
    from playground.core.evaluation.run import run_name

    return f"base + {run_name(adapter)}"


def starting_point(session) -> StartingPoint:
    """Where a run started now from the app would start, given the model session (base, adapter, switch).

    Raises
    ------
    PlaygroundError
        No model is loaded yet.
    """
    base, current = session.base, session.require()
    if not session.adapter_on:
        off = session.adapter is not None
        why = (f" The attached {session.adapter.info.name} is switched off in the model bar; switch it on to "
               "align the fine-tuned model instead.") if off else ""
        return StartingPoint(source_of(base), "", base.info.name,
                             f"Starts from {base.info.name}, the model the model bar shows.{why}")
    extras, model = current.extras, current.model
    peft_type = str(extras.get("peft_type") or "").upper()
    if hasattr(model, "peft_config") and extras.get("adapter_dir") and peft_type in ("", "LORA"):
        if _is_lora(extras["adapter_dir"]):
            return StartingPoint(source_of(base), str(extras["adapter_dir"]), current.info.name,
                                 f"Starts from {current.info.name}, as the model bar shows: its LoRA is merged "
                                 "into the training copy, the align adapter goes on top, and the KL penalty "
                                 f"holds the policy near {current.info.name}.")
    if peft_type == "PROMPT_TUNING" or hasattr(model, "peft_config") or getattr(model, "soft_prompt", None) is not None:
        return StartingPoint(source_of(base), "", base.info.name,
                             f"Starts from the base model {base.info.name}, not {current.info.name}: its soft "
                             "prompt (prompt tuning) is an input, not a change to the weights, so it cannot be "
                             "merged into the policy. Attach a LoRA run to align a fine-tuned model.")
    if current.info.folder and base.info.folder and not _same(current.info.folder, base.info.folder):
        return StartingPoint(source_of(current), "", current.info.name,
                             f"Starts from {current.info.name}, as the model bar shows (its fully fine-tuned "
                             "weights are the training copy).")
    return StartingPoint(source_of(base), "", base.info.name,
                         f"Starts from the base model {base.info.name}, not {current.info.name}: its weights "
                         "are not in a folder an align run can load. Save the run, then attach it again.")


def _same(a: str, b: str) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _is_lora(folder: str | Path) -> bool:
    import json

    try:
        cfg = json.loads((Path(folder) / "adapter_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return str(cfg.get("peft_type", "")).upper() == "LORA"


def merge_start_adapter(model, folder: str | Path, model_name: str = "the model"):
    """``model`` with the LoRA adapter in ``folder`` merged into its weights (a plain model again).

    Raises
    ------
    InputError
        The folder is not a LoRA adapter (a soft prompt cannot be merged into weights).
    PlaygroundError
        The adapter does not fit ``model``.
    """
    import warnings

    from peft import PeftModel

    from playground.core.models.adapter_check import check_adapter_fit, check_adapter_folder

    folder = Path(folder)
    cfg = check_adapter_folder(folder)
    if str(cfg.get("peft_type", "")).upper() != "LORA":
        raise InputError(f"model.adapter {folder} is a {cfg.get('peft_type', 'non-LoRA')} adapter: only a LoRA "
                         "adapter can be merged into the weights an align run starts from.",
                         "Leave model.adapter empty to start from the base model, or give a LoRA run's adapter/.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peft_model = PeftModel.from_pretrained(model, str(folder), is_trainable=False)
    except Exception as exc:  # peft raises ValueError, RuntimeError (shapes), KeyError...
        raise PlaygroundError(f"The adapter {folder.name} (model.adapter) does not fit {model_name}: "
                              f"{str(exc).splitlines()[0] if str(exc) else type(exc).__name__}",
                              "Give an adapter trained on this model, or leave model.adapter empty.") from None
    check_adapter_fit(peft_model, folder, cfg, model_name)
    return peft_model.merge_and_unload()


def save_started_adapter(policy, start: str | Path, folder: str | Path) -> None:
    """Save ``policy``'s align LoRA and the LoRA it started from (``start``) as one adapter on the base.

    The two are concatenated (rank r_start + r_align, each one's scaling folded into its A), which is
    exactly their sum. The policy is left as it was (the two helper adapters are deleted again).
    """
    active = policy.active_adapter
    policy.load_adapter(str(start), adapter_name="_start")
    try:
        # the align adapter first: the combined config is a copy of its own (no dropout, no rsLoRA)
        policy.add_weighted_adapter([active, "_start"], [1.0, 1.0], "_started", combination_type="cat")
        with tempfile.TemporaryDirectory(dir=Path(folder).parent) as tmp:
            policy.save_pretrained(tmp, selected_adapters=["_started"])
            saved = Path(tmp) / "_started"
            Path(folder).mkdir(parents=True, exist_ok=True)
            for f in saved.iterdir():
                shutil.move(str(f), Path(folder) / f.name)
    finally:
        for name in ("_started", "_start"):
            if name in policy.peft_config:
                policy.delete_adapter(name)
        policy.set_adapter(active)
