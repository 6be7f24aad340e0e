"""The PAL sandbox: a small Python subset, checked first, then interpreted node by node.

A program-aided answer (PAL) is a short program the model wrote. It never reaches ``exec`` or a
subprocess: it is parsed with :mod:`ast`, checked against the whitelist in :mod:`.sandbox_rules`
**before anything runs** (a program outside it is *refused* with the reason), then interpreted
here by walking the tree. The interpreter counts each node it evaluates and looks at the clock
every few hundred steps, so a program that runs too long is stopped between steps (the time limit
is the step counter plus the clock; no thread or process is left behind).

The answer is the variable ``answer`` (or ``result``) if the program set one, else what
``solution()`` returned, else the last value printed, else the last bare expression.
"""

from __future__ import annotations

import ast
import math
import time
from dataclasses import dataclass, field

from playground.core.base.errors import InputError
from playground.core.reasoning.sandbox_rules import (
    _COMPARE, DEFAULT_LEN, DEFAULT_STEPS, FUNCTIONS, MAX_LIST, MAX_RANGE, Break_, Checker,
    Continue_, Refuse, Return_, Stop, binary, check_size, power,
)

ANSWER_NAMES = ("answer", "result", "ans", "total")


@dataclass
class SandboxResult:
    """What running a program gave.

    ``value`` is the answer (see the module docstring). ``refused`` is the plain reason when the
    program is outside the whitelist (it never ran); ``error`` is why a run stopped (division by
    zero, a limit met). Output is not captured: ``print(x)`` only records ``x`` in ``printed``.
    """

    value: object = None
    error: str | None = None
    refused: str | None = None
    steps: int = 0
    seconds: float = 0.0
    variables: dict = field(default_factory=dict)
    printed: list = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.refused is None and self.error is None

    def describe(self) -> str:
        """One line for a person: the result, or why it was refused or stopped."""
        if self.refused:
            return f"Refused, never run: {self.refused}"
        if self.error:
            return f"Stopped after {self.steps:,} steps: {self.error}"
        return f"Result: {self.value!r} ({self.steps:,} steps)"


class _Interpreter:
    def __init__(self, functions: dict, max_steps: int, deadline: float, timeout_s: float):
        self.functions = functions
        self.max_steps = max_steps
        self.deadline = deadline
        self.timeout_s = timeout_s
        self.steps = 0
        self.vars: dict = {}
        self.printed: list = []
        self.last_expr = None
        self.returned = None

    def tick(self) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise Stop(f"the step limit ({self.max_steps:,} steps) was reached: the program runs too long")
        if self.steps % 256 == 0 and time.monotonic() > self.deadline:
            raise Stop(f"the time limit ({self.timeout_s:g} s) was reached")

    def block(self, body) -> None:
        for stmt in body:
            self.stmt(stmt)

    def stmt(self, node) -> None:
        self.tick()
        if isinstance(node, ast.Expr):
            self.last_expr = self.expr(node.value)
        elif isinstance(node, ast.Assign):
            value = self.expr(node.value)
            for target in node.targets:
                self.assign(target, value)
        elif isinstance(node, ast.AugAssign):
            if not isinstance(node.target, ast.Name):
                raise Stop("only a plain name can be updated with +=")
            self.vars[node.target.id] = binary(node.op, self.name(node.target.id), self.expr(node.value))
        elif isinstance(node, ast.If):
            self.block(node.body if self.expr(node.test) else node.orelse)
        elif isinstance(node, ast.For):
            self.loop(node)
        elif isinstance(node, ast.FunctionDef):
            self.functions[node.name] = node
        elif isinstance(node, ast.Return):
            raise Return_(None if node.value is None else self.expr(node.value))
        elif isinstance(node, ast.Break):
            raise Break_()
        elif isinstance(node, ast.Continue):
            raise Continue_()
        # ast.Pass: nothing to do

    def loop(self, node: ast.For) -> None:
        args = [self.expr(a) for a in node.iter.args]
        if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
            raise Stop("range() needs whole numbers")
        turns = range(*args)
        if len(turns) > MAX_RANGE:
            raise Stop(f"range of {len(turns):,} turns is over the limit of {MAX_RANGE:,}")
        for i in turns:
            self.vars[node.target.id] = i
            try:
                self.block(node.body)
            except Break_:
                break
            except Continue_:
                continue

    def assign(self, target, value) -> None:
        if isinstance(target, ast.Name):
            self.vars[target.id] = value
            return
        if isinstance(target, (ast.Tuple, ast.List)):
            values = list(value) if isinstance(value, (tuple, list)) else None
            if values is None or len(values) != len(target.elts):
                raise Stop("cannot unpack: the numbers of names and values differ")
            for t, v in zip(target.elts, values):
                self.assign(t, v)
            return
        raise Stop("only names can be assigned")

    def name(self, name: str):
        if name in self.vars:
            return self.vars[name]
        if name in ("pi", "e"):
            return getattr(math, name)
        raise Stop(f"'{name}' is used before it is given a value")

    def expr(self, node):
        self.tick()
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.BinOp):
            return binary(node.op, self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp):
            value = self.expr(node.operand)
            if isinstance(node.op, ast.Not):
                return not value
            if isinstance(value, str):
                raise Stop("a sign cannot go before text")
            return -value if isinstance(node.op, ast.USub) else +value
        if isinstance(node, ast.BoolOp):
            value = None
            for item in node.values:
                value = self.expr(item)
                if isinstance(node.op, ast.And) and not value:
                    return value
                if isinstance(node.op, ast.Or) and value:
                    return value
            return value
        if isinstance(node, ast.Compare):
            left = self.expr(node.left)
            for op, right_node in zip(node.ops, node.comparators):
                right = self.expr(right_node)
                try:
                    if not _COMPARE[type(op)](left, right):
                        return False
                except TypeError as exc:
                    raise Stop(f"cannot compare these values: {exc}") from None
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self.expr(node.body) if self.expr(node.test) else self.expr(node.orelse)
        if isinstance(node, (ast.List, ast.Tuple)):
            items = [self.expr(e) for e in node.elts]
            if len(items) > MAX_LIST:
                raise Stop(f"a list of more than {MAX_LIST:,} items")
            return items if isinstance(node, ast.List) else tuple(items)
        if isinstance(node, ast.Call):
            return self.call(node)
        raise Stop(f"cannot evaluate {type(node).__name__}")

    def call(self, node: ast.Call):
        name = node.func.id
        if name in self.functions:
            fn = self.functions[name]
            params = [a.arg for a in fn.args.args]
            if len(node.args) != len(params):
                raise Stop(f"{name}() takes {len(params)} argument(s), {len(node.args)} given")
            values = [self.expr(a) for a in node.args]
            saved = self.vars  # the def's names are its own, as in Python; it reads the program's names
            self.vars = {**saved, **dict(zip(params, values))}
            try:
                self.block(fn.body)
            except Return_ as ret:
                self.returned = ret.value
                return ret.value
            finally:
                self.vars = saved
            return None
        if name not in FUNCTIONS:
            raise Stop(f"{name}() is called before its def")
        args = [self.expr(a) for a in node.args]
        if name == "print":
            self.printed.append(args[0] if len(args) == 1 else tuple(args))
            return None
        if name == "pow":
            if len(args) != 2:
                raise Stop("pow() takes two numbers here")
            return power(*args)
        try:
            return check_size(FUNCTIONS[name](*args))
        except (TypeError, ValueError, OverflowError, ZeroDivisionError) as exc:
            raise Stop(f"{name}() failed: {exc}") from None


def _parse(code: str, max_len: int, mode: str):
    if len(code) > max_len:
        raise Refuse(f"the program is {len(code):,} characters long; the limit is {max_len:,}")
    try:
        return ast.parse(code, mode=mode)
    except SyntaxError as exc:
        raise Refuse(f"it is not valid Python: {exc.msg} (line {exc.lineno})") from None
    except (RecursionError, MemoryError, ValueError):
        raise Refuse("the program is nested too deeply to read") from None


def _user_functions(tree) -> set[str]:
    return {n.name for n in getattr(tree, "body", []) if isinstance(n, ast.FunctionDef)}


def run_program(code: str, *, timeout_s: float = 2.0, max_steps: int = DEFAULT_STEPS,
                max_len: int = DEFAULT_LEN) -> SandboxResult:
    """Check ``code`` against the whitelist and, if it passes, interpret it within the limits.

    Parameters
    ----------
    code
        A short Python program (the subset in :mod:`.sandbox_rules`).
    timeout_s
        Wall-clock limit; checked between steps.
    max_steps
        The most syntax-tree nodes evaluated before the run is stopped.
    max_len
        The longest program accepted, in characters (longer ones are refused unread).

    Returns
    -------
    SandboxResult
        ``refused`` set when the program was outside the whitelist (never run), ``error`` set when
        a run stopped, else ``value``.
    """
    started = time.monotonic()
    try:
        tree = _parse(code, max_len, "exec")
        Checker(_user_functions(tree)).check(tree)
    except Refuse as refusal:
        return SandboxResult(refused=str(refusal), seconds=time.monotonic() - started)
    machine = _Interpreter({}, max_steps, started + timeout_s, timeout_s)
    error = None
    try:
        machine.block(tree.body)
    except Stop as stop:
        error = str(stop)
    except RecursionError:
        error = "the program is nested too deeply to run"
    value = _answer(machine)
    return SandboxResult(value=value, error=error, steps=machine.steps,
                         seconds=time.monotonic() - started, variables=dict(machine.vars),
                         printed=machine.printed)


def _answer(machine: _Interpreter):
    for name in ANSWER_NAMES:
        if name in machine.vars:
            return machine.vars[name]
    if machine.returned is not None:
        return machine.returned
    if machine.printed:
        return machine.printed[-1]
    return machine.last_expr


def evaluate_expression(text: str) -> float:
    """The value of one arithmetic expression (the calculator tool), e.g. ``"12 * (3 + 4)"``.

    Raises
    ------
    InputError
        Empty text, an expression outside the whitelist (with the reason), or a run that stopped
        (division by zero, a limit), or a value that is not a number.
    """
    text = (text or "").strip().strip("`").strip()
    if not text:
        raise InputError("The calculator got an empty expression.", "Give it arithmetic such as 12 * (3 + 4).")
    started = time.monotonic()
    try:
        tree = _parse(text, DEFAULT_LEN, "eval")
        Checker(set()).check(tree)
    except Refuse as refusal:
        raise InputError(f"The calculator refused {text!r}: {refusal}.",
                         "Use numbers, + - * / ** ( ) and sqrt, round, min, max.") from None
    machine = _Interpreter({}, DEFAULT_STEPS, started + 2.0, 2.0)
    try:
        value = machine.expr(tree.body)
    except Stop as stop:
        raise InputError(f"The calculator stopped on {text!r}: {stop}.", "Check the expression.") from None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(f"The calculator's result for {text!r} is not a number ({value!r}).",
                         "Give it an arithmetic expression.")
    return float(value)
