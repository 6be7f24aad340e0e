"""The bad-input table: every test marked ``bad_input`` records what a person would see.

A test marked ``@pytest.mark.bad_input("case in plain words")`` takes the ``bad_input`` fixture and
calls it with the message the app showed (an exception, or the text itself)::

    with pytest.raises(InputError) as err:
        ...
    bad_input(err.value)

``python -m pytest -m bad_input --bad-input-table`` (or ``python bench/bad_inputs.py``) prints the
table (case, outcome, message) at the end and fails the session when a message is missing, is
the generic "Something went wrong", or is only an exception class name.
"""

from __future__ import annotations

import re

import pytest

_ROWS: dict[str, dict] = {}
GENERIC = "Something went wrong"
CLASS_NAME = re.compile(r"^\(?[A-Z][A-Za-z]*(Error|Exception|Warning)\)?\.?$")


def pytest_addoption(parser):
    parser.addoption("--bad-input-table", action="store_true",
                     help="print the table of bad-input cases (tests marked bad_input) and check their messages")


def pytest_configure(config):
    config.addinivalue_line("markers", "bad_input(case): a bad input or fault; its message goes in the table")


def message_of(shown) -> str:
    """The words a person sees for an exception (message and hint) or a text."""
    if isinstance(shown, BaseException):
        from playground.core.errors import describe_exception

        msg, hint = describe_exception(shown)
        return f"{msg} {hint}".strip()
    return str(shown).strip()


def problem_with(message: str) -> str:
    """Why this message is not good enough for the table ('' when it is)."""
    if not message:
        return "no message recorded"
    if GENERIC.lower() in message.lower():
        return "generic 'Something went wrong'"
    if CLASS_NAME.match(message.strip()):
        return "only an exception class name"
    return ""


def _case(item, marker) -> str:
    case = marker.args[0] if marker and marker.args else item.name
    spec = getattr(item, "callspec", None)
    return f"{case} [{spec.id}]" if spec is not None else case


@pytest.fixture
def bad_input(request):
    """Call with what the app showed for this bad input (an exception or a text)."""
    marker = request.node.get_closest_marker("bad_input")
    case = _case(request.node, marker)
    row = _ROWS.setdefault(request.node.nodeid, {"case": case, "outcome": "", "messages": []})

    def record(shown) -> str:
        text = message_of(shown)
        row["messages"].append(text)
        return text

    return record


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("bad_input")
    if marker is None or report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    case = _case(item, marker)
    row = _ROWS.setdefault(item.nodeid, {"case": case, "outcome": "", "messages": []})
    row["case"] = case
    row["outcome"] = {"passed": "handled", "failed": "TEST FAILED", "skipped": "skipped"}[report.outcome]


def _rows_and_problems() -> tuple[list[dict], list[tuple[str, str]]]:
    rows = sorted(_ROWS.values(), key=lambda r: r["case"].lower())
    bad = []
    for r in rows:
        why = problem_with(" | ".join(r["messages"])) if r["outcome"] == "handled" else ""
        if why:
            bad.append((r["case"], why))
    return rows, bad


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    # Before the terminal summary is written, so a poor message fails the run.
    if session.config.getoption("--bad-input-table") and _rows_and_problems()[1] and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if not config.getoption("--bad-input-table"):
        return
    tr = terminalreporter
    rows, bad = _rows_and_problems()
    tr.section(f"bad inputs: {len(rows)} cases")
    width = min(60, max([len(r["case"]) for r in rows] + [4]))
    tr.write_line(f"{'case':<{width}}  {'outcome':<11}  message")
    for r in rows:
        shown = " | ".join(r["messages"]).replace("\n", " ")
        tr.write_line(f"{r['case'][:width]:<{width}}  {r['outcome'] or '?':<11}  {shown[:220]}")
    for case, why in bad:
        tr.write_line(f"NOT GOOD ENOUGH: {case}: {why}", red=True)
