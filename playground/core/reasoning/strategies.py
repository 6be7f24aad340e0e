"""Running one strategy on one problem: the prompt, the reply (or k replies), the number read from it,
right or wrong, the tokens and the seconds spent. Generation is the app's one path
(``core.decoding.generation.stream_generate``: the shared cached decode step and the Sampling tab's rules)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from playground.core.base.errors import Cancelled, InputError
from playground.core.base.progress import report_step
from playground.core.decoding.settings import GenerationSettings
from playground.core.reasoning.answers import NUMBER, Vote, extract_answer, extract_program, is_right, vote
from playground.core.reasoning.problems import Problem, check_question
from playground.core.reasoning.prompts import STRATEGIES, Strategy, build_prompt
from playground.core.reasoning.sandbox import SandboxResult, run_program
from playground.core.reasoning.settings import ReasoningSettings

# a stated answer followed by something that cannot continue the number: generation may stop there
_STATED_DONE = re.compile(r"answer\s*(?:is|:|=)\s*\**\s*(?:" + NUMBER + r")\**(?:[^\d,.]|\.\D)", re.IGNORECASE)

_NUMBER_DONE = re.compile(r"\d(?:[^\d,.]|[.,]\D)")


@dataclass
class Reply:
    """One generated reply: its text, the number read from it, its new tokens and seconds."""

    text: str
    answer: float | None
    tokens: int
    seconds: float
    seed: int | None = None


@dataclass
class StrategyResult:
    """What one strategy did on one problem.

    ``text`` is the reply shown (for self-consistency, the first path's); ``paths`` every reply;
    ``vote`` self-consistency's vote; ``program`` / ``sandbox`` PAL's program and what the sandbox made of
    it; ``tokens`` the new tokens over all replies, ``prompt_tokens`` the prompt's (once per reply).
    """

    strategy: str
    problem_id: str
    prompt: str
    text: str
    answer: float | None
    right: bool | None
    tokens: int
    prompt_tokens: int
    seconds: float
    paths: list[Reply] = field(default_factory=list)
    vote: Vote | None = None
    program: str = ""
    sandbox: SandboxResult | None = None

    @property
    def label(self) -> str:
        return STRATEGIES[self.strategy].label

    def verdict(self) -> str:
        return {True: "right", False: "wrong", None: "ungraded"}[self.right]

    def as_dict(self) -> dict:
        out = {"strategy": self.strategy, "problem_id": self.problem_id, "answer": self.answer,
               "right": self.right, "tokens": self.tokens, "prompt_tokens": self.prompt_tokens,
               "seconds": round(self.seconds, 3), "text": self.text}
        if self.vote is not None:
            out["vote"] = [[a, n] for a, n in self.vote.counts] + ([["none", self.vote.abstained]]
                                                                   if self.vote.abstained else [])
        if self.strategy == "pal":
            out["program"] = self.program
            out["sandbox"] = None if self.sandbox is None else self.sandbox.describe()
        return out


def check_strategies(names) -> list[str]:
    """Strategy keys in display order; an unknown name is refused with the known ones."""
    names = list(names)
    if not names:
        raise InputError("No strategy is chosen.", f"Choose at least one of: {', '.join(STRATEGIES)}.")
    unknown = [n for n in names if n not in STRATEGIES]
    if unknown:
        raise InputError(f"Unknown strategy: {', '.join(unknown)}.", f"Choose from: {', '.join(STRATEGIES)}.")
    return [k for k in STRATEGIES if k in names]


def _stopper(strategy: Strategy) -> Callable[[str], bool]:
    if strategy.program:
        return lambda text: "```" in text
    if strategy.budget == "direct":  # a number, then something that cannot continue it
        return lambda text: "\n" in text.strip() or bool(_NUMBER_DONE.search(text))
    return lambda text: bool(_STATED_DONE.search(text))


def generate_reply(loaded, prompt: str, settings: GenerationSettings, stop: Callable[[str], bool] | None = None,
                   cancelled: Callable[[], bool] | None = None) -> tuple[str, int, float]:
    """The reply (text, new tokens, seconds), ended early once ``stop(text)`` says so. Raises ``Cancelled``."""
    from playground.core.decoding.generation import stream_generate

    started = time.perf_counter()
    pieces: list[str] = []
    tokens = 0
    steps: Iterator = stream_generate(loaded, prompt, settings, cancelled)
    try:
        for step in steps:
            tokens += 1
            pieces.append(step.text)
            if stop is not None and stop("".join(pieces)):
                break
    finally:
        close = getattr(steps, "close", None)
        if close is not None:
            close()
    if cancelled is not None and cancelled():
        raise Cancelled()
    return "".join(pieces), tokens, time.perf_counter() - started


def _gen_settings(settings: ReasoningSettings, strategy: Strategy, path: int = 0) -> GenerationSettings:
    budget = settings.budget(strategy.budget)
    if strategy.sampled:
        return GenerationSettings.make(max_new_tokens=budget, do_sample=True, temperature=settings.temperature,
                                       seed=settings.seed + path, top_n=0)
    return GenerationSettings.make(max_new_tokens=budget, do_sample=False, top_n=0)


def strategy_prompt(loaded, strategy: str, question: str, settings: ReasoningSettings) -> str:
    """The prompt one strategy gives the model for ``question`` (what the learner can read)."""
    return build_prompt(loaded.tokenizer, STRATEGIES[strategy], check_question(question),
                        settings.use_chat_template, loaded.is_encoder_decoder)


def run_strategy(loaded, problem: Problem, strategy: str, settings: ReasoningSettings | None = None,
                 handle=None, on_path: Callable[[int, Reply], None] | None = None) -> StrategyResult:
    """One strategy on one problem.

    Parameters
    ----------
    loaded
        The loaded model (``LoadedModel``).
    problem
        The problem; ``problem.answer`` None leaves the result ungraded.
    strategy
        A key of :data:`STRATEGIES`: direct, cot, fewshot, sc or pal.
    settings
        :class:`ReasoningSettings` (validated here: k out of range is an ``InputError``).
    handle
        Optional ``TaskHandle``: Stop between tokens (``Cancelled``), progress per self-consistency path.
    on_path
        Called with (index, Reply) after each self-consistency path (to draw the vote as it grows).
    """
    settings = settings or ReasoningSettings()
    settings.validate()
    spec = STRATEGIES[check_strategies([strategy])[0]]
    prompt = strategy_prompt(loaded, spec.key, problem.question, settings)
    from playground.core.decoding.generation import prompt_token_ids

    prompt_tokens = len(prompt_token_ids(loaded.tokenizer, prompt))
    cancelled = handle.cancelled if handle is not None else None
    stop = _stopper(spec)
    n_paths = settings.k if spec.sampled else 1
    paths: list[Reply] = []
    for i in range(n_paths):
        if spec.sampled:
            report_step(handle, "Sampling paths", i, n_paths, f"self-consistency path {i + 1} of {n_paths}")
        gen = _gen_settings(settings, spec, i)
        text, tokens, seconds = generate_reply(loaded, prompt, gen, stop, cancelled)
        answer = None if spec.program else extract_answer(text)
        paths.append(Reply(text=text, answer=answer, tokens=tokens, seconds=seconds,
                          seed=gen.seed if spec.sampled else None))
        if on_path is not None and spec.sampled:
            on_path(i, paths[-1])
    total_tokens = sum(p.tokens for p in paths)
    total_seconds = sum(p.seconds for p in paths)
    result = StrategyResult(strategy=spec.key, problem_id=problem.id, prompt=prompt, text=paths[0].text,
                            answer=None, right=None, tokens=total_tokens, prompt_tokens=prompt_tokens * n_paths,
                            seconds=total_seconds, paths=paths)
    if spec.sampled:
        result.vote = vote([p.answer for p in paths])
        result.answer = result.vote.winner
    elif spec.program:
        result.program = extract_program(paths[0].text)
        started = time.perf_counter()
        result.sandbox = run_program(result.program, timeout_s=settings.sandbox_seconds) if result.program.strip() \
            else SandboxResult(refused="the model wrote no program")
        result.seconds += time.perf_counter() - started
        result.answer = _number(result.sandbox.value) if result.sandbox.ok else None
    else:
        result.answer = paths[0].answer
    result.right = is_right(result.answer, problem.answer)
    return result


def _number(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        return extract_answer(value)
    return None


def compare(loaded, problem: Problem, strategies=None, settings: ReasoningSettings | None = None,
            handle=None, on_result: Callable[[StrategyResult], None] | None = None,
            on_path: Callable[[int, Reply], None] | None = None) -> list[StrategyResult]:
    """Every chosen strategy on one problem, in display order (``on_result`` after each one)."""
    settings = settings or ReasoningSettings()
    settings.validate()
    check_question(problem.question)
    keys = check_strategies(strategies or list(STRATEGIES))
    results = []
    for i, key in enumerate(keys):
        report_step(handle, "Comparing strategies", i, len(keys), STRATEGIES[key].label)
        results.append(run_strategy(loaded, problem, key, settings, handle, on_path))
        if on_result is not None:
            on_result(results[-1])
    report_step(handle, "Comparing strategies", len(keys), len(keys))
    return results
