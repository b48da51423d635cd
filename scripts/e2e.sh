#!/usr/bin/env bash
# Usage: scripts/e2e.sh APP_BINARY
# The end-to-end run of the desktop app (tests/e2e/test_app.py): a mega-testserver with an
# account and files (throttled, so a download can be killed half-way), the real app binary
# (its default custom-protocol build) driven through WebKitWebDriver, all under
# Xvfb, a private D-Bus session and a throwaway gnome-keyring (scripts/with-keyring.sh). The
# app's config and data dirs are temporary: nothing of this machine's own state is used.
set -euo pipefail
if [ "${1:-}" = "--inner" ]; then
  shift
  APP=$1 ROOT=$2 BIN=$3
  WORK=$(mktemp -d)
  pids=()
  cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
  }
  trap cleanup EXIT
  export WORK E2E_EMAIL=e2e@tuatara.test E2E_PASSWORD='e2e pass phrase' CLI="$BIN/tuatara-cli" APP
  export BIG_FILE="$WORK/big-video.bin" SHOTS="${SHOTS:-$ROOT/target/screenshots/e2e}"
  head -c $((48 * 1024 * 1024)) /dev/urandom >"$BIG_FILE"
  echo "Welcome to the end-to-end drive." >"$WORK/welcome.txt"
  # 3 MB/s: the big download takes about 16 s, long enough to be killed half-way.
  "$BIN/mega-testserver" --data "$WORK/server" --throttle 3000000 \
    --user "$E2E_EMAIL:$E2E_PASSWORD" \
    --file "$E2E_EMAIL:/Inbox/welcome.txt=$WORK/welcome.txt" \
    --file "$E2E_EMAIL:/big-video.bin=$BIG_FILE" \
    --file "$E2E_EMAIL:/Media/picture.png=$ROOT/tests/e2e/assets/picture.png" \
    --file "$E2E_EMAIL:/Media/document.pdf=$ROOT/tests/e2e/assets/document.pdf" \
    --file "$E2E_EMAIL:/Media/clip.webm=$ROOT/crates/mega-testserver/assets/clip.webm" >"$WORK/server.url" 2>"$WORK/server.log" &
  pids+=($!)
  until [ -s "$WORK/server.url" ]; do
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.2
  done
  export SERVER_URL=$(head -n1 "$WORK/server.url")
  # The app's own directories (downloads into the work dir) and the driver.
  source "$ROOT/scripts/webdriver-env.sh"
  app_test_env "$WORK" null
  pids+=("$WD_PID")
  rc=0
  python3 "$ROOT/tests/e2e/test_app.py" || rc=$?
  if [ $rc -ne 0 ]; then
    echo "--- server log (tail)"; tail -n 20 "$WORK/server.log"
    echo "--- driver log (tail)"; tail -n 40 "$WORK/driver.log"
  fi
  exit $rc
fi

APP=$(realpath "${1:?usage: scripts/e2e.sh APP_BINARY}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$APP")
for tool in xvfb-run WebKitWebDriver xdotool secret-tool; do
  command -v "$tool" >/dev/null || { echo "e2e: $tool is missing: run scripts/deps.sh" >&2; exit 1; }
done
[ -x "$BIN/mega-testserver" ] && [ -x "$BIN/tuatara-cli" ] || {
  echo "e2e: build mega-testserver and tuatara-cli beside the app first (make e2e does)" >&2; exit 1; }
exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  "$ROOT/scripts/with-keyring.sh" "$ROOT/scripts/e2e.sh" --inner "$APP" "$ROOT" "$BIN"
