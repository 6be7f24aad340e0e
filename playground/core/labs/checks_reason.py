"""Lab 6 (reason and act): the checks of the Build tab's Reasoning, Structured output and ReAct sections,
registered into ``checks.CHECKS`` when ``checks`` imports this module."""

from __future__ import annotations

from playground.core.labs.checks_base import CheckResult, _rag, check
from playground.core.labs.state import LabState


# lab 6: reason and act (the Build tab's Reasoning section fills s.reasoning from its reason.* events) ------
def _reasoned(s: LabState, event: str) -> list[dict]:
    return list(s.reasoning.get(event, []))


@check
def reason_compared(s: LabState) -> CheckResult:
    return _rag(s, any(len(e.get("strategies", [])) >= 4 for e in _reasoned(s, "compared")),
                "The strategies answered the same problem side by side.",
                "In Build → Reasoning, pick a problem and press Compare strategies (keep at least four ticked).")


@check
def reason_pal_seen(s: LabState) -> CheckResult:
    return _rag(s, any("pal" in e.get("strategies", []) and (e.get("pal_program") or e.get("pal_refused"))
                       for e in _reasoned(s, "compared")),
                "A program written by the model went through the sandbox.",
                "Compare strategies with PAL ticked and read its column: the program and the sandbox's result.")


@check
def reason_set_run(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("problems", 0) >= 5 and len(e.get("strategies", [])) >= 2 for e in _reasoned(s, "set_run")),
                "Accuracy per strategy over the set is measured, with its interval.",
                "Press Run the whole set (at least 5 problems, two strategies or more) and let it finish.")


@check
def reason_sandbox_refused(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("refused") for e in _reasoned(s, "sandbox_run")),
                "The sandbox refused a program and said why, without running it.",
                "Edit the PAL program (add 'import os', say) and press Run in sandbox.")


@check
def reason_vote_varied(s: LabState) -> CheckResult:
    settings = {(e.get("k"), e.get("temperature")) for e in _reasoned(s, "compared") if "sc" in e.get("strategies", [])}
    return _rag(s, len(settings) >= 2, "Self-consistency voted with two different k or temperatures.",
                "Change Paths (k) or the temperature and compare strategies again (self-consistency ticked).")


@check
def structured_masked(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("constrained_parsed") and e.get("removed_max", 0) > 0
                       for e in _reasoned(s, "structured.compared")),
                "A constrained answer parsed, and the bars showed what the grammar removed.",
                "In Build → Structured output, press Answer free and constrained.")


@check
def react_stepped(s: LabState) -> CheckResult:
    return _rag(s, len(_reasoned(s, "react.stepped")) >= 2,
                "The ReAct trace went at least two steps: Thought, Action, Observation.",
                "In Build → ReAct (tools), press Next step twice (or Run to end).")


@check
def react_edited(s: LabState) -> CheckResult:
    return _rag(s, bool(_reasoned(s, "react.edited")),
                "A step was edited and the trace continued from it.",
                "Select a step in the trace, change its Thought or Action and press Edit … and continue.")


@check
def react_constrained(s: LabState) -> CheckResult:
    return _rag(s, any(e.get("constrained") for e in _reasoned(s, "react.stepped")),
                "A step was taken with the Action line constrained to valid tool calls.",
                "Tick Constrain the Action line and press Next step.")
