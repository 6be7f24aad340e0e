# Sourced by dev.sh and build_linux.sh: strict mode, the repository root as the working folder,
# and the interpreter to build virtual environments with.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
