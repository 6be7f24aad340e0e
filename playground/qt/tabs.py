"""The tabs of the main window, in the order of a generative AI project's lifecycle: the one table of tabs.

Each entry is (module, class); modules load when the window is built, after the first paint. Everything
else about a tab (its title, one-sentence guide, F1 help, lab events, notebook experiment) is declared on
its Panel class (the panel protocol, ``playground.qt.panel``), never in a table keyed by its title.
Adding a tab: a package under ``playground/qt/`` with a ``panel.py``, an entry here, and its package in
the import-linter independence contract in pyproject.toml (tests/test_contracts.py checks it).
"""

TABS: list[tuple[str, str]] = [
    ("playground.qt.prompt", "PromptPanel"),
    ("playground.qt.generate", "GeneratePanel"),
    ("playground.qt.sampling", "SamplingPanel"),
    ("playground.qt.inside", "InsidePanel"),
    ("playground.qt.finetune", "FinetunePanel"),
    ("playground.qt.align", "AlignPanel"),
    ("playground.qt.evaluate", "EvaluatePanel"),
    ("playground.qt.lifecycle", "LifecyclePanel"),
    ("playground.qt.build", "BuildPanel"),
]


def load_tab_classes() -> list[type]:
    import importlib

    return [getattr(importlib.import_module(mod), cls) for mod, cls in TABS]
