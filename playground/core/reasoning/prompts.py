"""The prompts of the five strategies, one table of facts, and the worked exemplars.

The exemplars are written for this module and are not in the bundled set (so few-shot prompting never
shows the model the problem it is graded on). With a chat template (the app's default,
``core.prompting.prompts.USE_CHAT_TEMPLATE``) the exemplars are earlier user / assistant turns; the
assistant's turn may be *opened* with text the model then continues ("Let's think step by step.",
an opened code fence): the zero-shot CoT paper puts its trigger at the start of the answer, not in the
question.
"""

from __future__ import annotations

from dataclasses import dataclass

ANSWER_FORMAT = "Finish with the sentence 'The answer is N.' where N is a number."

EXEMPLARS = (
    ("A shop has 23 apples. It sells 9 and then receives a box of 12. How many apples does it have now?",
     "The shop starts with 23 apples. After selling 9 it has 23 - 9 = 14. The box adds 12, so 14 + 12 = 26. "
     "The answer is 26.",
     "start = 23\nsold = 9\nreceived = 12\nanswer = start - sold + received", 26),
    ("Each ticket costs 4 dollars. Kim buys tickets for herself and 5 friends. How many dollars does she pay?",
     "Kim buys 1 + 5 = 6 tickets. Each costs 4 dollars, so 6 * 4 = 24 dollars. The answer is 24.",
     "tickets = 1 + 5\nprice = 4\nanswer = tickets * price", 24),
    ("A rope 45 metres long is cut into pieces of 5 metres. Two pieces are lost. How many pieces are left?",
     "45 / 5 = 9 pieces are cut. Two are lost, so 9 - 2 = 7 are left. The answer is 7.",
     "pieces = 45 / 5\nlost = 2\nanswer = pieces - lost", 7),
)
"""(question, worked chain-of-thought answer, PAL program, gold): original, and checked by the tests."""


@dataclass(frozen=True)
class Strategy:
    """One strategy's facts: its key, label, the sentence that explains it, and how it prompts."""

    key: str
    label: str
    sentence: str
    instruction: str       # put before the question in the user turn
    opening: str = ""      # the assistant turn starts with this (the model continues it)
    shots: bool = False    # worked exemplars as earlier turns
    program: bool = False  # the reply is a program for the sandbox
    sampled: bool = False  # k sampled paths, voted
    budget: str = "reasoning"  # which token budget: "direct", "reasoning" or "program"


STRATEGIES: dict[str, Strategy] = {s.key: s for s in (
    Strategy("direct", "Direct", "The answer alone, with no working: the reply opens with \"The answer is\" and "
             "the model has to give the number at once.",
             "Answer with the number only.", opening="The answer is", budget="direct"),
    Strategy("cot", "Chain-of-thought (zero-shot)",
             "The reply opens with \"Let's think step by step.\", so the model writes its steps before the "
             "number and the answer is conditioned on them (Kojima et al., 2022).",
             f"Solve the problem. {ANSWER_FORMAT}", opening="Let's think step by step."),
    Strategy("fewshot", "Chain-of-thought (few-shot)",
             "Three worked examples come first; the model imitates their steps and their closing sentence "
             "(Wei et al., 2022).",
             f"Solve the problem. {ANSWER_FORMAT}", shots=True),
    Strategy("sc", "Self-consistency",
             "k few-shot chain-of-thought paths are sampled at a temperature above 0 and their answers voted: "
             "the most common answer wins (Wang et al., 2023).",
             f"Solve the problem. {ANSWER_FORMAT}", shots=True, sampled=True),
    Strategy("pal", "PAL (program-aided)",
             "The model writes a short Python program that stores the result in 'answer'; the app's sandbox runs "
             "it, so the arithmetic is done by the computer, not the model (Gao et al., 2023).",
             "Write a short Python program that computes the answer to the problem and stores it in a variable "
             "named answer. Use only numbers and arithmetic; no imports.",
             opening="```python\n", shots=True, program=True, budget="program"),
)}
"""The strategies in the order they are shown."""

CLI_NAMES = {"direct": "direct", "cot": "cot", "fewshot": "fewshot", "sc": "sc", "pal": "pal"}


def _user(strategy: Strategy, question: str) -> str:
    return f"{strategy.instruction}\n\nProblem: {question.strip()}"


def _shot_reply(strategy: Strategy, reasoning: str, program: str) -> str:
    if strategy.program:
        return f"```python\n{program}\n```"
    return reasoning


def messages_for(strategy: Strategy, question: str) -> list[dict]:
    """The chat turns: the exemplars (when the strategy uses them), then the question."""
    turns: list[dict] = []
    if strategy.shots:
        for q, reasoning, program, _ in EXEMPLARS:
            turns += [{"role": "user", "content": _user(strategy, q)},
                      {"role": "assistant", "content": _shot_reply(strategy, reasoning, program)}]
    turns.append({"role": "user", "content": _user(strategy, question)})
    return turns


def plain_text(turns: list[dict]) -> str:
    """The turns as plain text, for a model without a chat template (or with the template off)."""
    lines = []
    for turn in turns:
        lines.append(("Q: " if turn["role"] == "user" else "A: ") + turn["content"])
    return "\n\n".join(lines) + "\n\nA: "


def build_prompt(tokenizer, strategy: Strategy, question: str, use_chat_template: bool = True,
                 encoder_decoder: bool = False) -> str:
    """The prompt exactly as the model reads it, with the assistant's opening (if any) at its end."""
    turns = messages_for(strategy, question)
    if use_chat_template and getattr(tokenizer, "chat_template", None) and not encoder_decoder:
        text = tokenizer.apply_chat_template(turns, tokenize=False, add_generation_prompt=True)
    else:
        text = plain_text(turns)
    return text + strategy.opening
