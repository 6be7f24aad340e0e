"""What the tabs hold now, as notebook experiments (core.labs.notebook builds the notebook).

Each tab says which experiment it gives and gives it (``Panel.notebook_kind``, ``Panel.notebook_state()``);
nothing here reads a tab's widgets.
"""

from __future__ import annotations


def collect_experiments(panels, kinds=None) -> tuple[list[dict], list[str]]:
    """The experiments the tabs can reproduce now (``kinds``, or every one), and a plain line for each wanted
    one not done yet."""
    from playground.core.labs.notebook import EXPERIMENTS

    by_kind = {p.notebook_kind: p for p in panels if p.notebook_kind}
    found, missing = [], []
    for kind in kinds or list(EXPERIMENTS):
        panel = by_kind.get(kind)
        if panel is None:
            missing.append(f"{kind}: no tab in this build exports it.")
            continue
        exp = panel.notebook_state()
        if exp is None:
            missing.append(f"{kind.replace('_', ' ')}: nothing to export yet (run it in the {panel.title} tab).")
        else:
            found.append(exp)
    return found, missing
