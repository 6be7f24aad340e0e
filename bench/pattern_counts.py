"""Counts of the shared-pattern debts in the code (issue: one declaration per setting, bound forms).

    python bench/pattern_counts.py

Prints, for ``playground/``: settings read or written by string key in ``qt/``, reads of a saved
dict by string key in ``qt/``, how often each generation setting's help and label are written, forms whose
widgets are made by hand and filled from saved values, import circles (grimp, function-level
imports included), modules past 400 lines and ``__init__`` methods past 100 lines.

Issue 28's counts (one product): sizes formatted by hand instead of ``core/base/units.format_bytes``,
ROUGE/BLEU formatted by hand instead of ``format_score``, progress bars made outside the shared
``ProgressStrip`` (the model bar's load bar is the one other), matplotlib figures made outside
``qt/widgets/plot.make_canvas`` (so without the design module's chart style).
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


# Per generation setting: how its help sentence starts, and its label (string constants that are not
# docstrings, HTML lessons or notebook Markdown).
SETTINGS = {
    "temperature": (r"^Temperature divides", r"^Temperature$"),
    "top-k": (r"^Top-k keeps", r"^Top-k$"),
    "top-p": (r"^Top-p (\(nucleus\) )?keeps", r"^Top-p$"),
    "seed": (r"^The seed fixes", r"^Seed$"),
    "greedy / sample": (r"^Greedy always", r"^(Decoding|Greedy)$"),
    "max new tokens": (r"^(Max new tokens: )?[Gg]eneration stops after|^Room kept for the answer", r"^Max(imum)? new tokens$"),
}


def _help_strings(tree: ast.AST):
    """String constants that could be a control's help: not docstrings, not a tab's HTML lesson or a
    notebook's Markdown (those teach the concept in prose, beside the controls)."""
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            if not re.search(r"<[a-z/][^>]*>|^#+ |\n#+ ", node.value):
                yield node.value


def help_copies() -> dict[str, tuple[int, int]]:
    """Per setting: (copies of its help sentence, copies of its label) in playground/."""
    trees = [ast.parse(path.read_text(encoding="utf-8")) for path in py_files(PKG)]
    texts = [text for tree in trees for text in _help_strings(tree)]
    return {name: (sum(1 for t in texts if re.search(help_rx, t)), sum(1 for t in texts if re.search(label_rx, t)))
            for name, (help_rx, label_rx) in SETTINGS.items()}


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


# Hand-made formats the shared formatters replace (issue 28); units.py itself is the one place.
HAND_SIZES = r"(/\s*(2\s*\*\*\s*(10|20|30)|1024(\s*\*\*\s*[23])?|1e6|1e9)\b.*\b(MB|GB|KB|MiB|GiB|KiB)\b)|([\d}]\s?(MB|GB|KB)\b)|\(\"(GB|MB|KB)\"|\s(MB|GB|KB)[\"']"
HAND_SCORES = r"(rouge|bleu)[^\n]*:\.[1-4]f\}|\{[^}]*(rouge|bleu)[^}]*:\.[1-4]f\}"
OWN_BARS = r"QProgressBar\("
OWN_FIGURES = r"(plt\.(figure|subplots)\(|\bFigure\()"


def unshared(pattern: str, under: Path, allowed: tuple[str, ...]) -> list[str]:
    rx = re.compile(pattern, 0 if pattern is HAND_SIZES else re.I)
    hits = []
    for path in py_files(under):
        rel = str(path.relative_to(ROOT))
        if rel.endswith(allowed):
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if rx.search(code) and "import" not in code:
                hits.append(f"{rel}:{n}")
    return hits


def one_product_counts() -> dict[str, list[str]]:
    return {
        "sizes formatted by hand (not format_bytes)": unshared(HAND_SIZES, PKG, ("core/base/units.py",)),
        "ROUGE/BLEU formatted by hand (not format_score)": unshared(HAND_SCORES, PKG, ("core/base/units.py",)),
        "progress bars outside ProgressStrip": unshared(OWN_BARS, PKG / "qt",
                                                        ("widgets/progress_strip.py", "qt/model_bar.py")),
        "matplotlib figures outside make_canvas": unshared(OWN_FIGURES, PKG / "qt", ("widgets/plot.py",)),
    }


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
    for name, (helps, labels) in copies.items():
        print(f"{name + ':':<17} help written {helps}x, label written {labels}x")
    print(f"import circles:                              {len(circles)}")
    for c in circles:
        print(f"    {' <-> '.join(c)}")
    print(f"modules past 400 lines:                      {len(modules)}")
    for m in modules:
        print(f"    {m}")
    print(f"__init__ methods past 100 lines:             {len(inits)}")
    for i in inits:
        print(f"    {i}")
    for what, hits in one_product_counts().items():
        print(f"{what + ':':<45}{len(hits)}")
        for h in hits:
            print(f"    {h}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
