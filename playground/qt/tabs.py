"""The tabs of the main window, in the order of a generative AI project's lifecycle.

Each entry is (module, class); modules load when the window is built, after the first paint.
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
]


def load_tab_classes() -> list[type]:
    import importlib

    return [getattr(importlib.import_module(mod), cls) for mod, cls in TABS]
