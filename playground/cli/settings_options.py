"""Command-line options made from a settings dataclass's fields: the flag, its type, default and help.

``add_options(parser, GenerationSettings)`` adds ``--max-new-tokens``, ``--sample`` / ``--greedy``,
``--temperature``, ``--top-k``, ``--top-p`` and ``--seed`` with the help written on the fields
in ``playground.core.decoding.settings``; ``generation_from_args(args)`` reads them back into the
same type the GUI and the settings file use, so "the defaults" are one set everywhere.
"""

from __future__ import annotations

import argparse
import dataclasses
from typing import Any

from playground.cli.common import finite_float
from playground.core.base.settings_schema import field_default


def _help(f: dataclasses.Field, default: Any) -> str:
    meta = f.metadata
    text = meta.get("help", "")
    lo_hi = meta.get("range")
    bits = []
    if lo_hi:
        bits.append(" to ".join(str(v) if isinstance(v, int) else f"{v:g}" for v in lo_hi[:2]))
    bits.append(f"default {default}")
    return f"{text} ({'; '.join(bits)})".replace("%", "%%")


def add_field(parser, f: dataclasses.Field, default: Any = None, dest: str | None = None) -> None:
    """One option for one field; ``default`` overrides the field's own (a command that must differ)."""
    default = field_default(f) if default is None else default
    dest = dest or f.name
    flag = "--" + f.metadata.get("flag", f.name).replace("_", "-")
    if isinstance(default, bool):
        choices = dict((v, t) for t, v in f.metadata.get("choices", ()))
        on, off = (choices.get(True, "on").lower(), choices.get(False, "off").lower())
        group = parser.add_mutually_exclusive_group()
        group.add_argument(f"--{on}", dest=dest, action="store_true", default=default,
                           help=_help(f, off if not default else on))
        group.add_argument(f"--{off}", dest=dest, action="store_false", help=f"the opposite of --{on}")
        return
    kind = finite_float if isinstance(default, float) else int if isinstance(default, int) else str
    parser.add_argument(flag, dest=dest, type=kind, default=default, help=_help(f, default))


def add_options(parser, cls, *, only: tuple[str, ...] | None = None, defaults: dict | None = None) -> None:
    """Options for every command-line field of ``cls`` (nested settings included, flattened).

    Fields with ``metadata["cli"] is False`` are left out; ``only`` keeps the named fields.
    """
    defaults = defaults or {}
    for f in dataclasses.fields(cls):
        if f.metadata.get("cli") is False:
            continue
        default = field_default(f)
        if dataclasses.is_dataclass(default):
            add_options(parser, type(default), only=only, defaults=defaults)
        elif only is None or f.name in only:
            add_field(parser, f, defaults.get(f.name))


def from_args(cls, args: argparse.Namespace) -> Any:
    """A ``cls`` from the parsed options (nested settings filled from the same flat names)."""
    values = {}
    for f in dataclasses.fields(cls):
        default = field_default(f)
        if dataclasses.is_dataclass(default):
            values[f.name] = from_args(type(default), args)
        elif hasattr(args, f.name):
            values[f.name] = getattr(args, f.name)
    return cls(**values)


def add_generation_options(parser, **defaults: Any) -> None:
    """The generation settings' options (``defaults``: a command's own starting values)."""
    from playground.core.decoding.settings import GenerationSettings

    add_options(parser, GenerationSettings, defaults=defaults)


def generation_from_args(args: argparse.Namespace, **fixed: Any):
    """The ``GenerationSettings`` the options say (``fixed``: fields the command sets itself)."""
    from dataclasses import replace

    from playground.core.decoding.settings import GenerationSettings

    return replace(from_args(GenerationSettings, args), **fixed)
