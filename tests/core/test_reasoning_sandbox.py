"""The PAL sandbox: escapes refused with their reason before running; normal programs give the right value."""

import math

import pytest

from playground.core.base.errors import InputError
from playground.core.reasoning.sandbox import evaluate_expression, run_program

ESCAPES = {
    "import": ("import os\nanswer = 1", "imports are not allowed"),
    "__import__": ("answer = __import__('os')", "double underscores"),
    "dunder name": ("x = __builtins__", "double underscores"),
    "attribute": ("answer = (1).real", "attribute access"),
    "attribute chain": ("answer = ().__class__.__bases__", "attribute access"),
    "open": ("answer = open('/etc/passwd')", "'open' is not allowed"),
    "eval": ("answer = eval('1+1')", "'eval' is not allowed"),
    "unknown call": ("answer = exit()", "calling 'exit' is not allowed"),
    "huge exponent": ("answer = 2**10**10", "too large"),
    "huge exponent 2": ("answer = 9 ** 99999", "too large"),
    "deep recursion": ("def f():\n    return f()\nanswer = f()", "recursion is not allowed"),
    "recursion with args": ("def f(n):\n    return f(n + 1)\nanswer = f(0)", "recursion is not allowed"),
    "10 MB string": ("s = '" + "a" * 10_000_000 + "'", "the limit is"),
    "10 MB string by repeat": ("s = 'a' * 10_000_000", "too large"),
    "while True": ("while True:\n    pass", "while loops are not allowed"),
    "lambda": ("f = lambda: 1", "lambda is not allowed"),
    "comprehension": ("answer = sum([i for i in range(10)])", "comprehensions are not allowed"),
    "subscript": ("answer = [1, 2][0]", "indexing"),
    "for over list": ("for i in [1, 2]:\n    pass", "range(n)"),
    "nested too deep": ("answer = " + "-" * 200 + "1", "nested"),
    "not python": ("answer = = 3", "not valid Python"),
    "try": ("try:\n    x = 1\nexcept Exception:\n    pass", "try/except"),
    "with": ("with x:\n    pass", "'with' blocks"),
    "caret": ("answer = 2 ^ 3", "write ** for powers"),
}


@pytest.mark.parametrize("name", sorted(ESCAPES))
def test_escape_refused_with_reason_never_run(name):
    code, reason = ESCAPES[name]
    result = run_program(code)
    assert result.refused is not None, (name, result)
    assert reason in result.refused, (name, result.refused)
    assert result.steps == 0 and result.value is None  # never ran
    assert result.describe().startswith("Refused, never run:")


def test_runtime_limits_stop_the_run():
    slow = run_program("x = 0\nfor i in range(10000):\n    for j in range(10000):\n        x += 1", max_steps=5_000)
    assert slow.refused is None and "step limit" in slow.error
    timed = run_program("x = 0\nfor i in range(10000):\n    for j in range(10000):\n        x += 1",
                        timeout_s=0.01, max_steps=10**9)
    assert "time limit" in timed.error
    grows = run_program("x = 3\nfor i in range(100):\n    x = x * x")
    assert "bits" in grows.error
    text = run_program("s = 'ab'\nfor i in range(20):\n    s = s + s")
    assert "string grew" in text.error
    big_range = run_program("n = 10 ** 6\nfor i in range(n):\n    pass")
    assert "over the limit" in big_range.error
    assert run_program("answer = 1 / 0").error == "division by zero"
    assert "before it is given a value" in run_program("answer = y + 1").error


PROGRAMS = [
    ("answer = 3 + 4 * 2", 11),
    ("apples = 12\neaten = 5\nanswer = apples - eaten", 7),
    ("price = 2.5\nanswer = round(price * 3, 2)", 7.5),
    ("total = 0\nfor i in range(1, 11):\n    total += i\nanswer = total", 55),
    ("a, b = 6, 7\nresult = a * b", 42),
    ("x = 10\nif x > 5:\n    answer = 'big'\nelse:\n    answer = 'small'", "big"),
    ("def solution():\n    eggs = 16 - 3 - 4\n    return eggs * 2\nprint(solution())", 18),
    # what a small model writes: a def with arguments, called from the top level
    ("def add_five(num):\n    return num + 5\nresult = add_five(6 * 8)\nprint(result)", 53),
    ("x = 2\ndef f(a, b):\n    x = a * b\n    return x + 1\ny = f(3, 4)\nanswer = y + x", 15),
    ("def solution():\n    return sqrt(81) + floor(2.7) + ceil(0.2)\n\nsolution()", 12.0),
    ("answer = max(3, 9, 4) - min([5, 2, 8]) + abs(-1) + sum([1, 2, 3])", 14),
    ("speed = 60\nhours = 2.5\nprint(speed * hours)", 150.0),
    ("n = 0\nfor i in range(100):\n    if i % 7 == 0:\n        continue\n    if i > 20:\n        break\n    n += 1\nanswer = n", 18),
    ("answer = 2 ** 10 + pow(3, 2) + 7 // 2 + 7 % 3", 1024 + 9 + 3 + 1),
    ("answer = 1 if 3 < 4 <= 4 and not False else 0", 1),
]


@pytest.mark.parametrize("code, expected", PROGRAMS)
def test_normal_programs_give_the_value_python_gives(code, expected):
    result = run_program(code)
    assert result.ok, result.describe()
    assert result.value == expected
    # oracle: plain Python on the same (trusted, test-written) program agrees
    scope = {"sqrt": math.sqrt, "floor": math.floor, "ceil": math.ceil, "print": lambda *a: None}
    exec(code, scope)  # noqa: S102 - the test's own programs only
    for name in ("answer", "result"):
        if name in scope:
            assert scope[name] == result.value


def test_evaluate_expression():
    assert evaluate_expression("12 * (3 + 4)") == 84.0
    assert evaluate_expression(" sqrt(16) / 2 ") == 2.0
    assert evaluate_expression("`1.5 * 4`") == 6.0
    for bad, words in [("", "empty"), ("__import__('os')", "refused"), ("1/0", "division by zero"),
                       ("'a'", "not a number"), ("x = 3", "refused"), ("2**10**10", "refused")]:
        with pytest.raises(InputError, match=words):
            evaluate_expression(bad)
