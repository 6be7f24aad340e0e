"""Starting a ReAct trace on a loaded model, and its success rate over the bundled knowledge questions.

``open_react(loaded, question, constrain=False)`` gives a ``ReactRun`` whose writer is the model and whose
tools are the calculator, the knowledge-base search and finish. ``react_success(loaded, problems,
constrain)`` runs each question to its end and grades the finish answer against the gold number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from playground.core.reasoning.react import MAX_STEPS, ReactRun
from playground.core.reasoning.tools import DEFAULT_TIMEOUT_S, default_tools
from playground.core.reasoning.writer import ModelWriter


def chat_template_for(loaded):
    """A function wrapping the instruction in the model's chat template (the trace is the assistant's reply)."""
    from playground.core.decoding.generation import format_prompt

    return lambda body: format_prompt(loaded, body, use_chat_template=True)


def open_react(loaded, question: str, constrain: bool = False, max_steps: int = MAX_STEPS, search=None,
               timeout_s: float = DEFAULT_TIMEOUT_S, cancelled=None) -> ReactRun:
    """A trace of ``question`` with the model as writer and the three tools."""
    from playground.core.base.errors import InputError

    if loaded.is_encoder_decoder:
        raise InputError("A ReAct trace needs a decoder-only model (it continues its own text).",
                         "Load the bundled SmolLM2 or another causal model.")
    return ReactRun(question, ModelWriter(loaded, cancelled), default_tools(search, timeout_s), max_steps=max_steps,
                    constrain=constrain, template=chat_template_for(loaded))


@dataclass
class ReactOutcome:
    problem_id: str
    question: str
    gold: float | None
    answer: str | None
    right: bool
    status: str
    steps: int
    tools_used: list[str] = field(default_factory=list)


@dataclass
class ReactReport:
    constrained: bool
    outcomes: list[ReactOutcome]

    @property
    def success_rate(self) -> float:
        return sum(o.right for o in self.outcomes) / len(self.outcomes) if self.outcomes else 0.0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def grade(run: ReactRun, gold: float | None) -> bool:
    from playground.core.reasoning.answers import extract_answer, is_right

    return bool(run.answer is not None and is_right(extract_answer(run.answer), gold))


def react_success(loaded, problems, constrain: bool, max_steps: int = MAX_STEPS, search=None, handle=None,
                  timeout_s: float = DEFAULT_TIMEOUT_S) -> ReactReport:
    """Each problem's trace run to its end; right when the finish answer equals the gold number."""
    from playground.core.base.handle import ensure_handle
    from playground.core.base.progress import report_step
    from playground.core.reasoning.tools import KnowledgeSearch

    handle = ensure_handle(handle)
    search = search or KnowledgeSearch()
    outcomes = []
    for i, p in enumerate(problems):
        handle.raise_if_cancelled()
        report_step(handle, "ReAct " + ("constrained" if constrain else "free"), i, len(problems), p.id)
        run = open_react(loaded, p.question, constrain, max_steps, search, timeout_s, handle.cancelled)
        for _ in run.run_to_end(handle.cancelled):
            pass
        outcomes.append(ReactOutcome(p.id, p.question, p.answer, run.answer, grade(run, p.answer), run.status,
                                     len(run.steps), [s.tool for s in run.steps if s.tool]))
    return ReactReport(constrain, outcomes)
