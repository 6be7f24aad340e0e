"""The app settings' schema: what each stored key holds, as dataclass sections, read leniently.

``Settings`` (settings.py) stores plain JSON; this module says what a good value of each known
key looks like. A value of the wrong type (``"generation": "fast"``, ``"theme": ["dark"]``) or a
bad field inside a section falls back to its default: it is left out of what the app reads, named
once in ``Settings.load_problem``, and never written back. Unknown keys pass through untouched
(a newer tab's settings survive an older reader). Migrations bring an older file up to
``SETTINGS_VERSION`` before it is checked (napari's ``settings/_migrations.py`` pattern).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

SETTINGS_VERSION = 1


# sections (dict-valued keys) ---------------------------------------------------------------------

@dataclass
class ModelSection:
    """``model``: the model loaded last, loaded again at start-up."""

    source: dict = field(default_factory=dict)
    device: str = "auto"
    dtype: str = "auto"


@dataclass
class GenerationSection:
    """``generation``: the Generate tab's last settings (GenerationSettings.to_dict's layout)."""

    max_new_tokens: int = 64
    do_sample: bool = False
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = field(default=0, metadata={"types": (int, type(None))})
    top_n: int = 20
    stop_at_eos: bool = True


@dataclass
class SamplingSection:
    """``sampling``: the Sampling tab's sliders (SamplingSettings' fields)."""

    do_sample: bool = True
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0
    seed: int | None = field(default=0, metadata={"types": (int, type(None))})


@dataclass
class InsideSection:
    """``inside``: the attention memory limit and what to do past it."""

    limit_mb: int = 512
    over_limit: str = "downsample"


@dataclass
class EvaluateSection:
    """``evaluate``: the Evaluate tab's last run settings and its systems (the adapter's folder too)."""

    data: str = "test"             # a bundled split; a file of one's own is not remembered
    count: int = 10
    max_new_tokens: int = 60
    tokenizer: str = "default"
    use_stemmer: bool = True
    template: str = ""             # "" = the summarization prompt
    use_chat_template: bool = False
    systems: list = field(default_factory=list, metadata={"items": dict})  # {kind, enabled, shots, path}


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
class AppSettings:
    """Every known key of the settings file and its default."""

    theme: str = "system"
    high_contrast: bool = False
    zoom: float = 1.0
    window_geometry: str | None = field(default=None, metadata={"types": (str, type(None))})
    current_tab: int = 0
    recent_folders: list = field(default_factory=list, metadata={"items": str})
    welcome_seen: bool = False
    model: ModelSection = field(default_factory=ModelSection)
    generation: GenerationSection = field(default_factory=GenerationSection)
    sampling: SamplingSection = field(default_factory=SamplingSection)
    inside: InsideSection = field(default_factory=InsideSection)
    evaluate: EvaluateSection = field(default_factory=EvaluateSection)
    adapter: AdapterSection = field(default_factory=AdapterSection)
    finetune_job: dict = field(default_factory=dict)  # the wizard's draft, checked by the wizard itself
    finetune_active_run: str | None = field(default=None, metadata={"types": (str, type(None))})


# checking ---------------------------------------------------------------------------------------------

def _types_of(f: dataclasses.Field) -> tuple[type, ...]:
    if "types" in f.metadata:
        return f.metadata["types"]
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    return (type(default),)


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


def check_values(values: dict) -> tuple[dict, list[str]]:
    """The values the app may read, and one line per value that fell back to its default."""
    good = dict(values)
    problems: list[str] = []
    for f in dataclasses.fields(AppSettings):
        if f.name not in values:
            continue
        value = values[f.name]
        section = f.default_factory if dataclasses.is_dataclass(f.default_factory) else None
        if section is not None:
            if not isinstance(value, dict):
                problems.append(f"{f.name} is not a section")
                del good[f.name]
                continue
            kept = dict(value)
            for sub in dataclasses.fields(section):
                if sub.name in value and not _fits(value[sub.name], _types_of(sub)):
                    problems.append(f"{f.name}.{sub.name} should be {_describe(_types_of(sub))}")
                    del kept[sub.name]
            good[f.name] = kept
            continue
        types = _types_of(f)
        ok = _fits(value, types)
        if ok and "items" in f.metadata:
            ok = all(isinstance(item, f.metadata["items"]) for item in value)
        if not ok:
            problems.append(f"{f.name} should be {_describe(types)}")
            del good[f.name]
    return good, problems


# migrations ----------------------------------------------------------------------------------------

def _from_0(raw: dict) -> dict:
    """Version 0 (no version number): the values were stored at the top level."""
    values = raw.get("values") if isinstance(raw.get("values"), dict) else {k: v for k, v in raw.items()
                                                                            if k != "version"}
    return {"version": 1, "values": values}


#: version -> the function that turns a file of that version into the next version
MIGRATIONS: dict[int, Callable[[dict], dict]] = {0: _from_0}


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
    while version < SETTINGS_VERSION:
        raw = MIGRATIONS[version](raw)
        version = raw["version"]
    return raw
