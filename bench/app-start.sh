#!/usr/bin/env bash
# Usage: bench/app-start.sh APP_BINARY   (`make bench-app`; the release app, beside the release
# mega-testserver)
# The desktop app's start on an account of BENCH_CACHE_NODES nodes (1,000,000), issue 17: the
# real app binary in a real WebKitGTK window under Xvfb, with a throwaway keyring, driven
# through WebKitWebDriver (bench/app_start.py). Table in target/bench/app-start.md.
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
  nodes=${BENCH_CACHE_NODES:-1000000}
  export WORK APP BENCH_EMAIL=bench@tuatara.test BENCH_PASSWORD='bench pass phrase' ROOT
  "$BIN/mega-testserver" --data "$WORK/server" --user "$BENCH_EMAIL:$BENCH_PASSWORD" \
    --bulk "$BENCH_EMAIL:$((nodes / 1001)):1000" >"$WORK/server.url" 2>"$WORK/server.log" &
  pids+=($!)
  until [ -s "$WORK/server.url" ]; do
    kill -0 "${pids[0]}" 2>/dev/null || { cat "$WORK/server.log" >&2; exit 1; }
    sleep 0.2
  done
  export SERVER_URL=$(head -n1 "$WORK/server.url")
  source "$ROOT/scripts/webdriver-env.sh"
  app_test_env "$WORK" null
  pids+=("$WD_PID")
  python3 "$ROOT/bench/app_start.py"
  if [ -n "${BENCH_PERF:-}" ]; then cp "$WORK/server.log" "$BENCH_PERF.server.log"; cp "$WORK/driver.log" "$BENCH_PERF.driver.log"; fi
  exit 0
fi

APP=$(realpath "${1:?usage: bench/app-start.sh APP_BINARY}")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=$(dirname "$APP")
[ -x "$BIN/mega-testserver" ] || { echo "app-start: build mega-testserver beside the app first" >&2; exit 1; }
exec xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" \
  "$ROOT/scripts/with-keyring.sh" "$ROOT/bench/app-start.sh" --inner "$APP" "$ROOT" "$BIN"
