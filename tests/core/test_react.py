"""The ReAct loop (issue 31 §3), driven by a scripted fake model so every step is known in advance, and the
real model writer on a tiny random model (the tool shares against a plain forward pass, the constrained
Action line always readable)."""

from __future__ import annotations

import threading

import pytest
import torch

from playground.core.base.errors import InputError
from playground.core.reasoning.react import FINISHED, LIMIT, RUNNING, STUCK, ReactRun, parse_action
from playground.core.reasoning.tools import Tool, default_tools, run_tool
from playground.core.reasoning.writer import ModelWriter, action_pattern

SHARES = {"calculator": 0.6, "search": 0.3, "finish": 0.05}


class ScriptedWriter:
    """A fake model: ``write`` returns the next scripted text; it records every prefix it was given."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = list(texts)
        self.prefixes: list[str] = []

    def write(self, prefix, stop, max_tokens, pattern=None):
        self.prefixes.append(prefix)
        return self.texts.pop(0)

    def tool_shares(self, prefix, names):
        return {n: SHARES.get(n, 0.0) for n in names}


def fake_search(query: str) -> str:
    return "The Kestrany ferry costs 23 crowns for an adult return." if "ferry" in query else "Nothing found."


def make_run(texts, **kw):
    return ReactRun("How much do 2 adults pay for the ferry?", ScriptedWriter(texts),
                    default_tools(fake_search, timeout_s=kw.pop("timeout_s", 5.0)), **kw)


def test_a_full_trace_search_calculator_finish():
    run = make_run([" I should look up the fare.\nAction: search[ferry fare adult]",
                    " 23 each, so 2 * 23.\nAction: calculator[2 * 23]",
                    " I know it.\nAction: finish[46]"])
    first = run.next_step()
    assert (first.tool, first.tool_input) == ("search", "ferry fare adult")
    assert first.observation.startswith("The Kestrany ferry costs 23")
    assert first.wanted == ("calculator", pytest.approx(0.6 / 0.95))
    assert run.status == RUNNING
    second = run.next_step()
    assert second.observation == "46"  # the sandbox computed it
    # the model saw the real Observation in its next prefix
    assert "Observation: The Kestrany ferry costs 23" in run.writer.prefixes[-1]
    run.next_step()
    assert run.status == FINISHED and run.answer == "46"
    assert "Status: finished — answer: 46" in run.transcript()
    with pytest.raises(InputError):
        run.next_step()


def test_no_action_line_is_shown_plainly_with_the_text_written():
    run = make_run([" I think the answer is 46 crowns."])
    step = run.next_step()
    assert run.status == STUCK and step.problem == "the model wrote no Action line"
    assert step.raw == " I think the answer is 46 crowns."
    assert "the model wrote no Action line" in run.transcript()


def test_an_unreadable_action_line_is_a_problem_not_a_crash():
    run = make_run([" Hmm.\nAction: I will now compute"])
    step = run.next_step()
    assert run.status == STUCK and "not tool[input]" in step.problem


def test_tool_errors_are_observations():
    run = make_run([" Compute.\nAction: calculator[__import__('os')]", " Oops.\nAction: teleport[home]",
                    " Oops.\nAction: calculator[1 / 0]"])
    refused = run.next_step()
    assert refused.observation.startswith("Error:") and "refused" in refused.observation and not refused.tool_ok
    unknown = run.next_step()
    assert "no tool called 'teleport'" in unknown.observation
    zero = run.next_step()
    assert zero.observation.startswith("Error:")
    assert run.status == RUNNING


def test_a_tool_that_hangs_times_out_as_an_observation():
    release = threading.Event()
    hanging = Tool("search", "hangs", lambda text: release.wait(30) and "late", timeout_s=0.05)
    result = run_tool(hanging, "anything")
    release.set()
    assert result.timed_out and not result.ok
    assert result.text == "Error: the search tool did not answer within 0.05 s (timed out)."


def test_the_step_limit_ends_the_trace():
    run = make_run([" a\nAction: calculator[1 + 1]"] * 3, max_steps=2)
    list(run.run_to_end())
    assert run.status == LIMIT and len(run.steps) == 2


def test_edit_an_action_and_continue_keeps_the_old_branch():
    run = make_run([" fare?\nAction: search[ferry]", " so\nAction: calculator[3 * 23]", " done\nAction: finish[46]"])
    run.next_step()
    run.next_step()
    edited = run.edit_action(1, "calculator[2 * 23]")
    assert edited.edited == "action" and edited.observation == "46" and edited.thought == "so"
    assert len(run.steps) == 2 and run.branches[0][0].tool_input == "3 * 23"
    run.next_step()
    assert "Action: calculator[2 * 23]\nObservation: 46" in run.writer.prefixes[-1]
    assert run.status == FINISHED and run.answer == "46"


def test_edit_a_thought_and_the_model_writes_the_action_after_it():
    run = make_run([" I will guess.\nAction: finish[12]", " search[ferry adult fare]"])
    run.next_step()
    assert run.status == FINISHED
    step = run.edit_thought(0, "I should look the fare up first.")
    assert run.writer.prefixes[-1].endswith("Thought: I should look the fare up first.\nAction:")
    assert step.edited == "thought" and step.tool == "search" and run.status == RUNNING


def test_bad_input_refused_plainly():
    with pytest.raises(InputError):
        ReactRun("   ", ScriptedWriter([]), default_tools(fake_search))
    with pytest.raises(InputError):
        ReactRun("q", ScriptedWriter([]), default_tools(fake_search), max_steps=0)
    run = make_run([" x\nAction: calculator[1+1]"])
    run.next_step()
    with pytest.raises(InputError):
        run.edit_action(0, "no brackets here at all")
    with pytest.raises(InputError):
        run.edit_action(5, "calculator[1]")
    assert parse_action(" calculator( 2 + 2 )", ["calculator"]) == ("calculator", "2 + 2")


def test_tool_shares_equal_a_plain_forward_pass(tiny_llama):
    writer = ModelWriter(tiny_llama)
    prefix = "Question: what is 2 + 2?\nThought: I add.\nAction:"
    shares = writer.tool_shares(prefix, ["calculator", "search", "finish"])
    tok = tiny_llama.tokenizer
    for name, share in shares.items():
        p_ids = tok(prefix, add_special_tokens=False).input_ids
        n_ids = tok.encode(" " + name, add_special_tokens=False)
        with torch.no_grad():
            logits = tiny_llama.model(torch.tensor([p_ids + n_ids])).logits[0].float()
        logp = torch.log_softmax(logits, -1)
        expected = sum(float(logp[len(p_ids) - 1 + j, t]) for j, t in enumerate(n_ids))
        assert share == pytest.approx(float(torch.exp(torch.tensor(expected))), rel=1e-3)


def test_a_constrained_action_line_is_always_a_valid_tool_call(tiny_llama):
    """A random model writes no format of its own; under the grammar every Action line is readable."""
    from dataclasses import replace

    # short tool help: the tiny model's context window is 256 tokens
    tools = {k: replace(t, help=k) for k, t in default_tools(fake_search).items()}
    free = ReactRun("What is 2 + 2?", ModelWriter(tiny_llama), tools, max_steps=1, constrain=False)
    free.next_step()
    assert free.status == STUCK
    run = ReactRun("What is 2 + 2?", ModelWriter(tiny_llama), tools, max_steps=1, constrain=True)
    list(run.run_to_end())
    assert run.status in (FINISHED, LIMIT) and all(s.problem is None and s.tool in tools for s in run.steps)
    import re

    assert all(re.fullmatch(action_pattern(tools), " " + s.action_text) for s in run.steps)


def test_a_tools_one_off_preparation_runs_before_its_timeout():
    """The search builds its index on first use: that is not the tool hanging (prepared first, untimed)."""
    calls = []

    class Prepared:
        def prepare(self):
            calls.append("prepare")

        def __call__(self, text):
            calls.append(text)
            return "ok"

    assert run_tool(Tool("search", "x", Prepared(), timeout_s=5), "q").text == "ok" and calls == ["prepare", "q"]

    class Broken(Prepared):
        def prepare(self):
            raise OSError("the index folder cannot be written")

    result = run_tool(Tool("search", "x", Broken(), timeout_s=5), "q")
    assert not result.ok and result.text == "Error: the index folder cannot be written"
