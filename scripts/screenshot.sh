#!/usr/bin/env bash
# Usage: scripts/screenshot.sh APP_BINARY
# Runs the real app under Xvfb on its demo drive (temporary config and data dirs, so the demo
# is seeded afresh) and writes PNGs of its screens to target/screenshots/.
set -euo pipefail
if [ "${1:-}" = "--inner" ]; then
  APP=$2 ROOT=$3
  WORK=$(mktemp -d)
  WD_PID=
  trap 'kill $WD_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
  export APP SHOTS="${SHOTS:-$ROOT/target/screenshots}"
  source "$ROOT/scripts/webdriver-env.sh"
  # Downloads at 4 MB/s, so the transfers screen shows one running.
  app_test_env "$WORK" 4000000
  python3 "$ROOT/tests/e2e/screenshots.py"
  echo "screenshots: $SHOTS"
  exit 0
fi
APP=$(realpath "${1:?usage: scripts/screenshot.sh APP_BINARY}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  "$ROOT/scripts/with-keyring.sh" "$ROOT/scripts/screenshot.sh" --inner "$APP" "$ROOT"
