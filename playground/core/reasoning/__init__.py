"""Reasoning strategies side by side (issue 31 §1): the Qt-free core of the Build tab's Reasoning section.

    problems = bundled_problems()                          # list[Problem] (resources/reasoning/problems.jsonl)
    problem = own_problem("What is 6 x 7?", gold="42")     # a typed question, graded when a gold is given
    results = compare(loaded, problem, ["direct", "cot", "fewshot", "sc", "pal"], ReasoningSettings(), handle)
    report = run_set(loaded, problems[:10], None, ReasoningSettings(), handle)   # SetReport: accuracy ± 95%

Modules: ``problems`` (the set, its loader, bad problems refused), ``prompts`` (the strategies' table of facts
and the worked exemplars), ``settings`` (``ReasoningSettings``: k, temperature, seed, token budgets, sandbox
time limit; ``validate`` refuses k = 0 or 1000 in plain words), ``answers`` (``extract_answer``: the number after
"The answer is", else the last number; ``is_right`` with a tolerance; ``vote``; ``extract_program``),
``strategies`` (``run_strategy`` / ``compare`` through the app's one generation path), ``evaluation``
(``run_set``: accuracy per strategy with a Wilson interval, tokens and seconds per problem),
``sandbox`` / ``sandbox_rules`` (the PAL sandbox: ``run_program(code)`` and ``evaluate_expression(text)``, a
whitelisted Python subset interpreted node by node, refusals with their reason), ``notebook`` (the
``"reasoning"`` notebook experiment).
"""
