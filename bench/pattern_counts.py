"""Counts of the shared-pattern debts in the code (issue: one declaration per setting, bound forms).

    python bench/pattern_counts.py

Prints, for ``playground/``: settings read or written by string key in ``qt/``, reads of a saved
dict by string key in ``qt/``, copies of each sampling setting's label and help text, forms whose
widgets are made by hand and filled from saved values, import circles (grimp, function-level
imports included), modules past 400 lines and ``__init__`` methods past 100 lines.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "playground"


def py_files(under: Path) -> list[Path]:
    return sorted(p for p in under.rglob("*.py"))


def grep(pattern: str, under: Path) -> list[str]:
    rx = re.compile(pattern)
    hits = []
    for path in py_files(under):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if rx.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}")
    return hits


# A phrase that only a sampling setting's help or label would contain, per setting.
HELP_PHRASES = {
    "temperature help": r"[Dd]ivides the (logits|scores)|(flattens|sharpens) the distribution|[Ll]ow(er)? temperature",
    "top-k help": r"[Kk]eeps? only the k most likely|[Oo]nly the k most likely|top-k keeps",
    "top-p help": r"smallest set of (the )?most likely tokens|(nucleus)",
    "seed help": r"[Ss]ame seed",
    "max new tokens label": r"[\"']Max(imum)? new tokens",
}


def help_copies() -> dict[str, int]:
    out = {}
    for name, pattern in HELP_PHRASES.items():
        rx = re.compile(pattern)
        count = 0
        for path in py_files(PKG):
            text = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and rx.search(node.value):
                    count += 1
        out[name] = count
    return out


def hand_synced_forms() -> list[str]:
    """qt modules that fill widgets from a saved mapping by string key (``x.setValue(...saved.get("k"...``)."""
    rx = re.compile(r"\.(setValue|setChecked|setCurrentIndex|setText)\(.*(saved|values|state)(\.get\(|\[)[\"']")
    files = set()
    for path in py_files(PKG / "qt"):
        if rx.search(path.read_text(encoding="utf-8")):
            files.add(str(path.relative_to(ROOT)))
    return sorted(files)


def long_modules(limit: int = 400) -> list[str]:
    out = []
    for path in py_files(PKG):
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > limit:
            out.append(f"{path.relative_to(ROOT)} ({n})")
    return out


def long_inits(limit: int = 100) -> list[str]:
    out = []
    for path in py_files(PKG):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name == "__init__":
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append(f"{path.relative_to(ROOT)}:{node.lineno} ({n} lines)")
    return out


def import_circles() -> list[list[str]]:
    import grimp

    graph = grimp.build_graph("playground")
    modules = graph.modules
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.find_modules_directly_imported_by(v):
            if w not in modules:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            part = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                part.append(w)
                if w == v:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for m in sorted(modules):
        if m not in index:
            visit(m)
    return circles


def main() -> int:
    sys.path.insert(0, str(ROOT))
    keyed = grep(r"settings\.(get|set)\(\s*[\"'A-Z_]", PKG / "qt")
    saved = grep(r"\bsaved\.get\([\"']", PKG / "qt")
    forms = hand_synced_forms()
    copies = help_copies()
    circles = import_circles()
    modules = long_modules()
    inits = long_inits()
    print(f"settings read/written by string key in qt/:  {len(keyed)}")
    for h in keyed:
        print(f"    {h}")
    print(f"saved.get(\"...\") reads in qt/:              {len(saved)}")
    print(f"forms filled by hand from saved values:      {len(forms)}")
    for f in forms:
        print(f"    {f}")
    for name, n in copies.items():
        print(f"copies of the {name + ':':<28} {n}")
    print(f"import circles:                              {len(circles)}")
    for c in circles:
        print(f"    {' <-> '.join(c)}")
    print(f"modules past 400 lines:                      {len(modules)}")
    for m in modules:
        print(f"    {m}")
    print(f"__init__ methods past 100 lines:             {len(inits)}")
    for i in inits:
        print(f"    {i}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
