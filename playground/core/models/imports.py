"""Names from transformers, imported under one lock.

transformers 5.x resolves ``from transformers import AutoModel`` lazily, and two threads resolving names at
once can see a half-initialised submodule: one of them gets "cannot import name 'AutoModel' from
'transformers'". The app loads its decoder and its encoder on two workers at start-up (the Build tab opens
its knowledge base while the model loads), so the loaders take their transformers names from here.
"""

from __future__ import annotations

import threading

_lock = threading.RLock()


def transformers_names(*names: str) -> tuple:
    """``transformers.<name>`` for each name, resolved while no other thread of the app resolves any."""
    with _lock:
        import transformers

        return tuple(getattr(transformers, name) for name in names)
