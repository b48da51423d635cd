#!/usr/bin/env bash
# Installs what Tuatara needs to build and test on a fresh Debian/Ubuntu machine. Idempotent:
# a machine that has everything is left alone and nothing is fetched. Runs as root, or through
# sudo when not root. Tools that only come from crates.io are built with `cargo install`.
set -euo pipefail

# libdbus-1-dev: the keyring crate (Secret Service); dbus, gnome-keyring: scripts/with-keyring.sh;
# libsecret-tools: secret-tool, which the CLI tests use to look into the keyring.
APT_PACKAGES=(build-essential pkg-config git ca-certificates curl python3 python3-venv libdbus-1-dev dbus gnome-keyring libsecret-tools)
# The desktop app (src-tauri): WebKitGTK and GTK to build it; for scripts/e2e.sh and
# scripts/screenshot.sh (the real window headless): Xvfb and xauth (xvfb-run), WebKitWebDriver
# (webkit2gtk-driver), dbus-run-session (dbus-daemon) with gnome-keyring, secret-tool, xdotool
# and Debian's python3-gi with GTK 3 (the real drag source; the e2e's notification server),
# python3-xlib (a window closed as a window manager closes it), dunst (a notification daemon
# that draws, for the background notification's screenshot), pgrep (procps: the app's pid for the
# kill mid-download) and fonts; chromium for the UI's browser scripts (ui/e2e/*.mjs).
APT_PACKAGES+=(libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev librsvg2-dev
  libayatana-appindicator3-dev libxdo-dev libssl-dev file xvfb xauth dbus-x11 dbus-daemon webkit2gtk-driver
  fonts-dejavu-core imagemagick xdotool x11-utils python3-gi gir1.2-gtk-3.0 python3-xlib dunst procps chromium)
# The app's viewer plays video and audio through WebKitGTK's GStreamer backend (the e2e's WebM/VP8).
APT_PACKAGES+=(gstreamer1.0-plugins-base gstreamer1.0-plugins-good)
# `make package` and its test (scripts/package.sh, scripts/package-test.sh): dpkg-shlibdeps
# (dpkg-dev) and readelf (binutils) for the packages' dependencies, desktop-file-validate and
# update-desktop-database (desktop-file-utils), xdg-mime (xdg-utils: also how a run from a build
# makes itself the mega: handler, which the e2e asks about), rpm to read the .rpm.
APT_PACKAGES+=(dpkg-dev binutils desktop-file-utils xdg-utils rpm)
# Another process (unattended upgrades, a parallel job) may hold the dpkg lock: wait for it.
APT=(env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    echo "deps: need root or sudo to run: $*" >&2; exit 1; fi
}

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  as_root "${APT[@]}" update -q
  as_root "${APT[@]}" install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null; then
  echo "deps: no Rust toolchain (cargo) on PATH; install Rust stable with rustup first" >&2
  exit 1
fi
for component in rustfmt clippy; do
  if ! cargo "${component/rustfmt/fmt}" --version >/dev/null 2>&1; then
    echo "deps: the Rust toolchain lacks $component (rustup component add $component)" >&2
    exit 1
  fi
done

cargo_tool() { # binary crate
  if ! command -v "$1" >/dev/null; then
    echo "deps: cargo install $2"
    cargo install --locked "$2"
  fi
}
cargo_tool cargo-nextest cargo-nextest
cargo_tool cargo-fuzz cargo-fuzz

# Node.js for the UI (Vite 8 needs Node 20.19 or later) and the megajs peer: the machine's own
# if it has one, else Debian's (Debian 13 ships 20.19; older releases need a newer Node first).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "deps: installing nodejs npm"
  as_root "${APT[@]}" update -q
  as_root "${APT[@]}" install -y -q --no-install-recommends nodejs npm
fi
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "deps: the UI's build (Vite 8) needs Node.js 20.19 or later; this is $(node --version)" >&2
  exit 1
fi
"$(dirname "$0")/peers.sh"
echo "deps: ok"
