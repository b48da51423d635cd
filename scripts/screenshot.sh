#!/usr/bin/env bash
# Usage: scripts/screenshot.sh APP_BINARY
# Runs the real app under Xvfb on its demo drive (temporary config and data dirs, so the demo
# is seeded afresh), then on a mega-testserver account whose transfer quota runs out, and writes
# PNGs of its screens to target/screenshots/.
set -euo pipefail
if [ "${1:-}" = "--inner" ]; then
  APP=$2 ROOT=$3
  WORK=$(mktemp -d)
  WD_PID= SERVER_PID= DUNST_PID=
  trap 'kill $WD_PID $SERVER_PID $DUNST_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
  export APP SHOTS="${SHOTS:-$ROOT/target/screenshots}"
  source "$ROOT/scripts/webdriver-env.sh"
  # Downloads at 4 MB/s, so the transfers screen shows one running.
  app_test_env "$WORK" 4000000
  # The quota banner from a real 509: an account whose transfer quota (4 MB an hour) runs out
  # half-way through its 12 MB file.
  head -c $((12 * 1024 * 1024)) /dev/urandom >"$WORK/holiday-video.mp4"
  export QUOTA_EMAIL=quota@tuatara.test QUOTA_PASSWORD='quota pass phrase'
  [ -x "$(dirname "$APP")/mega-testserver" ] || { echo "screenshot: build mega-testserver beside the app first (make screenshot does)" >&2; exit 1; }
  "$(dirname "$APP")/mega-testserver" --data "$WORK/server" --user "$QUOTA_EMAIL:$QUOTA_PASSWORD" \
    --file "$QUOTA_EMAIL:/holiday-video.mp4=$WORK/holiday-video.mp4" \
    --transfer-quota "$QUOTA_EMAIL:$((4 * 1024 * 1024))" >"$WORK/server.url" 2>"$WORK/server.log" &
  SERVER_PID=$!
  until [ -s "$WORK/server.url" ]; do kill -0 $SERVER_PID 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }; sleep 0.2; done
  export SERVER_URL=$(head -n1 "$WORK/server.url")
  # A notification daemon that draws (the background notification's shot).
  dunst >"$WORK/dunst.log" 2>&1 &
  DUNST_PID=$!
  python3 "$ROOT/tests/e2e/screenshots.py"
  echo "screenshots: $SHOTS"
  exit 0
fi
APP=$(realpath "${1:?usage: scripts/screenshot.sh APP_BINARY}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  "$ROOT/scripts/with-keyring.sh" "$ROOT/scripts/screenshot.sh" --inner "$APP" "$ROOT"
