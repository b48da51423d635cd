#!/usr/bin/env bash
# Usage: scripts/with-keyring.sh CMD...
# Runs CMD inside a private D-Bus session with an unlocked gnome-keyring (Secret Service) whose
# keyring files live in throwaway directories, so tests that store sessions in the OS keyring
# run headless and never touch the user's own keyring. HOME is kept (rustup and cargo live
# there); only the keyring's data and runtime directories move. Without dbus-run-session or
# gnome-keyring-daemon (see scripts/deps.sh), CMD runs as it is and keyring tests are skipped.
set -euo pipefail
if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  echo "with-keyring: dbus-run-session or gnome-keyring-daemon missing; running without a keyring" >&2
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
  # --unlock reads a password on stdin and creates and unlocks the "login" keyring, which
  # becomes the default collection.
  printf "%s" "throwaway" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  if [ -n "$TUATARA_OUTER_DATA_HOME" ]; then export XDG_DATA_HOME="$TUATARA_OUTER_DATA_HOME"; else unset XDG_DATA_HOME; fi
  unset TUATARA_OUTER_DATA_HOME
  export TUATARA_KEYRING=1
  "$@"
' bash "$@"
