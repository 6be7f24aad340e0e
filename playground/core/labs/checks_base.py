"""What every lab check is made of: the result, the registry of named checks and the small helpers the
check modules share (``checks``, ``checks_smaller``, ``checks_reason`` register into ``CHECKS``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from playground.core.labs.state import LabState


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    detail: str = ""


CHECKS: dict[str, Callable[[LabState], CheckResult]] = {}
NO_ALIGN = "The Align tab is not in this build, so this step cannot be checked here yet."


def check(fn: Callable[[LabState], CheckResult]) -> Callable[[LabState], CheckResult]:
    CHECKS[fn.__name__] = fn
    return fn


def run_check(name: str, state: LabState) -> CheckResult:
    """The named check on ``state`` (an unknown name is a plain failed result, never an exception)."""
    fn = CHECKS.get(name)
    if fn is None:
        return CheckResult(False, f"There is no check named '{name}'.")
    return fn(state)


def _ok(passed: bool, yes: str, no: str) -> CheckResult:
    return CheckResult(bool(passed), yes if passed else no)


NO_BUILD = "The Build tab is not in this build, so this step cannot be checked here yet."


def _rag(s: LabState, passed: bool, yes: str, no: str) -> CheckResult:
    if not s.build_available:
        return CheckResult(False, NO_BUILD)
    return _ok(passed, yes, no)
