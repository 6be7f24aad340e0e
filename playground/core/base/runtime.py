"""Keeping the rest of the program responsive while heavy libraries and models load.

Two things stall every other Python thread (the GUI thread included) while a worker loads a
model, because they hold the GIL for a long time:

* the dynamic loader mapping torch's ~400 MB shared library during ``import torch`` (about
  170 ms here). Calling ``dlopen`` ourselves through ctypes releases the GIL for that call,
  and the later import then finds the library already mapped;
* full cyclic garbage collections, triggered by the millions of objects that importing torch and
  transformers creates (90-180 ms each). We pause the collector while loading, then freeze the
  survivors so later collections skip them.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import glob
import importlib.util
import os
import sys
import threading

_lock = threading.Lock()
_paused = 0
_preloaded = False


def preload_torch_libraries() -> None:
    """Map torch's shared libraries without holding the GIL (Linux; elsewhere a no-op)."""
    global _preloaded
    if _preloaded or "torch" in sys.modules or not sys.platform.startswith("linux"):
        _preloaded = True
        return
    _preloaded = True
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        return
    root = os.path.dirname(spec.origin)
    try:
        libc = ctypes.CDLL(None)
        dlopen = libc.dlopen
    except (OSError, AttributeError):
        return
    dlopen.restype = ctypes.c_void_p
    dlopen.argtypes = [ctypes.c_char_p, ctypes.c_int]
    names = ["libgomp*", "libc10.so", "libtorch_cpu.so", "libtorch.so", "libtorch_python.so", "libshm.so"]
    paths = [p for n in names for p in sorted(glob.glob(os.path.join(root, "lib", n)))]
    paths += glob.glob(os.path.join(root, "_C.cpython*.so"))
    for path in paths:
        # A foreign call through ctypes.CDLL releases the GIL; a failure only loses the speed-up.
        dlopen(path.encode(), os.RTLD_NOW | os.RTLD_GLOBAL)


@contextlib.contextmanager
def quiet_loading():
    """Pause the cyclic garbage collector while heavy work allocates, then freeze survivors."""
    global _paused
    preload_torch_libraries()
    with _lock:
        _paused += 1
        if _paused == 1:
            gc.disable()
    try:
        yield
    finally:
        with _lock:
            _paused -= 1
            if _paused == 0:
                # What the load left unreachable is collected before the freeze: a frozen cycle (a
                # failed load's traceback, a dropped training copy) is never collected later.
                # Generation 0 only: the objects made while the collector was paused (issue 35).
                gc.collect(0)
                gc.freeze()
                gc.enable()
