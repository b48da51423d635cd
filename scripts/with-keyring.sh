#!/usr/bin/env bash
# Usage: scripts/with-keyring.sh CMD...
# Runs CMD inside a private D-Bus session with an unlocked gnome-keyring (Secret Service) whose
# keyring files live in throwaway directories, so tests that store sessions in the OS keyring
# run headless and never touch the user's own keyring. HOME is kept (rustup and cargo live
# there); only the keyring's data and runtime directories move. Without dbus-run-session or
# gnome-keyring-daemon (see scripts/deps.sh), CMD runs as it is and keyring tests are skipped.
#
# The daemon runs in the foreground as a child of this script, and CMD starts only once it owns
# the Secret Service name on the bus with the "login" keyring unlocked. Should it die while CMD
# runs, it is started again over the same keyring files (a line on stderr says so, with its
# log): otherwise the bus would start a fresh daemon on the next request, which finds the
# keyring locked and waits on a password prompt that no headless run can show.
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null \
  || ! command -v dbus-send >/dev/null; then
  echo "with-keyring: dbus-run-session, dbus-send or gnome-keyring-daemon missing; running without a keyring" >&2
  exec "$@"
fi
keyring_data=$(mktemp -d) runtime=$(mktemp -d)
chmod 700 "$runtime"
trap 'rm -rf "$keyring_data" "$runtime"' EXIT
# The keyring's own files go to the throwaway data dir; the command gets the caller's
# XDG_DATA_HOME back (tests set their own anyway).
XDG_DATA_HOME="$keyring_data" XDG_RUNTIME_DIR="$runtime" TUATARA_OUTER_DATA_HOME="${XDG_DATA_HOME-}" \
  dbus-run-session -- bash -c '
  set -euo pipefail
  log="$XDG_RUNTIME_DIR/gnome-keyring.log"
  secrets_owned() {
    dbus-send --session --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
      org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q "boolean true"
  }
  # --unlock reads a password on stdin and creates (or opens) and unlocks the "login" keyring,
  # which becomes the default collection. XDG_DATA_HOME is the throwaway one here.
  start_keyring() {
    printf "%s" "throwaway" | gnome-keyring-daemon --foreground --unlock --components=secrets >>"$log" 2>&1 &
    keyring=$!
    for _ in $(seq 1 200); do
      if secrets_owned; then return 0; fi
      if ! kill -0 "$keyring" 2>/dev/null; then break; fi
      sleep 0.05
    done
    echo "with-keyring: gnome-keyring-daemon did not come up; its log:" >&2
    cat "$log" >&2
    return 1
  }
  start_keyring
  data_home="$XDG_DATA_HOME"
  if [ -n "$TUATARA_OUTER_DATA_HOME" ]; then export XDG_DATA_HOME="$TUATARA_OUTER_DATA_HOME"; else unset XDG_DATA_HOME; fi
  unset TUATARA_OUTER_DATA_HOME
  export TUATARA_KEYRING=1
  "$@" &
  command_pid=$!
  # Watch the daemon while the command runs.
  while kill -0 "$command_pid" 2>/dev/null; do
    if ! kill -0 "$keyring" 2>/dev/null; then
      wait "$keyring" && status=0 || status=$?
      echo "with-keyring: gnome-keyring-daemon (pid $keyring) ended with status $status while the command ran; starting it again. Its log:" >&2
      cat "$log" >&2
      : >"$log"
      XDG_DATA_HOME="$data_home" start_keyring
    fi
    sleep 0.2
  done
  wait "$command_pid" && status=0 || status=$?
  kill "$keyring" 2>/dev/null || true
  exit "$status"
' bash "$@"
