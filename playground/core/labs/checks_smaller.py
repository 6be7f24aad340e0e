"""Lab 5 (make it smaller and faster): the checks of the Lifecycle tab's Precision and Pruning sections,
registered into ``checks.CHECKS`` when ``checks`` imports this module."""

from __future__ import annotations

from playground.core.labs.checks_base import CheckResult, _ok, check
from playground.core.labs.state import LabState

INT_FORMATS = {"int8", "int4", "int2"}


@check
def precision_swept(s: LabState) -> CheckResult:
    return _ok(any(len(r.get("formats", [])) >= 2 and INT_FORMATS & set(r.get("formats", []))
                   for r in s.precision_runs),
               "A precision sweep with an INT format finished.",
               "In Lifecycle → Precision, check FP32, BF16 and INT8 (or INT4) and run the sweep to its end.")


def _pruned(s: LabState, kind: str, methods: set[str], at_least: float = 0.0) -> list[dict]:
    return [r for r in s.pruning_runs if r.get("event") == kind and r.get("method") in methods
            and float(r.get("sparsity", 0)) >= at_least]


@check
def pruning_unstructured_run(s: LabState) -> CheckResult:
    return _ok(_pruned(s, "run", {"global", "layer"}, 0.5),
               "You pruned half the weights by magnitude and measured the cost and the speed.",
               "In Lifecycle → Pruning, pick an unstructured method, set the sparsity to 50% or more and press Run.")


@check
def pruning_heads_run(s: LabState) -> CheckResult:
    return _ok(_pruned(s, "run", {"heads"}, 0.1),
               "You removed the least important attention heads and measured the smaller model.",
               "In Lifecycle → Pruning, pick Attention heads, set the sparsity to 10% or more and press Run.")


@check
def pruning_layers_run(s: LabState) -> CheckResult:
    return _ok(_pruned(s, "run", {"layers"}, 0.1),
               "You dropped whole layers and measured the smaller model.",
               "In Lifecycle → Pruning, pick Whole layers, set the sparsity to 10% or more and press Run.")


@check
def pruning_swept(s: LabState) -> CheckResult:
    return _ok(any(len(r.get("methods", [])) >= 2 and r.get("points", 0) >= 4 for r in s.pruning_runs
                   if r.get("event") == "sweep"),
               "Quality against sparsity is charted for each kind of pruning.",
               "In Lifecycle → Pruning, press Sweep and let it finish.")


@check
def pruned_model_used(s: LabState) -> CheckResult:
    return _ok(any(r.get("event") == "used" for r in s.pruning_runs),
               "Every tab now runs the pruned model.",
               "After a pruning run, press 'Use this model', then generate in the Generate tab.")
