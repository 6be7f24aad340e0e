"""The lab file format and its loader.

A lab is one TOML file under ``resources/labs/`` (a teacher can add a fourth without code)::

    id = "prompt-engineering"           # optional; the file name without extension otherwise
    title = "Lab 1 · Prompt engineering for dialogue summarization"
    intro = "What the lab is about, in two sentences."

    [[steps]]
    id = "zero-shot"                    # optional; step-1, step-2 ... otherwise
    title = "Ask without examples"
    tab = "Prompt"                      # the tab the step happens in (one of KNOWN_TABS)
    control = "run_button"              # optional: the control "Show me" outlines (a name the tab's
                                        # Panel.reveal knows; tests/qt/test_labs_show_me.py checks each)
    do = "What to do."
    look = "What to look for."
    question = "A question to think about."
    explain = "The short explanation shown once the step is done."
    check = "prompt_zero_shot_run"      # a name in playground.core.labs.checks.CHECKS

Unknown checks or tabs are refused at load time with their name and the names that exist.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from playground.core.base.errors import InputError

# The tabs a lab may send the learner to: the lab-file vocabulary, which core checks without Qt. It is
# the titles the tabs declare (``Panel.title``), in the main window's order; tests/qt/test_labs_protocol.py
# fails when the two differ. A build without a tab keeps its name here: its checks then say so in plain words.
KNOWN_TABS = ("Prompt", "Generate", "Sampling", "Inside", "Fine-tune", "Align", "Evaluate", "Lifecycle", "Build")
_STEP_KEYS = {"id", "title", "tab", "control", "do", "look", "question", "explain", "check"}
_LAB_KEYS = {"id", "title", "intro", "steps", "notebook"}


class LabError(InputError):
    """A lab file that cannot be used (the message names the file and what is wrong)."""


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    tab: str
    do: str
    check: str
    look: str = ""
    question: str = ""
    explain: str = ""
    control: str = ""


@dataclass(frozen=True)
class Lab:
    id: str
    title: str
    intro: str
    steps: tuple[Step, ...]
    path: str = ""
    notebook: tuple[str, ...] = field(default=())  # experiments its notebook export holds

    def step_ids(self) -> list[str]:
        return [s.id for s in self.steps]


def _text(d: dict, key: str, where: str, required: bool = False) -> str:
    value = d.get(key, "")
    if not isinstance(value, str):
        raise LabError(f"{where}: '{key}' must be text in quotes, not {type(value).__name__}.",
                       "Put the value in double quotes.")
    if required and not value.strip():
        raise LabError(f"{where}: '{key}' is missing.", f"Add a line such as {key} = \"...\".")
    return value.strip()


def parse_lab(text: str, name: str = "lab", path: str = "") -> Lab:
    """A :class:`Lab` from TOML text; refuses unknown checks, tabs and keys by name."""
    from playground.core.labs.checks import CHECKS

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LabError(f"The lab file {name} is not valid TOML: {exc}.",
                       "Check the quotes and brackets on the line it names.") from exc
    unknown = set(data) - _LAB_KEYS
    if unknown:
        raise LabError(f"The lab file {name} has unknown key(s): {', '.join(sorted(unknown))}.",
                       f"Use only {', '.join(sorted(_LAB_KEYS))} at the top of the file.")
    title = _text(data, "title", f"The lab file {name}", required=True)
    steps_raw = data.get("steps")
    if not isinstance(steps_raw, list) or not steps_raw:
        raise LabError(f"The lab file {name} has no steps.", "Add at least one [[steps]] table.")
    steps, seen = [], set()
    for i, raw in enumerate(steps_raw, start=1):
        where = f"Step {i} of the lab file {name}"
        if not isinstance(raw, dict):
            raise LabError(f"{where} is not a table.", "Write each step as a [[steps]] table.")
        extra = set(raw) - _STEP_KEYS
        if extra:
            raise LabError(f"{where} has unknown key(s): {', '.join(sorted(extra))}.",
                           f"A step may have {', '.join(sorted(_STEP_KEYS))}.")
        check = _text(raw, "check", where, required=True)
        if check not in CHECKS:
            raise LabError(f"{where} names an unknown check '{check}'.",
                           f"Use one of: {', '.join(sorted(CHECKS))}.")
        tab = _text(raw, "tab", where, required=True)
        if tab not in KNOWN_TABS:
            raise LabError(f"{where} names an unknown tab '{tab}'.", f"Use one of: {', '.join(KNOWN_TABS)}.")
        sid = _text(raw, "id", where) or f"step-{i}"
        if sid in seen:
            raise LabError(f"{where} repeats the step id '{sid}'.", "Give every step its own id.")
        seen.add(sid)
        steps.append(Step(id=sid, title=_text(raw, "title", where, required=True), tab=tab,
                          do=_text(raw, "do", where, required=True), check=check, look=_text(raw, "look", where),
                          question=_text(raw, "question", where), explain=_text(raw, "explain", where),
                          control=_text(raw, "control", where)))
    notebook = data.get("notebook", [])
    if not isinstance(notebook, list) or not all(isinstance(n, str) for n in notebook):
        raise LabError(f"The lab file {name}: 'notebook' must be a list of names in quotes.",
                       'For example notebook = ["prompt_comparison", "generation"].')
    from playground.core.labs.notebook import EXPERIMENTS

    bad = [n for n in notebook if n not in EXPERIMENTS]
    if bad:
        raise LabError(f"The lab file {name} names unknown notebook experiment(s): {', '.join(bad)}.",
                       f"Use some of: {', '.join(EXPERIMENTS)}.")
    return Lab(id=_text(data, "id", name) or name, title=title, intro=_text(data, "intro", name),
               steps=tuple(steps), path=path, notebook=tuple(notebook))


def load_lab(path: str | Path) -> Lab:
    """Read one lab file (see the module docstring for its format)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LabError(f"The lab file {path} cannot be read: {exc}.", "Check that it exists and is UTF-8 text.") from exc
    return parse_lab(text, path.stem, str(path))


def labs_dir() -> Path:
    from playground.core.base.paths import resources_dir

    return resources_dir() / "labs"


def load_labs(folder: str | Path | None = None) -> tuple[list[Lab], list[str]]:
    """Every ``*.toml`` lab in the folder, in file-name order, and a plain message per refused file."""
    folder = Path(folder) if folder is not None else labs_dir()
    labs, problems = [], []
    for path in sorted(folder.glob("*.toml")):
        try:
            labs.append(load_lab(path))
        except LabError as exc:
            problems.append(f"{exc.message} {exc.hint}".strip())
    return labs, problems
