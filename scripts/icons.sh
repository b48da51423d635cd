#!/usr/bin/env bash
# Usage: scripts/icons.sh [--check]
# Makes the app's icons (src-tauri/icons) from their one source, packaging/icon.svg, with
# `tauri icon`: the PNG sizes the Linux bundler installs into the hicolor theme (bundle.icon in
# tauri.conf.json: 32, 64, 128, 256 and icon.png, 512, also the window's icon, read when the
# app compiles) and the .ico and .icns other platforms' bundlers ask for. The set is
# committed, since every build of the app embeds icon.png and a fresh clone must compile
# without the npm CLI. With --check, the set is made in a temporary directory and compared
# with the committed one (the PNGs and the .ico; the .icns is not byte-for-byte reproducible).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ICONS="$ROOT/src-tauri/icons"
KEEP=(32x32.png 64x64.png 128x128.png 256x256.png icon.png icon.ico icon.icns)
WORK=$(mktemp -d) OUT=
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/icons"
# The default set, then 256x256.png (the default set has that size only as 128x128@2x.png,
# which the Linux bundler would install as a 2x-scaled 256 icon).
for sizes in "" 256; do
  "$ROOT/scripts/tauri-cli.sh" icon "$ROOT/packaging/icon.svg" --output "$OUT" ${sizes:+--png "$sizes"} \
    >"$WORK/log" 2>&1 || { cat "$WORK/log" >&2; exit 1; }
done
if [ "${1:-}" = "--check" ]; then
  stale=0
  for f in "${KEEP[@]}"; do
    [ "$f" = icon.icns ] && { [ -s "$ICONS/$f" ] || stale=1; continue; }
    cmp -s "$OUT/$f" "$ICONS/$f" || { echo "icons: src-tauri/icons/$f is not made from packaging/icon.svg" >&2; stale=1; }
  done
  [ $stale -eq 0 ] || { echo "icons: run scripts/icons.sh and commit src-tauri/icons" >&2; exit 1; }
  echo "icons: src-tauri/icons matches packaging/icon.svg"
else
  find "$ICONS" -maxdepth 1 -type f -delete
  for f in "${KEEP[@]}"; do cp "$OUT/$f" "$ICONS/$f"; done
  echo "icons: wrote ${KEEP[*]} to src-tauri/icons"
fi
