#!/usr/bin/env bash
# Usage: scripts/tauri-cli.sh ARGS...
# The Tauri CLI (`@tauri-apps/cli` from npm, pinned in packaging/package-lock.json) run in
# src-tauri, where it finds tauri.conf.json. Its packages are installed into packaging/ first
# (`npm ci`) when missing or older than the lock file; nothing else is downloaded.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI="$ROOT/packaging/node_modules/.bin/tauri"
STAMP="$ROOT/packaging/node_modules/.package-lock.json"
if [ ! -x "$CLI" ] || [ "$ROOT/packaging/package-lock.json" -nt "$STAMP" ]; then
  (cd "$ROOT/packaging" && npm ci --no-audit --no-fund)
fi
cd "$ROOT/src-tauri"
exec "$CLI" "$@"
