"""The scaling-law calculator: compute C ≈ 6·N·D, PF/s-days, tokens per parameter, and the loss and
compute-optimal size predicted by two published fits of L(N, D) = E + A/N^α + B/D^β."""

from __future__ import annotations

from dataclasses import dataclass

from playground.core.base.errors import InputError

PF_DAY = 8.64e19  # FLOPs in one petaflop/s-day: 1e15 FLOP/s for 86,400 s


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
    """Refuse zero or negative sizes in plain words."""
    for name, value in values.items():
        if value is None or not value > 0:
            label = {"n": "The parameter count N", "d": "The token count D", "flops": "The compute budget C",
                     "hours": "The GPU-hours", "flops_per_s": "The FLOP/s"}.get(name, name)
            raise InputError(f"{label} must be a positive number (got {value}).",
                             "Enter a value above zero, e.g. 7e9 parameters or 1e12 tokens.")


def training_flops(n: float, d: float) -> float:
    """C ≈ 6·N·D: about 2 FLOPs per parameter per token forward and 4 backward."""
    check_positive(n=n, d=d)
    return 6.0 * n * d


def flops_from_gpu_hours(hours: float, flops_per_s: float, utilization: float = 1.0) -> float:
    """The FLOPs of ``hours`` GPU-hours at a stated FLOP/s (times the share really used)."""
    check_positive(hours=hours, flops_per_s=flops_per_s)
    return hours * 3600.0 * flops_per_s * utilization


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


def describe(calc: Calculation) -> str:
    """The calculation in plain text, as the CLI prints it."""
    lines = []
    if calc.params:
        lines.append(f"N = {calc.params:.3g} parameters, D = {calc.tokens:.3g} tokens "
                     f"({calc.tokens_per_param:.1f} tokens per parameter)")
    lines.append(f"compute C ≈ 6·N·D = {calc.flops:.3g} FLOPs = {calc.pf_days:.3g} petaflop/s-days")
    for f in FITS:
        n, d, loss = calc.optima[f.name]
        at = f" predicted loss {calc.losses[f.name]:.3f};" if calc.losses else ""
        lines.append(f"{f.name} fit ({f.source}):{at} optimum for this budget N* = {n:.3g}, "
                     f"D* = {d:.3g} ({d / n:.1f} tokens per parameter), loss {loss:.3f}")
    return "\n".join(lines)
