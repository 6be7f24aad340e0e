"""A child process that prints 'step N' and waits for a line after each step, killed mid-run."""

from __future__ import annotations

import os
import signal


def kill_at_step(child, step: int) -> None:
    """Let ``child`` run until it prints 'step {step}', then kill it with SIGKILL (no clean-up runs)."""
    try:
        for line in child.stdout:
            if line.strip() == f"step {step}":
                break
            child.stdin.write("go on\n")
            child.stdin.flush()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=60)
