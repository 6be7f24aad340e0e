"""Set-ups the bench scripts share (import it as ``_common``: the scripts run from bench/)."""

from __future__ import annotations

import os


def quiet_torch(threads: int | None):
    """Import torch with ``threads`` CPU threads (None or 0: torch's default) and silence the
    warnings and progress bars of transformers, so a child process prints only its figures."""
    import warnings

    import torch

    if threads:
        torch.set_num_threads(threads)
    warnings.filterwarnings("ignore")
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    return torch


def main_window():
    """The whole app offscreen (every tab built), as a person starts it: (app, context, window)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("PLAYGROUND_HOME", os.path.expanduser("~/.cache/llm-playground-bench"))
    from playground.qt.app import create_app
    from playground.qt.context import AppContext
    from playground.qt.main_window import MainWindow

    app = create_app()
    ctx = AppContext()
    win = MainWindow(ctx)
    win.show()
    win.build_tabs()
    return app, ctx, win
