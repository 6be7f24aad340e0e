"""Every Qt signal carries a one-line docstring on its payload, right under it (DESIGN rule 8): two docstrings
stacked under the second of two signals (the Fine-tune panel's, swapped) are caught."""

from __future__ import annotations

import ast
from pathlib import Path

import playground.qt

QT = Path(playground.qt.__file__).parent


def signals_and_docstrings(source: str) -> dict[str, str | None]:
    """{Class.sig_name: the string right under it, or None} for each ``sig_... = Signal(...)`` in a class body."""
    found = {}
    for cls in (n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.ClassDef)):
        for i, node in enumerate(cls.body):
            if (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id.startswith("sig_") and isinstance(node.value, ast.Call)
                    and getattr(node.value.func, "id", "") == "Signal"):
                after = cls.body[i + 1] if i + 1 < len(cls.body) else None
                doc = (after.value.value if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                       and isinstance(after.value.value, str) else None)
                found[f"{cls.name}.{node.targets[0].id}"] = doc
    return found


def test_every_signal_has_its_own_docstring():
    missing = [f"{path.relative_to(QT)}: {name}" for path in sorted(QT.rglob("*.py"))
               for name, doc in signals_and_docstrings(path.read_text(encoding="utf-8")).items() if not doc]
    assert missing == []


def test_the_fine_tune_steps_signals_say_what_they_carry():
    docs = signals_and_docstrings((QT / "finetune" / "panel.py").read_text(encoding="utf-8"))
    assert "index of the step" in docs["FinetunePanel.sig_step_changed"]
    assert "forgot" in docs["FinetunePanel.sig_check_forgetting"]
