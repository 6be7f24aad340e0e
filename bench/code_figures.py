"""Code-size figures for playground/: total lines, the largest modules, the largest functions.

Run: python bench/code_figures.py   (prints the figures; issue 14's before/after come from it)
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def main(root: str = "playground") -> None:
    files = sorted(Path(root).rglob("*.py"))
    sizes = []
    functions = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        sizes.append((len(text.splitlines()), str(path)))
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                functions.append((length, f"{path}:{node.lineno} {node.name}"))
    sizes.sort(reverse=True)
    functions.sort(reverse=True)
    print(f"modules: {len(files)}  total lines: {sum(n for n, _ in sizes)}")
    print(f"modules over 400 lines: {sum(1 for n, _ in sizes if n > 400)}")
    print("largest modules:")
    for n, name in sizes[:5]:
        print(f"  {n:5d}  {name}")
    print("largest functions (lines incl. docstring):")
    for n, name in functions[:5]:
        print(f"  {n:5d}  {name}")


if __name__ == "__main__":
    main(*sys.argv[1:])
