"""Launch to first paint of the frozen app (packaging/dist) vs the same app run from source.

Each run starts the program as a user would: `env -i` style (a fresh HOME, PATH=/usr/bin:/bin,
nothing of the development environment), with `--smoke-test` so the window says when it first
painted; the process is stopped right after. The clock starts before the process is spawned
and stops when the "first paint" line arrives, so the bootloader, unpacking, Python start-up and
imports are all in it. The app's own figure (first paint N s after launch, from the process
start time) is printed beside it. Runs alternate bundle / source so both see the same load.

Run (after `bash packaging/build_linux.sh`):
    python bench/bundle_first_paint.py [--runs 5] [--app packaging/dist/llm-playground/llm-playground]
    xvfb-run -a python bench/bundle_first_paint.py --display     # a real X server, not offscreen
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "packaging" / "dist" / "llm-playground" / "llm-playground"
PAINT = re.compile(r"first paint(?: \(([0-9.]+) s after launch\))?")


def clean_env(home: str, display: bool) -> dict:
    env = {"HOME": home, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    if display:
        env["DISPLAY"] = os.environ["DISPLAY"]
        if "XAUTHORITY" in os.environ:
            env["XAUTHORITY"] = os.environ["XAUTHORITY"]
    else:
        env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def first_paint(cmd: list[str], display: bool, cwd: Path | None = None) -> tuple[float, float | None]:
    """(seconds from spawn to the first-paint line, the app's own 'after launch' figure)."""
    home = tempfile.mkdtemp(prefix="pg-bench-paint-home-")
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=clean_env(home, display), cwd=cwd)
    try:
        for line in proc.stdout:
            m = PAINT.search(line)
            if m:
                return time.perf_counter() - t0, float(m.group(1)) if m.group(1) else None
        raise SystemExit(f"{cmd[0]} exited ({proc.wait()}) without painting")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--app", default=str(APP), help="the frozen app's executable")
    ap.add_argument("--display", action="store_true", help="use $DISPLAY instead of the offscreen platform")
    args = ap.parse_args()
    if not Path(args.app).is_file():
        raise SystemExit(f"{args.app} not found: build it with bash packaging/build_linux.sh")
    bundle_cmd = [args.app, "--smoke-test"]
    source_cmd = [sys.executable, "-m", "playground", "--smoke-test"]
    first = first_paint(bundle_cmd, args.display)  # the first launch after a build reads a cold disk
    first_paint(source_cmd, args.display, cwd=ROOT)
    bundle, source, own = [], [], []
    for _ in range(args.runs):
        t, inner = first_paint(bundle_cmd, args.display)
        bundle.append(t)
        if inner is not None:
            own.append(inner)
        source.append(first_paint(source_cmd, args.display, cwd=ROOT)[0])
    b, s = statistics.median(bundle), statistics.median(source)
    print(f"platform: {'$DISPLAY' if args.display else 'offscreen'}, runs: {args.runs}, fresh HOME each run")
    print(f"bundle, first launch of this benchmark: {first[0]:.2f} s")
    print(f"bundle, launch to first paint: median {b:.2f} s (min {min(bundle):.2f}, max {max(bundle):.2f})")
    if own:
        print(f"bundle, the app's own figure (from the process start): median {statistics.median(own):.2f} s")
    print(f"source (python -m playground), launch to first paint: median {s:.2f} s (min {min(source):.2f})")
    print(f"ratio bundle / source: {b / s:.2f}")


if __name__ == "__main__":
    main()
