#!/usr/bin/env bash
# Usage: scripts/screenshot.sh APP_BINARY
# Runs the real app under Xvfb on its demo drive (temporary config and data dirs, so the demo
# is seeded afresh) and writes PNGs of its screens to target/screenshots/. The quota shot signs
# in to a second mega-testserver (beside APP_BINARY) whose account has a small transfer quota.
set -euo pipefail
if [ "${1:-}" = "--inner" ]; then
  APP=$2 ROOT=$3
  WORK=$(mktemp -d)
  WD_PID= SERVER_PID=
  trap 'kill $WD_PID $SERVER_PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT
  export APP SHOTS="${SHOTS:-$ROOT/target/screenshots}"
  # The quota shot's server: an account with a film and a transfer quota of 3 MB an hour, so
  # a download of it is refused with 509 a few MB in, as the service does.
  export QUOTA_EMAIL=quota@tuatara.test QUOTA_PASSWORD='quota pass phrase'
  head -c $((24 * 1024 * 1024)) /dev/urandom >"$WORK/holiday-2025.mkv"
  "$(dirname "$APP")/mega-testserver" --data "$WORK/quota-server" --user "$QUOTA_EMAIL:$QUOTA_PASSWORD" \
    --file "$QUOTA_EMAIL:/Videos/holiday-2025.mkv=$WORK/holiday-2025.mkv" \
    --transfer-quota "$QUOTA_EMAIL:3000000" >"$WORK/quota.url" 2>"$WORK/quota.log" &
  SERVER_PID=$!
  until [ -s "$WORK/quota.url" ]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/quota.log" >&2; exit 1; }
    sleep 0.2
  done
  export QUOTA_URL=$(head -n1 "$WORK/quota.url")
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
