# Sourced by scripts/e2e.sh and scripts/screenshot.sh (inside Xvfb and the keyring wrapper):
# gives the app throwaway config and data dirs with settings for a test run (closing the window
# quits, whatever runs: a test that wants the background mode sets it), and starts
# WebKitWebDriver on a free port. Sets TUATARA_CONFIG_DIR, TUATARA_DATA_DIR, WD and WD_PID.
# Usage: app_test_env WORK DOWNLOAD_LIMIT   (a byte rate, or null)
app_test_env() {
  local work=$1 limit=$2 port=4445
  export TUATARA_CONFIG_DIR="$work/config" TUATARA_DATA_DIR="$work/data"
  mkdir -p "$TUATARA_CONFIG_DIR" "$work/downloads"
  printf '{"downloadDir":"%s","connections":4,"maxFilesAtOnce":4,"downloadLimit":%s,"uploadLimit":null,"schedule":[],"useHttps":false,"notifications":false,"watchClipboard":false,"closeAction":"quit"}\n' \
    "$work/downloads" "$limit" >"$TUATARA_CONFIG_DIR/settings.json"
  while (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do port=$((port + 1)); done
  # Without TAURI_WEBVIEW_AUTOMATION the app's webview refuses automation and the session hangs.
  TAURI_WEBVIEW_AUTOMATION=true WebKitWebDriver --port=$port >"$work/driver.log" 2>&1 &
  export WD_PID=$! WD="http://127.0.0.1:$port"
  until (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null; do sleep 0.1; done
}
