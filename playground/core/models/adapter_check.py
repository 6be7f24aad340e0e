"""Does a saved peft adapter belong to the model it is put on?

peft applies an adapter whose layer sizes happen to fit even when it was trained on another
model: keys it does not find are left at their fresh (no-effect) values with only a warning, so a
half-applied adapter would be scored as valid. ``check_adapter_folder`` runs before loading
(weights present, config readable), ``check_adapter_fit`` after: every saved key must land on a
layer of the model and every adapted layer must get saved weights; a base model of another name
is reported as a warning to show beside the result.
"""

from __future__ import annotations

import json
from pathlib import Path

from playground.core.base.errors import InputError, PlaygroundError

WEIGHT_FILES = ("adapter_model.safetensors", "adapter_model.bin")


def check_adapter_folder(folder: str | Path) -> dict:
    """The adapter's config, after checking the folder holds a config and its weights."""
    folder = Path(folder)
    cfg_path = folder / "adapter_config.json"
    if not folder.is_dir() or not cfg_path.exists():
        raise InputError(f"{folder} is not an adapter folder (it has no adapter_config.json).",
                         "Choose the folder the Fine-tune tab saved the adapter in.")
    try:
        cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"adapter_config.json in {folder.name} cannot be read ({exc}).",
                         "Save the adapter again from its run, or choose another folder.") from None
    if not isinstance(cfg, dict):
        raise InputError(f"adapter_config.json in {folder.name} is not a settings object.",
                         "Save the adapter again from its run, or choose another folder.")
    if not any((folder / name).is_file() for name in WEIGHT_FILES):
        raise InputError(f"The adapter folder {folder.name} has adapter_config.json but no weights "
                         f"({WEIGHT_FILES[0]}).",
                         "The save did not finish or the file was moved: choose a complete adapter folder, "
                         "or resume its run to save it again.")
    return cfg


def _saved_keys(folder: Path) -> set[str] | None:
    path = folder / WEIGHT_FILES[0]
    if not path.is_file():
        return None  # a pickle .bin: peft's own loading decides
    from safetensors import safe_open

    with safe_open(str(path), framework="pt") as f:
        return set(f.keys())


def key_mismatch(peft_model, folder: str | Path) -> tuple[list[str], list[str]]:
    """(missing, unexpected): adapted layers with no saved weights, saved weights with no layer."""
    from peft import get_peft_model_state_dict

    saved = _saved_keys(Path(folder))
    if saved is None:
        return [], []
    expected = set(get_peft_model_state_dict(peft_model).keys())
    return sorted(expected - saved), sorted(saved - expected)


def one_sentence(keys: list[str], what: str, shown: int = 3) -> str:
    """'12 saved weights have no layer in this model (e.g. a, b, c)': a count and a few examples."""
    more = f" and {len(keys) - shown} more" if len(keys) > shown else ""
    return f"{len(keys)} {what} (e.g. {', '.join(keys[:shown])}{more})"


def check_adapter_fit(peft_model, folder: str | Path, cfg: dict, model_name: str, model_folder: str = "") -> str:
    """Refuse a half-applied adapter; return a warning ('' when none) for a differently named base.

    Raises
    ------
    PlaygroundError
        Saved weights with no matching layer, or adapted layers with no saved weights.
    """
    folder = Path(folder)
    trained_on = str(cfg.get("base_model_name_or_path") or "")
    missing, unexpected = key_mismatch(peft_model, folder)
    if missing or unexpected:
        parts = []
        if unexpected:
            parts.append(one_sentence(unexpected, "saved weights have no matching layer in this model"))
        if missing:
            parts.append(one_sentence(missing, "adapted layers of this model have no saved weights"))
        raise PlaygroundError(
            f"The adapter {folder.name} does not belong to {model_name}: " + "; ".join(parts) + ".",
            f"It was trained on {trained_on or 'another model'}; load that model first.")
    if trained_on and not _same_model(trained_on, model_name, model_folder):
        return (f"The adapter {folder.name} was trained on {trained_on}, not on {model_name}: its layers "
                "fit, but check that it belongs to this model before trusting its scores.")
    return ""


def _same_model(trained_on: str, model_name: str, model_folder: str) -> bool:
    names = {Path(trained_on).name.lower(), trained_on.lower()}
    mine = {model_name.lower(), Path(model_folder).name.lower() if model_folder else "",
            str(Path(model_folder).resolve()).lower() if model_folder else ""}
    return bool(names & mine) or any(n and n in m for n in names for m in mine if m)
