"""The strategies end to end on scripted replies (so the grading is known), on the tiny Llama (the real
generation path), and their oracles: answer extraction, the vote, PAL through the sandbox."""

import pytest

from playground.core.base.errors import InputError
from playground.core.base.handle import TaskHandle
from playground.core.decoding.generation import TokenStep, generate_text
from playground.core.reasoning.answers import extract_answer, extract_program, is_right, vote
from playground.core.reasoning.evaluation import run_set
from playground.core.reasoning.problems import Problem, own_problem
from playground.core.reasoning.prompts import STRATEGIES
from playground.core.reasoning.settings import ReasoningSettings
from playground.core.reasoning.strategies import compare, run_strategy, strategy_prompt

PROBLEM = Problem(id="w01", question="Mira has 14 shells. She finds 9 more and gives 5 away. How many now?",
                  answer=18.0)


@pytest.mark.parametrize("text, expected", [
    ("The answer is 18.", 18), ("14 + 9 = 23, 23 - 5 = 18. The answer is 18. Then 7.", 18),
    ("so 23 - 5 = 18", 18), ("It costs $2.80.", 2.8), ("The answer is 1,200 lanterns", 1200),
    ("Answer: -4", -4), ("answer = 12.5", 12.5), ("no number here", None), ("", None),
    ("The answer is **42**.", 42), ("first 3 then the answer is 7 and later 9", 7),
])
def test_extraction_takes_the_stated_answer_else_the_last_number(text, expected):
    assert extract_answer(text) == expected


def test_grading_tolerance_and_ungraded():
    assert is_right(18.0, 18) and is_right(0.70000001, 0.7) and is_right(2.804, 2.8)
    assert not is_right(19, 18) and not is_right(None, 18) and not is_right(2.9, 2.8)
    assert is_right(5, None) is None


def test_vote_counts_winner_ties_and_abstentions():
    v = vote([18, 18.0, 23, None, 23, 5])
    assert v.counts == ((18.0, 2), (23.0, 2), (5.0, 1)) and v.abstained == 1
    assert v.winner == 18.0 and v.tied  # a tie goes to the answer seen first
    assert v.share == pytest.approx(2 / 6)
    assert "no number ×1" in v.describe()
    assert vote([None, None]).winner is None
    assert vote([7, 7.001, 8]).counts[0] == (7.0, 2)  # equal within the tolerance vote together


def test_program_extraction():
    assert extract_program("```python\nanswer = 3\n```\nThe answer is 3") == "answer = 3"
    assert extract_program("answer = 3\nprint(answer)\n```\nchatter") == "answer = 3\nprint(answer)"
    assert extract_program("Here it is:\n```py\nx = 2\n```") == "x = 2"


REPLIES = {
    "direct": " 23.\n",
    "cot": " 14 + 9 = 23. 23 - 5 = 18. The answer is 18. And then more text that is never generated",
    "fewshot": "She has 14 + 9 - 5 = 18 shells. The answer is 18.\n",
    "pal": "shells = 14 + 9 - 5\nanswer = shells\n```\nextra",
}
SC_REPLIES = ["The answer is 18.", "The answer is 23.", "The answer is 18.", "I do not know.", "The answer is 18."]


@pytest.fixture
def scripted(monkeypatch):
    """Replace the shared generation with scripted replies, one character per token (the prompt says which)."""
    calls = []

    def fake_stream(loaded, prompt, settings, cancelled=None):
        strategy = ("pal" if prompt.endswith("```python\n") else "cot" if prompt.endswith("step by step.")
                    else "direct" if prompt.endswith("The answer is") else "sc" if settings.do_sample else "fewshot")
        text = SC_REPLIES[settings.seed % len(SC_REPLIES)] if strategy == "sc" else REPLIES[strategy]
        calls.append((strategy, settings))
        for i, ch in enumerate(text):
            if cancelled is not None and cancelled():
                return
            yield TokenStep(index=i, token_id=0, text=ch, prob=1.0)

    monkeypatch.setattr("playground.core.decoding.generation.stream_generate", fake_stream)
    return calls


def test_every_strategy_on_scripted_replies(scripted, tiny_llama):
    results = {r.strategy: r for r in compare(tiny_llama, PROBLEM, settings=ReasoningSettings(k=5))}
    assert list(results) == list(STRATEGIES)
    assert results["direct"].answer == 23 and results["direct"].right is False
    cot = results["cot"]
    assert cot.answer == 18 and cot.right and cot.text.endswith("The answer is 18. ")  # stopped once stated
    assert cot.tokens == len(cot.text)
    assert results["fewshot"].right
    sc = results["sc"]
    assert [p.seed for p in sc.paths] == [0, 1, 2, 3, 4] and len(sc.paths) == 5
    assert sc.vote.counts == ((18.0, 3), (23.0, 1)) and sc.vote.abstained == 1 and sc.right
    assert sc.tokens == sum(p.tokens for p in sc.paths)
    assert all(s.do_sample and s.temperature == 0.7 for name, s in scripted if name == "sc")
    pal = results["pal"]
    assert pal.program == "shells = 14 + 9 - 5\nanswer = shells" and pal.sandbox.ok and pal.answer == 18 and pal.right
    assert pal.as_dict()["sandbox"].startswith("Result: 18")


def test_a_refused_program_is_wrong_with_its_reason(scripted, tiny_llama, monkeypatch):
    monkeypatch.setitem(REPLIES, "pal", "import os\nanswer = os.getpid()\n```")
    result = run_strategy(tiny_llama, PROBLEM, "pal")
    assert result.sandbox.refused.startswith("imports are not allowed") and result.answer is None
    assert result.right is False


def test_the_set_scores_each_strategy_with_an_interval(scripted, tiny_llama):
    problems = [PROBLEM, Problem(id="x", question="What is 20 + 3?", answer=23.0)]
    report = run_set(tiny_llama, problems, ["direct", "cot", "pal"], ReasoningSettings())
    scores = {k: s for k, s in report.scores.items()}
    assert (scores["direct"].right, scores["cot"].right, scores["pal"].right) == (1, 1, 1)
    assert scores["cot"].graded == 2 and scores["cot"].accuracy == 0.5
    lo, hi = scores["cot"].interval
    assert 0 < lo < 0.5 < hi < 1
    assert "Chain-of-thought (zero-shot)" in report.table() and report.done == 2 and not report.stopped


def test_stop_ends_the_set_with_what_was_finished(scripted, tiny_llama):
    handle = TaskHandle()
    seen = []

    def after(report):
        seen.append(report.done)
        handle.request_stop()

    report = run_set(tiny_llama, [PROBLEM] * 4, ["direct"], ReasoningSettings(), handle, on_problem=after)
    assert report.done == 1 and report.stopped and seen == [1]


@pytest.mark.parametrize("k", [0, 1000, -1])
def test_k_out_of_range_is_refused_in_plain_words(tiny_llama, k):
    with pytest.raises(InputError, match="between 1 and 40 paths"):
        run_strategy(tiny_llama, PROBLEM, "sc", ReasoningSettings(k=k))


def test_bad_input(tiny_llama):
    with pytest.raises(InputError, match="question is empty"):
        compare(tiny_llama, Problem(id="e", question="  "))
    with pytest.raises(InputError, match="Unknown strategy"):
        compare(tiny_llama, PROBLEM, ["magic"])
    with pytest.raises(InputError, match="temperature"):
        ReasoningSettings(temperature=0).validate()


def test_the_real_generation_path_on_the_tiny_llama(tiny_llama):
    """The greedy strategies' replies are exactly what the app's generation gives for their prompt."""
    settings = ReasoningSettings(direct_tokens=6, reasoning_tokens=8, program_tokens=8, k=2)
    problem = own_problem("What is 2 + 3?")
    for key in ("direct", "cot"):
        result = run_strategy(tiny_llama, problem, key, settings)
        prompt = strategy_prompt(tiny_llama, key, problem.question, settings)
        assert result.prompt == prompt and result.right is None
        assert 1 <= result.tokens <= settings.budget(STRATEGIES[key].budget)
        from playground.core.reasoning.strategies import _gen_settings

        full = generate_text(tiny_llama, prompt, _gen_settings(settings, STRATEGIES[key]))
        assert full.startswith(result.text)
    with pytest.raises(InputError, match="context window is 256 tokens"):  # the worked examples do not fit
        run_strategy(tiny_llama, problem, "sc", settings)


def test_prompts_follow_the_chat_template_default(tiny_llama):
    cot = strategy_prompt(tiny_llama, "cot", "What is 2 + 3?", ReasoningSettings())
    assert cot.endswith("Let's think step by step.") and "<|im_start|>assistant" in cot
    plain = strategy_prompt(tiny_llama, "fewshot", "What is 2 + 3?", ReasoningSettings(use_chat_template=False))
    assert plain.startswith("Q: ") and plain.count("Q: ") == 4 and plain.count("A: ") == 4 and plain.endswith("A: ")
