#!/usr/bin/env bash
# One GPU check, at most about five minutes, for a machine with an NVIDIA GPU. Run from the repo root:
#   bash bench/gpu_check.sh
# It prints: LoRA and full fine-tuning steps in bf16 on CUDA (tokens/s, peak GPU memory), generation
# tokens/s on the GPU, the Sampling slider bench, and, where those commands exist, one alignment
# step and the precision table. Without CUDA it says so and exits 0.
#
# Which python: $PLAYGROUND_PYTHON if set; else .venv/bin/python if it exists; else python3. If that
# python has no torch and a network is reachable, the project's own setup makes a venv
# (PLAYGROUND_TORCH chooses a CUDA build of torch, e.g. "torch --index-url .../whl/cu128").
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-4}" QT_QPA_PLATFORM=offscreen
export PLAYGROUND_HOME="${PLAYGROUND_HOME:-$(mktemp -d /tmp/pg-gpu-check-XXXX)}"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
    echo "gpu_check: no NVIDIA GPU here (nvidia-smi finds none); nothing to measure."
    exit 0
fi
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader

PY="${PLAYGROUND_PYTHON:-}"
if [ -z "$PY" ]; then
    if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
if ! "$PY" -c "import torch" >/dev/null 2>&1; then
    echo "gpu_check: $PY has no torch; setting up a venv with packaging/dev.sh (needs a network)..."
    export PLAYGROUND_TORCH="${PLAYGROUND_TORCH:-torch --index-url https://download.pytorch.org/whl/cu128}"
    timeout 240 bash packaging/dev.sh setup || { echo "gpu_check: setup failed (offline?); stopping."; exit 0; }
    PY=.venv/bin/python
fi
if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
    "$PY" -c "import torch; print(f'gpu_check: torch {torch.__version__} (CUDA build: {torch.version.cuda}) cannot use the GPU; install a CUDA build (PLAYGROUND_TORCH).')"
    exit 0
fi
echo "python: $PY; load: $(uptime)"

step() {  # step SECONDS TITLE COMMAND...: run one part with its own time limit; a failure does not stop the rest
    local limit="$1" title="$2"
    shift 2
    echo
    echo "== $title"
    local t0=$SECONDS
    timeout "$limit" "$@"
    local rc=$?
    [ $rc -eq 124 ] && echo "(stopped after ${limit} s)"
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && echo "(failed: exit $rc)"
    echo "-- $title: $((SECONDS - t0)) s"
}

step 120 "fine-tuning steps, bf16 on CUDA (LoRA, full)" "$PY" bench/gpu_steps.py --steps 6 --batch 8
step 60 "generation tokens/s on CUDA" "$PY" bench/generation.py --device cuda --dtype bfloat16 --tokens 64 --reps 3
step 60 "Sampling slider bench" "$PY" bench/slider_latency.py --steps 100
# Hooks for commands other branches add: run them only where this tree has them.
if "$PY" -m playground.cli.main --help 2>/dev/null | grep -qw align; then
    # The align branch owns its flags: one step on the GPU, else its help shows what it takes.
    step 90 "one alignment step" bash -c "\"$PY\" -m playground.cli.main align --max-steps 1 --device cuda || \"$PY\" -m playground.cli.main align --help"
else
    echo; echo "== alignment step: 'playground align' does not exist in this tree; skipped."
fi
if "$PY" -m playground.cli.main --help 2>/dev/null | grep -qw precision; then
    step 60 "precision table" "$PY" -m playground.cli.main precision --device cuda
else
    echo; echo "== precision table: 'playground precision' does not exist in this tree; skipped."
fi
echo
echo "gpu_check: done in ${SECONDS} s; load: $(uptime)"
