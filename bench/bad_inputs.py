"""Run every bad-input case in the tests and print the table (case, outcome, message).

    python bench/bad_inputs.py            # all of them
    python bench/bad_inputs.py tests/core # one folder

It is ``python -m pytest -m bad_input --bad-input-table`` (tests/bad_input_plugin.py): a case fails
the run when its test fails or its message is missing, the generic "Something went wrong", or
only an exception class name.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    paths = sys.argv[1:] or ["tests"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [sys.executable, "-m", "pytest", *paths, "-m", "bad_input", "--bad-input-table", "-q",
           "-p", "no:cacheprovider"]
    sys.exit(subprocess.call(cmd, cwd=ROOT, env=env))
