"""The generation settings, declared once: each field's label, range, default and help.

``SamplingSettings`` (how a token is picked) and ``GenerationSettings`` (how much to generate,
and the sampling) are the one declaration that the Qt forms (``playground.qt.widgets.
generation_form``), the command line's flags (``playground.cli.settings_options``) and the
settings file's sections (``playground.core.base.settings_schema``) are all made from. The
metadata keys follow ``playground.qt.binding``: ``label``, ``help``, ``range`` (lo, hi[, step]),
``decimals``, ``special`` (what the lowest value means), ``choices`` (a yes/no field's two CLI flags
are its choices' words), ``cli`` (False: not a command-line option).

No torch here: the window builds its forms from these fields before torch is imported.

The defaults, and why
---------------------
Greedy decoding, temperature 1.0, top-k off, top-p off, seed 0, 64 new tokens. Greedy is what
``model.generate`` does unless told otherwise and gives the same text every time, so a result in
the app can be reproduced from the command line and a notebook. With sampling switched on, the
warpers start *off* (temperature 1, no top-k, no top-p): the learner first sees the model's own
distribution and then each setting's effect on it, instead of transformers' ``top_k=50`` hidden
in the starting point. The Sampling tab alone starts with sampling on (it is the tab about
sampling) and says so beside its switch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from playground.core.base.errors import InputError

MIN_TEMPERATURE = 0.05
MAX_TEMPERATURE = 2.0
MAX_NEW_TOKENS = 4096

TEMPERATURE_HELP = ("Temperature divides the model's scores before the softmax. Below 1 the likely tokens get "
                    "likelier (safer, more repetitive); above 1 the distribution flattens (more surprising). "
                    f"At the minimum ({MIN_TEMPERATURE:.2f}) it works as greedy.")
TOP_K_HELP = ("Top-k keeps only the k most likely tokens and renormalizes them; the rest can never be "
              "picked. 0 turns it off.")
TOP_P_HELP = ("Top-p (nucleus) keeps the fewest most likely tokens whose probabilities add up to more than p. "
              "1.00 turns it off; near 0 only the top token stays.")
DO_SAMPLE_HELP = ("Greedy always takes the most likely token: the same prompt gives the same text every time. "
                  "Sampling draws the next token at random, in proportion to its probability after temperature, "
                  "top-k and top-p.")
SEED_HELP = "The seed fixes the random draws: the same seed and settings pick the same tokens again."
MAX_NEW_TOKENS_HELP = ("Generation stops after this many new tokens, or earlier at the end-of-text token. The "
                       "prompt and the new tokens together must fit in the model's context window.")


def _meta(label: str, help: str, **kw: Any) -> dict:
    return {"label": label, "help": help, **kw}


@dataclass(frozen=True)
class SamplingSettings:
    """How each next token is picked, with the app's rules on top of transformers'.

    The one extra rule: the lowest temperature the app offers (``MIN_TEMPERATURE``) is treated
    as greedy, so the slider's end does what a learner expects from "temperature 0". The
    distribution these settings give is :func:`playground.core.decoding.sampling.stages_for`.
    """

    do_sample: bool = field(default=False, metadata=_meta(
        "Decoding", DO_SAMPLE_HELP, choices=(("Greedy", False), ("Sample", True))))
    temperature: float = field(default=1.0, metadata=_meta(
        "Temperature", TEMPERATURE_HELP, range=(MIN_TEMPERATURE, MAX_TEMPERATURE, 0.05), decimals=2))
    top_k: int = field(default=0, metadata=_meta("Top-k", TOP_K_HELP, range=(0, 1000, 1), special="off"))
    top_p: float = field(default=1.0, metadata=_meta("Top-p", TOP_P_HELP, range=(0.0, 1.0, 0.05), decimals=2))
    seed: int | None = field(default=0, metadata=_meta(
        "Seed", SEED_HELP, range=(0, 2**31 - 1, 1), types=(int, type(None))))

    def validate(self) -> None:
        """The app's one set of sampling rules (the Sampling tab, the Generate tab, the CLI).

        Top-p 0 is allowed (it keeps the single most likely token); the minimum temperature
        means greedy; values that are not finite numbers are refused.

        Raises
        ------
        InputError
            With the setting's label and what to type instead.
        """
        labels = {f.name: f.metadata["label"] for f in fields(self)}
        for name in ("temperature", "top_p"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise InputError(f"{labels[name]} must be a number (it is {value!r}).", "Type a number such as 0.7.")
        if self.do_sample and self.temperature <= 0:
            raise InputError("Temperature must be above 0.", "Choose greedy for 'always the most likely token'.")
        if self.top_k < 0:
            raise InputError("Top-k cannot be negative (0 turns it off).")
        if not 0.0 <= self.top_p <= 1.0:
            raise InputError("Top-p must be between 0 and 1.")

    @property
    def greedy_by_temperature(self) -> bool:
        return self.do_sample and self.temperature <= MIN_TEMPERATURE + 1e-9

    @property
    def greedy(self) -> bool:
        """Whether these settings always take the most likely token."""
        return not self.do_sample or self.greedy_by_temperature

    def with_seed(self, seed: int | None) -> SamplingSettings:
        return replace(self, seed=seed)

    def describe(self) -> str:
        """One line for a result header: 'greedy' or 'sample T=0.70 top-k=40 top-p=0.90 seed 0'."""
        if self.greedy:
            return "greedy"
        parts = [f"T={self.temperature:.2f}"]
        if self.top_k:
            parts.append(f"top-k={self.top_k}")
        if self.top_p < 1.0:
            parts.append(f"top-p={self.top_p:.2f}")
        return "sample " + " ".join(parts)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict | None) -> SamplingSettings:
        """Settings from a mapping; unknown keys are ignored, missing ones take their defaults."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in names})


#: The one set of sampling defaults (see the module's docstring for why these).
DEFAULT_SAMPLING = SamplingSettings()


@dataclass(frozen=True)
class GenerationSettings:
    """How much to generate, and how each token is picked: one ``SamplingSettings``.

    ``GenerationSettings.make(max_new_tokens=40, do_sample=True, temperature=0.7)`` builds one
    from flat keywords; ``settings.temperature`` reads ``settings.sampling.temperature``.
    """

    sampling: SamplingSettings = field(default_factory=SamplingSettings, metadata={"label": "Sampling"})
    max_new_tokens: int = field(default=64, metadata=_meta(
        "Max new tokens", MAX_NEW_TOKENS_HELP, range=(1, MAX_NEW_TOKENS, 1)))
    top_n: int = field(default=20, metadata=_meta(
        "Candidates kept", "How many of the most likely tokens each step keeps for the display.",
        range=(0, 200, 1), cli=False))
    stop_at_eos: bool = field(default=True, metadata=_meta(
        "Stop at end-of-text", "Stop when the model writes its end-of-text token.", cli=False))

    @classmethod
    def make(cls, max_new_tokens: int = 64, do_sample: bool = DEFAULT_SAMPLING.do_sample,
             temperature: float = DEFAULT_SAMPLING.temperature, top_k: int = DEFAULT_SAMPLING.top_k,
             top_p: float = DEFAULT_SAMPLING.top_p, seed: int | None = DEFAULT_SAMPLING.seed, top_n: int = 20,
             stop_at_eos: bool = True) -> GenerationSettings:
        """Settings from flat keywords (the sampling ones go into ``sampling``)."""
        return cls(SamplingSettings(do_sample=do_sample, temperature=temperature, top_k=top_k, top_p=top_p,
                                    seed=seed), max_new_tokens, top_n, stop_at_eos)

    # The sampling knobs, read through: ``settings.temperature`` is ``settings.sampling.temperature``.
    do_sample = property(lambda self: self.sampling.do_sample)
    temperature = property(lambda self: self.sampling.temperature)
    top_k = property(lambda self: self.sampling.top_k)
    top_p = property(lambda self: self.sampling.top_p)
    seed = property(lambda self: self.sampling.seed)

    def with_sampling(self, **changes: Any) -> GenerationSettings:
        """A copy with some sampling fields changed (``with_sampling(seed=8)``)."""
        return replace(self, sampling=replace(self.sampling, **changes))

    def validate(self) -> None:
        self.sampling.validate()  # the one set of sampling rules, non-finite values included
        if self.max_new_tokens < 1:
            raise InputError("Max new tokens must be at least 1.")

    def describe(self) -> str:
        return f"{self.sampling.describe()}, {self.max_new_tokens} new tokens at most"

    def to_dict(self) -> dict:
        """The flat layout notebooks and run records use: the sampling keys beside the others."""
        return {"max_new_tokens": self.max_new_tokens, **self.sampling.to_dict(), "top_n": self.top_n,
                "stop_at_eos": self.stop_at_eos}

    @classmethod
    def from_dict(cls, data: dict | None) -> GenerationSettings:
        """From the flat layout of ``to_dict`` or the nested one (a ``sampling`` section)."""
        data = dict(data or {})
        nested = data.pop("sampling", None)
        sampling = SamplingSettings.from_dict(nested if isinstance(nested, dict) else data)
        own = {f.name for f in fields(cls)} - {"sampling"}
        return cls(sampling=sampling, **{k: v for k, v in data.items() if k in own})


#: The one set of generation defaults.
DEFAULT_GENERATION = GenerationSettings()
