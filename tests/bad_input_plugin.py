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
        from playground.core.base.errors import describe_exception

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


# The bad-input tests of earlier issues, marked here (not in their files) so the table covers them
# without editing them: test id -> case. A test that is not found is listed as "not found".
EARLIER = {
    "tests/cli/test_cli.py::test_empty_prompt_is_a_plain_error": "playground generate: an empty prompt",
    "tests/cli/test_cli.py::test_missing_model_folder_is_a_plain_error": "--model: a folder that does not exist",
    "tests/cli/test_attention_cmd.py::test_bad_inputs_are_plain_errors": "playground attention: bad inputs",
    "tests/cli/test_finetune_cli.py::test_a_corrupted_row_stops_the_job_with_its_line":
        "finetune: a corrupted JSONL row",
    "tests/cli/test_eval_commands.py::test_rouge_command_bad_inputs": "playground rouge: bad files and options",
    "tests/cli/test_eval_commands.py::test_evaluate_command_bad_inputs": "playground evaluate: bad inputs",
    "tests/core/test_datasets.py::test_wrong_columns_list_what_exists": "data file: wrong column names",
    "tests/core/test_datasets.py::test_zero_rows_and_missing_cells": "data file: zero rows, missing cells",
    "tests/core/test_models.py::test_missing_folder": "model: a folder that does not exist",
    "tests/core/test_models.py::test_corrupted_safetensors": "model: a truncated safetensors file",
    "tests/core/test_models.py::test_pickle_only_refused_unless_allowed": "model: pickle-only weights",
    "tests/core/test_models.py::test_remote_code_refused": "model: needs remote code",
    "tests/core/test_models.py::test_unknown_architecture_refused": "model: unknown architecture",
    "tests/core/test_models.py::test_memory_precheck_refuses_huge_model": "model: too big for the memory",
    "tests/core/test_models.py::test_empty_source_names_are_refused": "model: an empty source name",
    "tests/core/test_device.py::test_cuda_asked_but_absent_is_explained": "device: cuda asked, none present",
    "tests/core/test_evaluation.py::test_bad_adapters": "evaluate: not an adapter / another architecture's",
    "tests/core/test_evaluation.py::test_bad_plans": "evaluate: no rows, no systems, too many, duplicates",
    "tests/core/test_metrics.py::test_bad_inputs_are_plain_errors": "scoring: empty, unequal or non-text lists",
    "tests/core/test_metrics.py::test_unknown_tokenizer": "scoring: an unknown ROUGE tokenizer",
    "tests/core/test_finetune_data.py::test_a_bad_template_is_refused_by_the_job": "job file: a bad template",
    "tests/core/test_finetune_data.py::test_corrupted_rows_are_reported_by_line": "training data: corrupted rows",
    "tests/core/test_finetune_data.py::test_missing_column_names_the_columns_found_and_a_mapping_fixes_it":
        "training data: a missing column",
    "tests/core/test_finetune_data.py::test_non_utf8_file_is_refused_in_plain_words": "training data: not UTF-8",
    "tests/core/test_finetune_data.py::test_no_usable_training_rows_is_a_plain_error":
        "training data: no usable rows",
    "tests/core/test_finetune_data.py::test_config_refuses_unknown_keys_and_wrong_types":
        "job file: unknown keys and wrong types",
    "tests/core/test_finetune_train.py::test_an_existing_output_folder_is_refused_unless_overwrite":
        "finetune: the output folder exists",
    "tests/core/test_finetune_train.py::test_out_of_memory_names_what_to_change": "finetune: out of memory",
    "tests/core/test_summarize.py::test_empty_dialogue": "summarize: an empty dialogue",
    "tests/core/test_tokens.py::test_empty_text_is_refused": "tokens: an empty text",
    "tests/core/test_prompts.py::test_template_without_dialogue_is_refused": "prompt: a template without {dialogue}",
    "tests/core/test_sampling.py::test_broken_logits_give_a_plain_message": "sampling: NaN logits",
    "tests/core/test_stepper.py::test_empty_prompt_and_bad_token": "stepper: empty prompt, bad token",
    "tests/core/test_stepper.py::test_nan_from_a_broken_model_is_a_plain_error": "stepper: NaN from the model",
    "tests/core/test_attention.py::test_attention_that_would_not_fit_is_refused_with_numbers":
        "attention: too big to fit",
    "tests/core/test_attention.py::test_bad_inputs": "attention: bad inputs",
    "tests/core/test_attention.py::test_model_without_attention_outputs_is_explained":
        "attention: a model without attention",
    "tests/core/test_soft_prompt.py::test_encoder_decoder_prompt_tuning_is_refused_plainly":
        "prompt tuning on an encoder-decoder",
    "tests/packaging/test_frozen_app.py::test_missing_model_in_a_frozen_app_says_reinstall_not_pip":
        "frozen app: the bundled model is missing",
}


@pytest.hookimpl(tryfirst=True)  # before -m bad_input deselects the unmarked tests
def pytest_collection_modifyitems(session, config, items):
    present = set()
    for item in items:
        base = item.nodeid.split("[", 1)[0]
        present.add(base)
        if base in EARLIER and item.get_closest_marker("bad_input") is None:
            item.add_marker(pytest.mark.bad_input(EARLIER[base]))
    if config.getoption("--bad-input-table"):
        files = {i.nodeid.split("::", 1)[0] for i in items}
        for nodeid, case in EARLIER.items():  # renamed or removed since: say so in the table
            if nodeid not in present and nodeid.split("::", 1)[0] in files:
                _ROWS[nodeid] = {"case": case, "outcome": "not found", "messages": []}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    """While a marked test runs, keep every plain-words error the app creates (for tests that do not
    record their message themselves)."""
    if item.get_closest_marker("bad_input") is None:
        yield
        return
    from playground.core.base.errors import PlaygroundError

    created: list[str] = []
    real_init = PlaygroundError.__init__

    def init(self, message: str, hint: str = "", *args, **kwargs) -> None:
        real_init(self, message, hint, *args, **kwargs)
        text = f"{message} {hint}".strip()
        if text not in created:
            created.append(text)

    PlaygroundError.__init__ = init
    try:
        yield
    finally:
        PlaygroundError.__init__ = real_init
        row = _ROWS.setdefault(item.nodeid, {"case": _case(item, item.get_closest_marker("bad_input")),
                                             "outcome": "", "messages": []})
        if not row["messages"]:
            row["messages"].extend(created)


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
        why = (problem_with(" | ".join(r["messages"])) if r["outcome"] == "handled"
               else "its test was not found" if r["outcome"] == "not found" else "")
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
    width = min(72, max([len(r["case"]) for r in rows] + [4]))
    tr.write_line(f"{'case':<{width}}  {'outcome':<11}  message")
    for r in rows:
        shown = " | ".join(r["messages"]).replace("\n", " ")
        tr.write_line(f"{r['case'][:width]:<{width}}  {r['outcome'] or '?':<11}  {shown[:220]}")
    for case, why in bad:
        tr.write_line(f"NOT GOOD ENOUGH: {case}: {why}", red=True)
