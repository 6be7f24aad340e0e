#!/bin/sh
# Adds LLM Playground to your applications menu (for you only, no root needed), pointing at this
# unpacked folder. Run it again after moving the folder; --remove takes the entry away.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"
APPS="$DATA/applications"
ICONS="$DATA/icons/hicolor"

if [ "${1:-}" = "--remove" ]; then
    rm -f "$APPS/llm-playground.desktop" "$ICONS/256x256/apps/llm-playground.png" \
        "$ICONS/scalable/apps/llm-playground.svg"
    echo "Removed LLM Playground from the applications menu."
    exit 0
fi

mkdir -p "$APPS" "$ICONS/256x256/apps" "$ICONS/scalable/apps"
cp "$HERE/llm-playground.png" "$ICONS/256x256/apps/llm-playground.png"
cp "$HERE/llm-playground.svg" "$ICONS/scalable/apps/llm-playground.svg"
# The packaged entry runs `llm-playground` from PATH; here it runs this folder's copy.
sed -e "s|^Exec=.*|Exec=\"$HERE/llm-playground\"|" -e "s|^TryExec=.*|TryExec=$HERE/llm-playground|" \
    "$HERE/llm-playground.desktop" > "$APPS/llm-playground.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$APPS" || true
echo "Added LLM Playground to the applications menu ($APPS/llm-playground.desktop)."
