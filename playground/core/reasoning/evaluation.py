"""Accuracy per strategy over a problem set, with a 95% interval, tokens and seconds per problem."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from playground.core.base.errors import Cancelled
from playground.core.base.progress import report_step
from playground.core.evaluation.benchmark_run import wilson_interval
from playground.core.reasoning.problems import Problem
from playground.core.reasoning.prompts import STRATEGIES
from playground.core.reasoning.settings import ReasoningSettings
from playground.core.reasoning.strategies import StrategyResult, check_strategies, run_strategy


@dataclass
class StrategyScore:
    """One strategy over the set: right out of graded, the Wilson 95% interval, tokens and seconds per problem."""

    strategy: str
    right: int = 0
    graded: int = 0
    tokens: int = 0
    seconds: float = 0.0
    problems: int = 0
    no_answer: int = 0
    refused: int = 0  # PAL programs the sandbox refused or stopped

    @property
    def label(self) -> str:
        return STRATEGIES[self.strategy].label

    @property
    def accuracy(self) -> float:
        return self.right / self.graded if self.graded else 0.0

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.right, self.graded)

    @property
    def tokens_per_problem(self) -> float:
        return self.tokens / self.problems if self.problems else 0.0

    @property
    def seconds_per_problem(self) -> float:
        return self.seconds / self.problems if self.problems else 0.0

    def add(self, result: StrategyResult) -> None:
        self.problems += 1
        self.tokens += result.tokens
        self.seconds += result.seconds
        if result.right is not None:
            self.graded += 1
            self.right += int(result.right)
        if result.answer is None:
            self.no_answer += 1
        if result.sandbox is not None and not result.sandbox.ok:
            self.refused += 1

    def as_dict(self) -> dict:
        lo, hi = self.interval
        return {"strategy": self.strategy, "right": self.right, "graded": self.graded,
                "accuracy": round(self.accuracy, 4), "interval": [round(lo, 4), round(hi, 4)],
                "tokens_per_problem": round(self.tokens_per_problem, 1),
                "seconds_per_problem": round(self.seconds_per_problem, 2), "no_answer": self.no_answer,
                "refused": self.refused}


@dataclass
class SetReport:
    """A run over a set: a score per strategy, every result, and whether it was stopped part-way."""

    strategies: list[str]
    total: int
    scores: dict[str, StrategyScore] = field(default_factory=dict)
    results: list[StrategyResult] = field(default_factory=list)
    stopped: bool = False

    @property
    def done(self) -> int:
        """Problems finished by every strategy."""
        return min((s.problems for s in self.scores.values()), default=0)

    def rows(self) -> list[StrategyScore]:
        return [self.scores[k] for k in self.strategies]

    def table(self) -> str:
        """A plain-text table (the CLI and the bench print it)."""
        head = f"{'strategy':<30} {'right':>9} {'accuracy':>9} {'95% interval':>15} {'tokens/problem':>15} {'s/problem':>10}"
        lines = [head, "-" * len(head)]
        for s in self.rows():
            lo, hi = s.interval
            lines.append(f"{s.label:<30} {s.right:>4}/{s.graded:<4} {s.accuracy:>9.0%} {f'{lo:.0%}–{hi:.0%}':>15} "
                         f"{s.tokens_per_problem:>15.1f} {s.seconds_per_problem:>10.2f}")
        if self.stopped:
            lines.append(f"(stopped after {self.done} of {self.total} problems)")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {"strategies": self.strategies, "total": self.total, "done": self.done, "stopped": self.stopped,
                "scores": {k: s.as_dict() for k, s in self.scores.items()}}


def run_set(loaded, problems: list[Problem], strategies=None, settings: ReasoningSettings | None = None,
            handle=None, on_problem: Callable[[SetReport], None] | None = None) -> SetReport:
    """Every strategy on every problem. Stop ends after the current reply and returns what was finished.

    Progress: ``report_step(handle, "Solving problems", done, total)``; ``on_problem(report)`` after each
    problem (to redraw the chart as it fills).
    """
    settings = settings or ReasoningSettings()
    settings.validate()
    keys = check_strategies(strategies or list(STRATEGIES))
    report = SetReport(strategies=keys, total=len(problems), scores={k: StrategyScore(k) for k in keys})
    inner = handle.ending_on_stop() if handle is not None else None
    for i, problem in enumerate(problems):
        report_step(handle, "Solving problems", i, len(problems), problem.id)
        done_here: list[StrategyResult] = []
        try:
            for key in keys:
                done_here.append(run_strategy(loaded, problem, key, settings, inner))
        except Cancelled:
            report.stopped = True
            break
        for result in done_here:
            report.scores[result.strategy].add(result)
            report.results.append(result)
        if on_problem is not None:
            on_problem(report)
        if handle is not None and handle.stop_requested():
            report.stopped = i + 1 < len(problems)
            break
    else:
        report_step(handle, "Solving problems", len(problems), len(problems))
    return report
