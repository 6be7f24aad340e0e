"""Lab 6's Structured output and ReAct steps: their checks pass on the events the pages send, not before."""

from __future__ import annotations

from playground.core.labs.checks import CHECKS
from playground.core.labs.state import EVENTS, LabState


def fed(*events) -> LabState:
    s = LabState()
    for name, payload in events:
        EVENTS[name](s, payload)
    return s


def test_the_tool_steps_tick_on_their_events_only():
    empty = fed(("rag.asked", {}))
    for key in ("structured_masked", "react_stepped", "react_edited", "react_constrained"):
        assert not CHECKS[key](empty).passed
    s = fed(("structured.compared", {"constrained_parsed": True, "removed_max": 0.9, "free_parsed": False}),
            ("react.stepped", {"step": 1, "constrained": False}), ("react.stepped", {"step": 2, "constrained": True}),
            ("react.edited", {"step": 1, "what": "action"}))
    for key in ("structured_masked", "react_stepped", "react_edited", "react_constrained"):
        assert CHECKS[key](s).passed, key
    assert not CHECKS["structured_masked"](fed(("structured.compared", {"constrained_parsed": False}))).passed


def test_lab_six_names_the_tool_checks():
    from playground.core.labs.model import load_labs

    labs, problems = load_labs()
    assert not problems
    lab = next(lab for lab in labs if lab.id == "reason-act")
    checks = [step.check for step in lab.steps]
    for key in ("structured_masked", "react_stepped", "react_edited"):
        assert key in checks and key in CHECKS
