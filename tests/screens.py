"""Screenshots taken by GUI tests go where PLAYGROUND_SCREENS names (e.g. docs/screens when the team
refreshes the pictures), and nowhere otherwise: a test run never writes into the repository."""

from __future__ import annotations

import os
from pathlib import Path


def keep_screenshot(widget, name: str) -> Path | None:
    """Save ``widget``'s picture as ``name`` under $PLAYGROUND_SCREENS; None when it is not set."""
    folder = os.environ.get("PLAYGROUND_SCREENS")
    if not folder:
        return None
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    assert widget.grab().save(str(path)), path
    return path
