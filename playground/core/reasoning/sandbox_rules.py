"""The PAL sandbox's rules: the whitelist checked before a program runs, and the size limits.

A program-aided answer (PAL) is a short program the model wrote. It never reaches ``exec``: the
program is parsed with :mod:`ast`, checked against a whitelist **before anything runs** (a program
outside it is *refused* with the reason), then interpreted node by node here. The interpreter
counts every node it evaluates and looks at the clock, so a program that runs too long is stopped
between steps (no subprocess, no thread to kill).

Allowed: numbers, short strings, ``True/False/None``; ``+ - * / // % **``; comparisons, ``and or
not``, ``x if c else y``; assignments (also ``a, b = 1, 2`` and ``+=``); ``if/elif/else``; ``for
NAME in range(...)`` (at most :data:`MAX_RANGE` turns); ``break``, ``continue``; list literals;
the functions in :data:`FUNCTIONS`; ``def`` blocks with plain named arguments that
``return`` the answer, called from the top level only (so no recursion can happen).

Refused: imports, attribute access (``x.y``), names with double underscores, ``while``, calls to
anything else (``open``, ``eval``, ``__import__``, a function calling itself), comprehensions,
lambdas, subscripts, a program longer than ``max_len`` characters, a string literal over
:data:`MAX_STRING` characters, nesting deeper than :data:`MAX_DEPTH`, and a constant power whose
result would be huge (``2**10**10``). Limits met while running (a huge number, a long string, the
step or time limit) stop the run with an ``error``.
"""

from __future__ import annotations

import ast
import math
import operator

MAX_RANGE = 10_000
MAX_STRING = 1_000
MAX_INT_BITS = 4_096
MAX_EXPONENT = 1_000
MAX_DEPTH = 40
MAX_LIST = 1_000
DEFAULT_STEPS = 100_000
DEFAULT_LEN = 4_000

#: The functions a program may call (the only calls allowed besides its own ``def`` blocks).
FUNCTIONS = {
    "abs": abs, "round": round, "min": min, "max": max, "sum": sum, "len": len,
    "int": int, "float": float, "sqrt": math.sqrt, "floor": math.floor, "ceil": math.ceil,
    "exp": math.exp, "log": math.log, "gcd": math.gcd, "pow": None, "range": None, "print": None,
}

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: None,
}
_COMPARE = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ALLOWED = (
    ast.Module, ast.Expression, ast.Expr, ast.Assign, ast.AugAssign, ast.For, ast.If, ast.Break,
    ast.Continue, ast.Pass, ast.Return, ast.FunctionDef, ast.arguments, ast.arg, ast.BinOp, ast.UnaryOp,
    ast.BoolOp, ast.Compare, ast.IfExp, ast.Constant, ast.Name, ast.Load, ast.Store, ast.Call,
    ast.Tuple, ast.List, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
    *_BINARY, *_COMPARE,
)
_NAMED_REFUSALS = {
    ast.Import: "imports are not allowed (sqrt, floor, ceil, ... are available without import)",
    ast.ImportFrom: "imports are not allowed (sqrt, floor, ceil, ... are available without import)",
    ast.Attribute: "attribute access (x.y) is not allowed",
    ast.While: "while loops are not allowed: use 'for i in range(n)' (a bounded loop)",
    ast.Lambda: "lambda is not allowed",
    ast.ListComp: "comprehensions are not allowed: use a for loop",
    ast.GeneratorExp: "comprehensions are not allowed: use a for loop",
    ast.Subscript: "indexing (x[i]) is not allowed",
    ast.With: "'with' blocks (files, resources) are not allowed",
    ast.Try: "try/except is not allowed",
    ast.ClassDef: "classes are not allowed",
    ast.Global: "'global' is not allowed", ast.Nonlocal: "'nonlocal' is not allowed",
    ast.Delete: "'del' is not allowed",
    ast.BitXor: "'^' is not a power here: write ** for powers",
}


class Stop(Exception):
    """A run stopped with a plain reason."""


class TooLarge(Stop):
    """A run stopped because a value grew past a size limit."""


class Refuse(Exception):
    """The program is outside the whitelist."""


class Return_(Exception):
    def __init__(self, value):
        self.value = value


class Break_(Exception):
    pass


class Continue_(Exception):
    pass


def check_size(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise TooLarge(f"a number grew past {MAX_INT_BITS} bits (over {MAX_INT_BITS * 3 // 10} digits)")
    if isinstance(value, str) and len(value) > MAX_STRING:
        raise TooLarge(f"a string grew past {MAX_STRING:,} characters")
    if isinstance(value, list) and len(value) > MAX_LIST:
        raise TooLarge(f"a list grew past {MAX_LIST:,} items")
    return value


def power(base, exponent):
    if isinstance(exponent, (int, float)) and abs(exponent) > MAX_EXPONENT and not (
            isinstance(base, (int, float)) and abs(base) in (0, 1)):
        raise TooLarge(f"the exponent {exponent} is over the limit of {MAX_EXPONENT}")
    try:
        return check_size(base ** exponent)
    except OverflowError:
        raise TooLarge("the power overflowed (the number is too large)") from None


def binary(op, left, right):
    if isinstance(op, ast.Pow):
        return power(left, right)
    if isinstance(op, ast.Mult) and isinstance(left, (str, list)) and isinstance(right, int):
        if len(left) * max(right, 0) > MAX_STRING:
            raise TooLarge(f"repeating the text would pass {MAX_STRING:,} characters")
    if isinstance(op, ast.Mult) and isinstance(right, (str, list)) and isinstance(left, int):
        if len(right) * max(left, 0) > MAX_STRING:
            raise TooLarge(f"repeating the text would pass {MAX_STRING:,} characters")
    try:
        return check_size(_BINARY[type(op)](left, right))
    except ZeroDivisionError:
        raise Stop("division by zero") from None
    except OverflowError:
        raise TooLarge("a number overflowed (too large)") from None
    except TypeError as exc:
        raise Stop(f"cannot combine these values: {exc}") from None


def _fold(node):
    """The value of a constant-only expression, for refusing ``2**10**10`` before it runs."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _fold(node.operand)
        return None if value is None or isinstance(value, str) else -value
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _fold(node.left), _fold(node.right)
        if left is None or right is None:
            return None
        try:
            return binary(node.op, left, right)
        except TooLarge as stop:
            raise Refuse(f"the constant expression at line {node.lineno} is too large: {stop}") from None
        except Stop:
            return None  # 1 / 0 and the like: the run reports it
    return None


class Checker:
    """The whitelist, applied to the whole tree before anything runs."""

    def __init__(self, functions: set[str]):
        self.functions = functions

    def check(self, tree: ast.AST) -> None:
        self._visit(tree, depth=0, in_def=False)

    def _visit(self, node, depth: int, in_def: bool) -> None:
        if depth > MAX_DEPTH:
            raise Refuse(f"the program is nested more than {MAX_DEPTH} levels deep")
        where = f" (line {node.lineno})" if hasattr(node, "lineno") else ""
        for kind, reason in _NAMED_REFUSALS.items():
            if isinstance(node, kind):
                raise Refuse(reason + where)
        if not isinstance(node, _ALLOWED):
            raise Refuse(f"'{type(node).__name__}' is outside the allowed subset{where}")
        if isinstance(node, ast.Name):
            if node.id.startswith("__") or node.id.endswith("__"):
                raise Refuse(f"names with double underscores ({node.id}) are not allowed{where}")
            if node.id in ("open", "eval", "exec", "compile", "input", "globals", "locals",
                           "getattr", "setattr", "vars", "dir", "type", "object"):
                raise Refuse(f"'{node.id}' is not allowed{where}")
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, (str, bytes)) and len(node.value) > MAX_STRING:
                raise Refuse(f"a string literal of {len(node.value):,} characters is over the limit of "
                              f"{MAX_STRING:,}{where}")
            if not isinstance(node.value, (int, float, str, bool, type(None))):
                raise Refuse(f"this kind of literal ({type(node.value).__name__}) is not allowed{where}")
        elif isinstance(node, ast.FunctionDef):
            self._check_def(node, in_def, where)
            in_def = True
        elif isinstance(node, ast.Call):
            self._check_call(node, in_def, where)
        elif isinstance(node, ast.For):
            self._check_for(node, where)
            for child in (node.target, *node.iter.args, *node.body):
                self._visit(child, depth + 1, in_def)
            return
        elif isinstance(node, ast.Return) and not in_def:
            raise Refuse(f"'return' outside a def{where}")
        elif isinstance(node, ast.BinOp):
            _fold(node)
        for child in ast.iter_child_nodes(node):
            self._visit(child, depth + 1, in_def)

    def _check_def(self, node: ast.FunctionDef, in_def: bool, where: str) -> None:
        args = node.args
        if in_def:
            raise Refuse(f"a def inside a def is not allowed{where}")
        if args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or args.defaults:
            raise Refuse(f"def {node.name}(...) may take plain named arguments only (no defaults, *args or "
                         f"keywords){where}")
        if any(a.arg.startswith("__") for a in args.args):
            raise Refuse(f"names with double underscores are not allowed{where}")
        if node.decorator_list or node.returns:
            raise Refuse(f"decorators and annotations are not allowed{where}")
        if node.name.startswith("__"):
            raise Refuse(f"names with double underscores ({node.name}) are not allowed{where}")

    def _check_call(self, node: ast.Call, in_def: bool, where: str) -> None:
        if node.keywords:
            raise Refuse(f"keyword arguments are not allowed{where}")
        if not isinstance(node.func, ast.Name):
            raise Refuse(f"only plain function names may be called{where}")
        name = node.func.id
        if name.startswith("__") or name.endswith("__"):
            raise Refuse(f"names with double underscores ({name}) are not allowed{where}")
        if name in ("open", "eval", "exec", "compile", "input", "getattr", "setattr", "globals", "vars"):
            raise Refuse(f"'{name}' is not allowed{where}")
        if name in self.functions:
            if in_def:
                raise Refuse(f"recursion is not allowed: a def calls {name}(){where}")
            return  # called from the top level only (above), so nothing can recurse
        if name not in FUNCTIONS or name == "range":
            if name == "range":
                raise Refuse(f"range() may only be used as 'for i in range(n)'{where}")
            allowed = ", ".join(sorted(n for n in FUNCTIONS if n != "range"))
            raise Refuse(f"calling '{name}' is not allowed (allowed: {allowed}){where}")

    def _check_for(self, node: ast.For, where: str) -> None:
        if not isinstance(node.target, ast.Name):
            raise Refuse(f"a for loop must count with one name: for i in range(n){where}")
        it = node.iter
        if not (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
                and 1 <= len(it.args) <= 3 and not it.keywords):
            raise Refuse(f"a for loop may only go over range(n){where}")
        if node.orelse:
            raise Refuse(f"for ... else is not allowed{where}")
