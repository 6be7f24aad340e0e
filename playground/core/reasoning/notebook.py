"""The notebook section of a strategy comparison (kind ``"reasoning"``): each strategy's prompt exactly as the
model read it, generated again with transformers' ``generate`` (greedy; self-consistency sampled with the
same seeds, which transformers draws in another order than the app, so its paths may differ), the reply cut
where the app stopped it, the number read out the same way, the vote counted and the PAL program run in
the app's sandbox when LLM Playground is installed (it is only printed otherwise: never ``exec``). The
experiment dict::

    {"kind": "reasoning", "question": str, "gold": float | None, "settings": ReasoningSettings.to_dict(),
     "strategies": [{"key", "label", "prompt", "max_new_tokens", "sampled": bool, "program": bool}],
     "app": {key: {"answer": float | None, "text": str, "vote": [[answer, n]], "program": str}}}
"""

from __future__ import annotations

from playground.core.base.errors import InputError


def reasoning_experiment(problem, results, settings) -> dict:
    """The experiment dict from the app's objects (a Problem, StrategyResults, ReasoningSettings)."""
    from playground.core.reasoning.prompts import STRATEGIES

    strategies, app = [], {}
    for r in results:
        spec = STRATEGIES[r.strategy]
        strategies.append({"key": r.strategy, "label": spec.label, "prompt": r.prompt,
                           "max_new_tokens": settings.budget(spec.budget), "sampled": spec.sampled,
                           "program": spec.program})
        app[r.strategy] = {"answer": r.answer, "text": r.text, "program": r.program,
                           "vote": [[a, n] for a, n in r.vote.counts] if r.vote else []}
    return {"kind": "reasoning", "question": problem.question, "gold": problem.answer,
            "settings": settings.to_dict(), "strategies": strategies, "app": app}


def reasoning_cells(p: dict) -> list[tuple[str, str]]:
    from playground.core.reasoning.answers import NUMBER

    strategies = p.get("strategies") or []
    if not strategies:
        raise InputError("There is no strategy comparison to export yet.",
                         "Press Compare strategies in Build → Reasoning first.")
    s = p.get("settings", {})
    return [("markdown", "## Reasoning strategies side by side\n\nThe same problem under each strategy: the answer "
             "alone, chain-of-thought (zero-shot and with worked examples), self-consistency (several sampled "
             "paths, answers voted) and PAL (the model writes a program, a sandbox runs it). The number is read "
             "after the last 'The answer is', else as the last number of the reply."),
            ("code", f"""import re
from collections import Counter

question, gold = {p.get("question", "")!r}, {p.get("gold")!r}
strategies = {strategies!r}
K, TEMPERATURE, SEED = {int(s.get("k", 5))}, {float(s.get("temperature", 0.7))}, {int(s.get("seed", 0))}
NUMBER = {NUMBER!r}


def to_number(text):
    text = text.replace("−", "-").replace("$", "").replace(" ", "").replace(",", "").rstrip(".")
    try:
        return float(text)
    except ValueError:
        return None


def extract_answer(text):
    stated = re.findall(r"answer\\s*(?:is|:|=)\\s*[:\\s]*\\**\\s*(" + NUMBER + ")", text, re.IGNORECASE)
    found = stated or re.findall(NUMBER, text)
    return to_number(found[-1]) if found else None


def cut(text, program):
    \"\"\"Where the app stopped the reply: at the closing code fence, or once 'The answer is N' was written.\"\"\"
    if program:
        return text.split("```")[0].rstrip()
    m = re.search(r"answer\\s*(?:is|:|=)\\s*\\**\\s*(?:" + NUMBER + r")\\**", text, re.IGNORECASE)
    return text[: m.end()] if m else text


try:  # the app's sandbox: the program is checked against a whitelist, never exec'd
    from playground.core.reasoning.sandbox import run_program
except ImportError:
    run_program = None

results["reasoning"] = {{}}
for st in strategies:
    paths = K if st["sampled"] else 1
    answers, texts = [], []
    for i in range(paths):
        if st["sampled"]:
            torch.manual_seed(SEED + i)
            kwargs = dict(do_sample=True, temperature=TEMPERATURE, top_k=0, top_p=1.0)
        else:
            kwargs = dict(do_sample=False, temperature=None, top_k=None, top_p=None)
        text = cut(generate(st["prompt"], max_new_tokens=st["max_new_tokens"], **kwargs), st["program"])
        texts.append(text)
        if st["program"]:
            ran = run_program(text) if run_program else None
            answers.append(float(ran.value) if ran is not None and ran.ok and isinstance(ran.value, (int, float)) else None)
            print(f"--- {{st['label']}}\\n{{text}}\\n" + (ran.describe() if ran else "(install LLM Playground to run it in its sandbox)"))
        else:
            answers.append(extract_answer(text))
    votes = Counter(round(a, 2) for a in answers if a is not None)
    answer = votes.most_common(1)[0][0] if votes else None
    right = None if gold is None else answer is not None and abs(answer - gold) <= max(0.01, 1e-6 * abs(gold))
    results["reasoning"][st["key"]] = {{"answer": answer, "right": right, "vote": dict(votes)}}
    if not st["program"]:
        print(f"--- {{st['label']}}: {{answer}} ({{'ungraded' if right is None else 'right' if right else 'wrong'}})")
        print(texts[0] if paths == 1 else f"vote: {{dict(votes)}}")""")]
