"""The app settings' schema: what each stored key holds, as dataclass sections, read leniently.

``Settings`` (settings.py) stores plain JSON; this module says what a good value of each known
key looks like, as the dataclass the app reads it into (``Settings.section(Type)``). A value of the wrong type (``"generation": "fast"``, ``"theme": ["dark"]``) or a
bad field inside a section falls back to its default: it is left out of what the app reads, named
once in ``Settings.load_problem``, and never written back. Unknown keys pass through untouched
(a newer tab's settings survive an older reader). Migrations bring an older file up to
``SETTINGS_VERSION`` before it is checked (napari's ``settings/_migrations.py`` pattern).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from playground.core.decoding.settings import DEFAULT_SAMPLING, GenerationSettings, SamplingSettings
from playground.core.evaluation.evaluate_settings import EvaluateSettings
from playground.core.lifecycle.options import PrecisionOptions, ScalingOptions
from playground.core.prompting.prompt_settings import PromptSettings

SETTINGS_VERSION = 2


# sections (dict-valued keys) ---------------------------------------------------------------------

@dataclass
class WindowSection:
    """``window``: the main window's look and place, and what the person has seen."""

    theme: str = "system"
    high_contrast: bool = False
    zoom: float = 1.0
    geometry: str | None = field(default=None, metadata={"types": (str, type(None))})
    current_tab: int = 0
    recent_folders: list = field(default_factory=list, metadata={"items": str})
    welcome_seen: bool = False


@dataclass
class ModelSection:
    """``model``: the model loaded last, loaded again at start-up."""

    source: dict = field(default_factory=dict)
    device: str = "auto"
    dtype: str = "auto"


@dataclass
class InsideSection:
    """``inside``: the attention memory limit and what to do past it."""

    limit_mb: int = field(default=512, metadata={
        "label": "Attention memory limit", "range": (1, 1_000_000, 128), "suffix": " MiB",
        "help": "The most memory the attention weights may take. They need layers × heads × tokens² × 4 bytes: "
                "doubling the text makes them four times bigger."})
    over_limit: str = field(default="downsample", metadata={
        "label": "Past the limit", "choices": (("Refuse", "refuse"), ("Downsample", "downsample")),
        "help": "Past the limit: refuse, or pool groups of neighbouring tokens into one row and column so the map "
                "fits (each row still sums to 1)."})


@dataclass
class AdapterSection:
    """``adapter``: the trained run attached in the model bar, attached again at start-up.

    Kept only while the base model it was trained on is the one loaded (``base``: that model's source).
    """

    dir: str = ""                  # the adapter (or fully fine-tuned model) folder; "" = none attached
    name: str = ""                 # the run's name, as the model bar shows it
    run_dir: str = ""
    method: str = "lora"           # METHOD_FACTS' name: how to load what ``dir`` holds
    on: bool = True                # the Adapter switch
    base: dict = field(default_factory=dict)


@dataclass
class FinetuneSection:
    """``finetune``: the wizard's draft job (checked by the wizard itself) and the run training now."""

    job: dict = field(default_factory=dict)
    active_run: str | None = field(default=None, metadata={"types": (str, type(None))})


def _sampling_tab_default() -> SamplingSettings:
    # The Sampling tab is the tab about sampling: it alone starts with sampling on (it says so
    # beside its switch). Everything else is the one set of defaults in core.decoding.settings.
    return replace(DEFAULT_SAMPLING, do_sample=True)


@dataclass
class AppSettings:
    """Every known key of the settings file, its section type and its default.

    ``generation`` and ``sampling`` are the very dataclasses the forms and the CLI are made from;
    ``evaluate`` and the ``lifecycle_*`` sections are the option types of those tabs' core functions.
    """

    window: WindowSection = field(default_factory=WindowSection)
    model: ModelSection = field(default_factory=ModelSection)
    generation: GenerationSettings = field(default_factory=GenerationSettings)
    sampling: SamplingSettings = field(default_factory=_sampling_tab_default)
    inside: InsideSection = field(default_factory=InsideSection)
    evaluate: EvaluateSettings = field(default_factory=EvaluateSettings)
    adapter: AdapterSection = field(default_factory=AdapterSection)
    finetune: FinetuneSection = field(default_factory=FinetuneSection)
    prompt: PromptSettings = field(default_factory=PromptSettings)
    lifecycle_precision: PrecisionOptions = field(default_factory=PrecisionOptions)
    lifecycle_scaling: ScalingOptions = field(default_factory=ScalingOptions)


# checking ---------------------------------------------------------------------------------------------

def field_default(f: dataclasses.Field) -> Any:
    """A dataclass field's default value (made fresh from its factory when it has one)."""
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def _types_of(f: dataclasses.Field) -> tuple[type, ...]:
    if "types" in f.metadata:
        return f.metadata["types"]
    return (type(field_default(f)),)


def _fits(value: Any, types: tuple[type, ...]) -> bool:
    for t in types:
        if t is bool:
            if isinstance(value, bool):
                return True
        elif t is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return True
        elif t is float:
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                return True
        elif isinstance(value, t):
            return True
    return False


def _describe(types: tuple[type, ...]) -> str:
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "a text", list: "a list",
             dict: "a section", type(None): "empty"}
    return " or ".join(names.get(t, t.__name__) for t in types)


def _check(default: Any, value: dict, where: str, problems: list[str]) -> dict:
    """``value`` with every field that does not fit ``default``'s dataclass left out (named in
    ``problems``), nested sections checked the same way; unknown keys pass through."""
    kept = dict(value)
    for f in dataclasses.fields(default):
        if f.name not in value:
            continue
        item, name = value[f.name], f"{where}.{f.name}" if where else f.name
        inner = getattr(default, f.name)
        if dataclasses.is_dataclass(inner):
            if isinstance(item, dict):
                kept[f.name] = _check(inner, item, name, problems)
            else:
                problems.append(f"{name} is not a section")
                del kept[f.name]
            continue
        ok = _fits(item, _types_of(f))
        if ok and "items" in f.metadata:
            ok = all(isinstance(x, f.metadata["items"]) for x in item)
        if not ok:
            problems.append(f"{name} should be {_describe(_types_of(f))}")
            del kept[f.name]
    return kept


def check_section(key: str, value: dict) -> tuple[dict, list[str]]:
    """One section's value as ``check_values`` would keep it, and what fell out."""
    problems: list[str] = []
    return _check(section_default(key), value, key, problems), problems


def check_values(values: dict) -> tuple[dict, list[str]]:
    """The values the app may read, and one line per value that fell back to its default."""
    problems: list[str] = []
    return _check(AppSettings(), values, "", problems), problems


# typed sections -----------------------------------------------------------------------------------------

def section_key(kind: type) -> str:
    """The settings key whose section is a ``kind`` (``GenerationSettings`` -> "generation").

    Raises
    ------
    KeyError
        When no key, or more than one, holds that type.
    """
    keys = [f.name for f in dataclasses.fields(AppSettings) if type(field_default(f)) is kind]
    if len(keys) != 1:
        raise KeyError(f"{kind.__name__} is the section of {len(keys)} settings keys, not one")
    return keys[0]


def section_default(key: str) -> Any:
    """The default value of the section stored under ``key``."""
    for f in dataclasses.fields(AppSettings):
        if f.name == key:
            return field_default(f)
    raise KeyError(key)


def build(default: Any, data: dict | None) -> Any:
    """``default`` with the fields ``data`` holds (already checked) put in, nested sections too."""
    import copy

    changes = {}
    for f in dataclasses.fields(default):
        if not isinstance(data, dict) or f.name not in data:
            continue
        inner = getattr(default, f.name)
        if dataclasses.is_dataclass(inner):
            changes[f.name] = build(inner, data[f.name])
        else:
            changes[f.name] = copy.deepcopy(data[f.name])
    return dataclasses.replace(default, **changes)


# migrations ----------------------------------------------------------------------------------------

def _from_0(raw: dict) -> dict:
    """Version 0 (no version number): the values were stored at the top level."""
    values = raw.get("values") if isinstance(raw.get("values"), dict) else {k: v for k, v in raw.items()
                                                                            if k != "version"}
    return {"version": 1, "values": values}


_WINDOW_KEYS = {"theme": "theme", "high_contrast": "high_contrast", "zoom": "zoom", "window_geometry": "geometry",
                "current_tab": "current_tab", "recent_folders": "recent_folders", "welcome_seen": "welcome_seen"}
_SAMPLING_KEYS = ("do_sample", "temperature", "top_k", "top_p", "seed")


def _from_1(raw: dict) -> dict:
    """Version 1: the window's values at the top level, the Generate tab's sampling flat beside
    ``max_new_tokens``, the fine-tuning draft and marker as two top-level keys. Version 2 puts
    each in its section (``window``, ``generation.sampling``, ``finetune``)."""
    values = dict(raw.get("values") or {})
    window = {new: values.pop(old) for old, new in _WINDOW_KEYS.items() if old in values}
    if window:
        values["window"] = window
    generation = values.get("generation")
    if isinstance(generation, dict) and "sampling" not in generation:
        generation = dict(generation)
        sampling = {k: generation.pop(k) for k in _SAMPLING_KEYS if k in generation}
        if sampling:
            generation["sampling"] = sampling
        values["generation"] = generation
    finetune = {new: values.pop(old) for old, new in (("finetune_job", "job"), ("finetune_active_run", "active_run"))
                if old in values}
    if finetune:
        values["finetune"] = finetune
    return {"version": 2, "values": values}


#: version -> the function that turns a file of that version into the next version
MIGRATIONS: dict[int, Callable[[dict], dict]] = {0: _from_0, 1: _from_1}


def migrate(raw: dict) -> dict:
    """``raw`` brought up to SETTINGS_VERSION, one migration at a time.

    Raises
    ------
    ValueError
        For a file from a newer version of the app (it is kept aside, not guessed at).
    """
    version = raw.get("version", 0)
    if not isinstance(version, int) or isinstance(version, bool) or version > SETTINGS_VERSION:
        raise ValueError(f"unknown settings format (version {version!r})")
    if version >= 1 and not isinstance(raw.get("values", {}), dict):
        raise ValueError("unknown settings format")
    while version < SETTINGS_VERSION:
        raw = MIGRATIONS[version](raw)
        version = raw["version"]
    return raw
