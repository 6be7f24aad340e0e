"""What the tabs hold now, as notebook experiments (core.labs.notebook builds the notebook).

Each tab says which experiment it gives and gives it (``Panel.notebook_kind``, ``Panel.notebook_state()``);
nothing here reads a tab's widgets.
"""

from __future__ import annotations


def collect_experiments(panels, kinds=None) -> tuple[list[dict], list[str]]:
    """The experiments the tabs can reproduce now (``kinds``, or every one), and a plain line for each wanted
    one not done yet."""
    from playground.core.labs.notebook import EXPERIMENTS

    # A tab's sections (``panel.pages``) may each give an experiment of their own (a page's own
    # ``notebook_kind`` and ``notebook_state()``), named after the tab that holds them.
    by_kind = {}
    for p in panels:
        for source in (p, *getattr(p, "pages", ())):
            kind = getattr(source, "notebook_kind", "")
            if kind:
                by_kind[kind] = (source, p.title)
    found, missing = [], []
    for kind in kinds or list(EXPERIMENTS):
        if kind not in by_kind:
            missing.append(f"{kind}: no tab in this build exports it.")
            continue
        source, title = by_kind[kind]
        exp = source.notebook_state()
        if exp is None:
            missing.append(f"{kind.replace('_', ' ')}: nothing to export yet (run it in the {title} tab).")
        else:
            found.append(exp)
    return found, missing
