"""The Structured output and ReAct notebooks rerun offline (transformers, xgrammar, jsonschema only) and give
what the app gave: the same free and constrained JSON, the same tool-name probabilities."""

from __future__ import annotations

import pytest

from playground.core.labs.notebook import build_notebook
from tests.core.test_notebook import model_ref, run_script


def test_structured_and_react_notebook_reproduce_the_app(tiny_llama, tiny_llama_dir, tmp_path):
    from playground.core.reasoning.constrained import decode_structured, structured_prompt
    from playground.core.reasoning.writer import ModelWriter

    q = "What is 13 times 7?"
    prompt = structured_prompt(tiny_llama, q)
    free, constrained = (decode_structured(tiny_llama, prompt, constrained=c, record=False) for c in (False, True))
    prefix = "Question: what is 2 + 2?\nThought: I add.\nAction:"
    shares = ModelWriter(tiny_llama).tool_shares(prefix, ["calculator", "search", "finish"])
    experiments = [
        {"kind": "structured", "question": q, "free_text": free.text, "constrained_text": constrained.text},
        {"kind": "react", "question": "what is 2 + 2?", "constrain": False, "status": "running",
         "tools": ["calculator", "search", "finish"], "prefixes": [prefix],
         "steps": [{"thought": "I add.", "action": "calculator[2 + 2]", "observation": "4", "problem": None}]},
    ]
    got = run_script(build_notebook(model_ref(tiny_llama, tiny_llama_dir), experiments), tmp_path)
    assert got["structured"]["constrained"] == {"text": constrained.text, "parsed": True}
    assert got["structured"]["free"] == {"text": free.text, "parsed": free.parsed}
    assert got["react"][0] == pytest.approx(shares, rel=1e-3)
