"""Run every bad-input case in the tests and print the table (case, outcome, message).

    python bench/bad_inputs.py            # all of them
    python bench/bad_inputs.py tests/core # one folder (or files, or test ids)
    python bench/bad_inputs.py --help     # this text

Issue 29's cases (overflowing and negative budgets, a run of years, inf/nan budgets, --resume on
the other command's run, a JSONL with a BOM, a full disk, a retry after a failed setup, a rate of
1e30, evaluate --adapter on a run still training, SIGTERM mid-training) live in
tests/core/test_scaling_limits.py, test_jsonl_bom.py, test_finetune_safety.py, test_divergence.py
and tests/cli/test_scaling_cli_limits.py, test_resume_kind.py, test_evaluate_running_run.py,
test_sigterm.py.

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
    if {"-h", "--help"} & set(sys.argv[1:]):
        print(__doc__)
        sys.exit(0)
    paths = sys.argv[1:] or ["tests"]
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.setdefault("OMP_NUM_THREADS", "1")
    cmd = [sys.executable, "-m", "pytest", *paths, "-m", "bad_input", "--bad-input-table", "-q",
           "-p", "no:cacheprovider"]
    sys.exit(subprocess.call(cmd, cwd=ROOT, env=env))
