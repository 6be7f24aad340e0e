"""The scaling-law calculator: compute C ≈ 6·N·D, PF/s-days, tokens per parameter, and the loss and
compute-optimal size predicted by two published fits of L(N, D) = E + A/N^α + B/D^β."""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass

from playground.core.base.errors import InputError

PF_DAY = 8.64e19  # FLOPs in one petaflop/s-day: 1e15 FLOP/s for 86,400 s
#: The compute range the published fits were made on (about 6e18 to 3e23 FLOPs in Chinchilla's runs).
FITTED_RANGE = (1e18, 1e24)
LABELS = {"n": "The parameter count N", "d": "The token count D", "flops": "The compute budget C",
          "hours": "The GPU-hours", "flops_per_s": "The FLOP/s"}


@dataclass(frozen=True)
class LossFit:
    """One published fit of L(N, D) = E + A / N**alpha + B / D**beta (N parameters, D tokens)."""

    name: str
    source: str
    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, n: float, d: float) -> float:
        """Predicted pre-training loss (nats per token) of N parameters trained on D tokens."""
        check_positive(n=n, d=d)
        return self.E + self.A / n ** self.alpha + self.B / d ** self.beta

    def optimum(self, flops: float) -> tuple[float, float]:
        """The compute-optimal (N*, D*) for a budget C, minimizing L under C = 6·N·D.

        Setting dL/dN = 0 with D = C / 6N gives N* = G · (C/6)^(β/(α+β)), G = (αA / βB)^(1/(α+β)).
        """
        check_positive(flops=flops)
        a, b = self.alpha, self.beta
        g = (a * self.A / (b * self.B)) ** (1.0 / (a + b))
        n = g * (flops / 6.0) ** (b / (a + b))
        return n, flops / (6.0 * n)


CHINCHILLA = LossFit("Chinchilla", "Hoffmann et al. 2022, approach 3", 1.69, 406.4, 410.7, 0.34, 0.28)
BESIROGLU = LossFit("Replication", "Besiroglu et al. 2024", 1.8172, 482.01, 2085.43, 0.3478, 0.3658)
FITS = (CHINCHILLA, BESIROGLU)


@dataclass(frozen=True)
class KnownModel:
    name: str
    params: float
    tokens: float
    note: str = ""

    @property
    def tokens_per_param(self) -> float:
        return self.tokens / self.params


KNOWN_MODELS = (
    KnownModel("GPT-3", 175e9, 300e9),
    KnownModel("Gopher", 280e9, 300e9),
    KnownModel("Chinchilla", 70e9, 1.4e12, "trained at ~20 tokens per parameter"),
    KnownModel("LLaMA 7B", 7e9, 1e12),
    KnownModel("LLaMA 65B", 65e9, 1.4e12),
    KnownModel("Llama 2 70B", 70e9, 2e12),
    KnownModel("Llama 3 8B", 8e9, 15e12),
    KnownModel("BloombergGPT", 50.6e9, 569e9),
    KnownModel("SmolLM2-135M", 135e6, 2e12, "far past 'optimal' on purpose: cheap to run"),
)
CHINCHILLA_RATIO = 20.0


def check_positive(**values: float) -> None:
    """Refuse zero, negative, not-a-number and infinite sizes in plain words."""
    for name, value in values.items():
        label = LABELS.get(name, name)
        if value is not None and isinstance(value, float) and math.isnan(value):
            raise InputError(f"{label} is not a number (got nan).", "Enter a number such as 7e9 or 1e12.")
        if value is None or not value > 0:
            raise InputError(f"{label} must be a positive number (got {value if value is None else f'{value:g}'}).",
                             "Enter a value above zero, e.g. 7e9 parameters or 1e12 tokens.")
        if math.isinf(value):
            raise InputError(f"{label} is too large to calculate with (got {value}: beyond "
                             f"{sys.float_info.max:.2g}, the largest number a float holds).",
                             "Enter a smaller value: the largest published training runs are near 1e26 FLOPs.")


def _overflowed(result: float, what: str, inputs: str) -> None:
    """Say which product overflowed, instead of blaming a later value that became nan."""
    if math.isinf(result):
        raise InputError(f"{what} overflowed: {inputs} is beyond {sys.float_info.max:.2g}, the largest "
                         "number a float holds.",
                         "Enter smaller values: the largest published training runs are near 1e26 FLOPs.")


def training_flops(n: float, d: float) -> float:
    """C ≈ 6·N·D: about 2 FLOPs per parameter per token forward and 4 backward."""
    check_positive(n=n, d=d)
    flops = 6.0 * n * d
    _overflowed(flops, "The compute C = 6·N·D", f"6 × {n:g} × {d:g}")
    return flops


def flops_from_gpu_hours(hours: float, flops_per_s: float, utilization: float = 1.0) -> float:
    """The FLOPs of ``hours`` GPU-hours at a stated FLOP/s (times the share really used)."""
    check_positive(hours=hours, flops_per_s=flops_per_s)
    flops = hours * 3600.0 * flops_per_s * utilization
    _overflowed(flops, "The budget from GPU-hours", f"{hours:g} h × 3600 s × {flops_per_s:g} FLOP/s")
    return flops


@dataclass
class Calculation:
    """Everything the calculator shows for one (N, D) or one budget C."""

    flops: float
    pf_days: float
    params: float | None
    tokens: float | None
    tokens_per_param: float | None
    losses: dict[str, float]  # fit name -> predicted loss at (N, D); empty without N and D
    optima: dict[str, tuple[float, float, float]]  # fit name -> (N*, D*, loss at the optimum)


def calculate(params: float | None = None, tokens: float | None = None, flops: float | None = None) -> Calculation:
    """From N and D (or from C alone) compute the budget, its PF/s-days and both fits' predictions."""
    if params is not None or tokens is not None:
        if params is None or tokens is None:
            raise InputError("Give both the parameters N and the tokens D (or only the compute C).")
        check_positive(n=params, d=tokens)
        flops = training_flops(params, tokens)
    elif flops is None:
        raise InputError("Nothing to calculate.", "Give N and D, or a compute budget C in FLOPs.")
    check_positive(flops=flops)
    losses = {f.name: f.loss(params, tokens) for f in FITS} if params else {}
    optima = {}
    for f in FITS:
        n, d = f.optimum(flops)
        optima[f.name] = (n, d, f.loss(n, d))
    return Calculation(flops, flops / PF_DAY, params, tokens, tokens / params if params else None, losses, optima)


def ratio_text(x: float) -> str:
    """Tokens per parameter as a person reads it: 20.0, 93.1, but 1.2e-07 or 5e+28 (never "0.0")."""
    return f"{x:.1f}" if 0.1 <= x < 1e5 else f"{x:.2g}"


def describe(calc: Calculation) -> str:
    """The calculation in plain text, as the CLI prints it."""
    lines = []
    if calc.params:
        lines.append(f"N = {calc.params:.3g} parameters, D = {calc.tokens:.3g} tokens "
                     f"({ratio_text(calc.tokens_per_param)} tokens per parameter)")
    lines.append(f"compute C ≈ 6·N·D = {calc.flops:.3g} FLOPs = {calc.pf_days:.3g} petaflop/s-days")
    for f in FITS:
        n, d, loss = calc.optima[f.name]
        at = f" predicted loss {calc.losses[f.name]:.3f};" if calc.losses else ""
        lines.append(f"{f.name} fit ({f.source}):{at} optimum for this budget N* = {n:.3g}, "
                     f"D* = {d:.3g} ({ratio_text(d / n)} tokens per parameter), loss {loss:.3f}")
    return "\n".join(lines)


def fits_note(calc: Calculation) -> str:
    """Why the two fits' optima differ (and from Chinchilla's own 70B on 1.4T tokens), with the
    numbers at Chinchilla's budget; a warning when the budget lies far outside the fitted range."""
    c0 = training_flops(70e9, 1.4e12)
    at = {f.name: f.optimum(c0) for f in FITS}
    n_c, d_c = at[CHINCHILLA.name]
    n_r, d_r = at[BESIROGLU.name]
    lines = [
        f"Why the two fits differ: the {CHINCHILLA.name} line uses the constants the paper published for its "
        f"approach 3, rounded (E {CHINCHILLA.E}, A {CHINCHILLA.A}, B {CHINCHILLA.B}, alpha {CHINCHILLA.alpha}, "
        f"beta {CHINCHILLA.beta}). At Chinchilla's own budget ({c0:.2g} FLOPs) they put the optimum at "
        f"N* = {n_c / 1e9:.0f}B parameters, {d_c / n_c:.0f} tokens per parameter: {n_c / 70e9:.2f}x the 70B "
        f"Chinchilla was trained as (1.4T tokens, 20 per parameter, from the paper's approaches 1 and 2). "
        f"{BESIROGLU.source} refitted approach 3 on the paper's own data: N* = {n_r / 1e9:.0f}B at "
        f"{d_r / n_r:.0f} tokens per parameter, close to the 20. Neither line is 'the' answer: the optimum "
        f"moves with the fit."]
    lo, hi = FITTED_RANGE
    if not lo / 100 <= calc.flops <= hi * 100:
        lines.append(f"This budget ({calc.flops:.2g} FLOPs) lies far outside the range the fits were made on "
                     f"(about {lo:.0e} to {hi:.0e} FLOPs): both lines are extrapolations, not predictions.")
    return "\n".join(lines)
