#!/usr/bin/env bash
# Usage: scripts/package-test.sh [--release]
# The package test (`make package-test`, part of `make test`): bundles the debug build (the one
# `make app` and `make e2e` build; --release: the release build `make package` makes) with
# scripts/package.sh and checks what a user gets:
#   - the icons in src-tauri/icons are the ones packaging/icon.svg makes (scripts/icons.sh);
#   - the .deb's control (dpkg-deb -f): name, the workspace's version, Depends, Recommends;
#   - unpacked into a temporary root (dpkg-deb -x): both binaries, the icons, the desktop entry
#     valid (desktop-file-validate) with its Exec passing the URL and the mega: scheme;
#   - the MIME handler: with throwaway XDG_* dirs holding the entry, `xdg-mime query default
#     x-scheme-handler/mega` names it, and `xdg-open mega:...` runs its Exec with the URL;
#     `tuatara-cli --version` from the root;
#   - the unpacked app starts under Xvfb with a private D-Bus and keyring, throwaway dirs, its
#     window appears (xdotool), is screenshotted (target/screenshots/package/) and it quits;
#   - as root, when no tuatara package is installed here: `dpkg -i`, the installed files and the
#     desktop database naming the handler, then `dpkg -r` leaves none of them (also on failure);
#   - the .rpm (when `rpm` is here): name, version, files and requirements.
# Prints `package-test: N passed`.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TITLE=Tuatara ENTRY=Tuatara.desktop

if [ "${1:-}" = "--window" ]; then
  # Inside Xvfb and with-keyring.sh: start APP, wait for its window, screenshot it, stop it.
  APP=$2 WORK=$3 SHOTS=$4
  export NO_AT_BRIDGE=1 # no accessibility bus: its daemons only add noise here
  export TUATARA_CONFIG_DIR="$WORK/app-config" TUATARA_DATA_DIR="$WORK/app-data"
  export XDG_CONFIG_HOME="$WORK/xdg-config" XDG_DATA_HOME="$WORK/xdg-data" XDG_CACHE_HOME="$WORK/xdg-cache"
  "$APP" >"$WORK/app.log" 2>&1 &
  app=$!
  trap 'kill "$app" 2>/dev/null || true' EXIT
  win=
  for _ in $(seq 1 300); do
    win=$(xdotool search --name "^$TITLE\$" 2>/dev/null | head -n1) && [ -n "$win" ] && break
    kill -0 "$app" 2>/dev/null || { echo "the app ended before its window appeared:" >&2; cat "$WORK/app.log" >&2; exit 1; }
    sleep 0.2
  done
  [ -n "$win" ] || { echo "no window named $TITLE within 60 s:" >&2; cat "$WORK/app.log" >&2; exit 1; }
  xprop -id "$win" WM_CLASS | sed 's/.*= //' >"$WORK/wm_class"
  sleep 4 # the first paint
  mkdir -p "$SHOTS" && import -window root "$SHOTS/window.png"
  kill -TERM "$app"
  for _ in $(seq 1 100); do kill -0 "$app" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$app" 2>/dev/null; then echo "the app did not quit within 10 s of SIGTERM" >&2; exit 1; fi
  exit 0
fi

PROFILE=debug FLAGS=(--debug)
if [ "${1:-}" = "--release" ]; then PROFILE=release FLAGS=(); fi
for tool in dpkg-deb desktop-file-validate update-desktop-database xdg-mime xvfb-run xdotool xprop import; do
  command -v "$tool" >/dev/null || { echo "package-test: $tool is missing: run scripts/deps.sh" >&2; exit 1; }
done
WORK=$(mktemp -d)
installed=0
cleanup() {
  if [ $installed -eq 1 ]; then dpkg -r tuatara >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }
has() { grep -qxF -- "$2" "$1" || fail "$3: no line '$2' in $(basename "$1")"; }

"$ROOT/scripts/icons.sh" --check && ok "icons made from packaging/icon.svg"

VERSION=$(cd "$ROOT" && cargo metadata --no-deps --format-version 1 --locked \
  | python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "tuatara-app"))')
"$ROOT/scripts/package.sh" "${FLAGS[@]}" >"$WORK/packages"
DEB=$(grep '\.deb$' "$WORK/packages") RPM=$(grep '\.rpm$' "$WORK/packages")
[ -f "$DEB" ] && [ -f "$RPM" ] || fail "scripts/package.sh made no .deb and .rpm"
ok "bundled $(basename "$DEB") and $(basename "$RPM") ($(du -h "$DEB" | cut -f1))"

# The control file.
field() { dpkg-deb -f "$DEB" "$1"; }
[ "$(field Package)" = tuatara ] || fail "package name: $(field Package)"
[ "$(field Version)" = "$VERSION" ] || fail "package version $(field Version), workspace $VERSION"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 libdbus-1-3 libc6; do
  field Depends | tr ',' '\n' | grep -q "^ *$dep\( \|$\)" || fail "Depends lacks $dep: $(field Depends)"
done
field Recommends | grep -q 'gnome-keyring' || fail "Recommends lacks the Secret Service: $(field Recommends)"
ok "control: tuatara $VERSION, Depends: $(field Depends | cut -c1-60)..., Recommends: $(field Recommends)"

# Unpacked into a temporary root.
ROOTFS="$WORK/root"
dpkg-deb -x "$DEB" "$ROOTFS"
dpkg-deb -c "$DEB" | awk '{print $6}' | sed 's|^\.\{0,1\}/\{0,1\}|/|' >"$WORK/files"
for f in /usr/bin/tuatara /usr/bin/tuatara-cli "/usr/share/applications/$ENTRY"; do
  has "$WORK/files" "$f" "package contents"
done
for size in 32x32 64x64 128x128 256x256 512x512; do
  has "$WORK/files" "/usr/share/icons/hicolor/$size/apps/tuatara.png" "package contents"
  got=$(identify -format '%wx%h' "$ROOTFS/usr/share/icons/hicolor/$size/apps/tuatara.png")
  [ "$got" = "$size" ] || fail "the $size icon is $got"
done
ok "unpacked: /usr/bin/tuatara, /usr/bin/tuatara-cli, the entry, icons 32 to 512"

DESKTOP="$ROOTFS/usr/share/applications/$ENTRY"
desktop-file-validate "$DESKTOP" || fail "desktop-file-validate $ENTRY"
has "$DESKTOP" "Exec=tuatara %u" "desktop entry"
has "$DESKTOP" "MimeType=x-scheme-handler/mega;" "desktop entry"
has "$DESKTOP" "Icon=tuatara" "desktop entry"
grep -q '^Categories=.*Network;' "$DESKTOP" || fail "desktop entry: Categories without Network"
ok "desktop entry valid: Exec=tuatara %u, MimeType=x-scheme-handler/mega;"

# The MIME handler, in a throwaway XDG home with no other data or config dirs and no desktop
# environment (xdg-mime's generic lookup: mimeapps.list, then the desktop database).
mime_query() {
  env -u XDG_CURRENT_DESKTOP -u DESKTOP_SESSION -u KDE_FULL_SESSION -u GNOME_DESKTOP_SESSION_ID \
    HOME="$WORK/home" XDG_DATA_HOME="$WORK/home/data" XDG_CONFIG_HOME="$WORK/home/config" \
    XDG_DATA_DIRS="$WORK/home/none" XDG_CONFIG_DIRS="$WORK/home/none" \
    xdg-mime query default x-scheme-handler/mega
}
mkdir -p "$WORK/home/data/applications" "$WORK/home/config" "$WORK/home/none"
[ -z "$(mime_query)" ] || fail "a mega: handler before the entry was installed: $(mime_query)"
cp "$DESKTOP" "$WORK/home/data/applications/"
update-desktop-database "$WORK/home/data/applications"
[ "$(mime_query)" = "$ENTRY" ] || fail "xdg-mime query default x-scheme-handler/mega: '$(mime_query)'"
ok "xdg-mime query default x-scheme-handler/mega: $ENTRY"

# xdg-open of a mega: URL runs the entry's Exec with the URL, whole, as its one argument. The
# `tuatara` it finds first on PATH here is a probe that writes down its arguments: this checks
# the entry; what the app does with the link is the app's own test (tests/e2e).
mkdir -p "$WORK/probe"
printf '#!/bin/sh\nprintf "%%s\\n" "$#" "$@" >"%s"\n' "$WORK/probe/args" >"$WORK/probe/tuatara"
chmod +x "$WORK/probe/tuatara"
for url in 'mega:#!ruUBU5aJ!tQxSWRY8fj0cwE96Idx25mL8Gr8Fe65LhzJkgo3HM40' \
  'mega:folder/Y5WccVVf#7IsrN3zK-0a6KT-hAsPC8g'; do
  rm -f "$WORK/probe/args"
  env -u XDG_CURRENT_DESKTOP -u DESKTOP_SESSION -u KDE_FULL_SESSION -u GNOME_DESKTOP_SESSION_ID \
    DISPLAY="${DISPLAY:-:0}" PATH="$WORK/probe:$PATH" HOME="$WORK/home" \
    XDG_DATA_HOME="$WORK/home/data" XDG_CONFIG_HOME="$WORK/home/config" \
    XDG_DATA_DIRS="$WORK/home/none" XDG_CONFIG_DIRS="$WORK/home/none" xdg-open "$url" \
    || fail "xdg-open $url"
  for _ in $(seq 1 50); do [ -s "$WORK/probe/args" ] && break; sleep 0.1; done
  [ "$(cat "$WORK/probe/args" 2>/dev/null)" = "$(printf '1\n%s' "$url")" ] \
    || fail "xdg-open $url ran: $(cat "$WORK/probe/args" 2>/dev/null || echo nothing)"
done
ok "xdg-open mega:... runs 'tuatara URL' through the entry (the URL whole, one argument)"

cli_version=$("$ROOTFS/usr/bin/tuatara-cli" --version)
[ "$cli_version" = "tuatara-cli $VERSION" ] || fail "tuatara-cli --version: $cli_version"
ok "unpacked tuatara-cli --version: $cli_version"

# The unpacked app under Xvfb.
SHOTS="$ROOT/target/screenshots/package"
xvfb-run -a -s "-screen 0 1280x800x24 -nolisten tcp" "$ROOT/scripts/with-keyring.sh" \
  "$ROOT/scripts/package-test.sh" --window "$ROOTFS/usr/bin/tuatara" "$WORK" "$SHOTS" \
  || fail "the unpacked app under Xvfb"
wm_class=$(cat "$WORK/wm_class")
startup=$(sed -n 's/^StartupWMClass=//p' "$DESKTOP")
grep -qF "\"$startup\"" <<<"$wm_class" || fail "StartupWMClass=$startup, the window's WM_CLASS is $wm_class"
ok "the unpacked app's window '$TITLE' appeared (WM_CLASS $wm_class; $SHOTS/window.png) and it quit"

# Installed and removed, as root, unless this machine has its own tuatara package.
if [ "$(id -u)" -ne 0 ]; then
  echo "skipped: dpkg -i (not root)"
elif dpkg-query -W -f='${Status}' tuatara 2>/dev/null | grep -q "install ok installed"; then
  echo "skipped: dpkg -i (a tuatara package is installed here already; left alone)"
else
  installed=1
  dpkg -i "$DEB" >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; fail "dpkg -i"; }
  [ "$(/usr/bin/tuatara-cli --version)" = "tuatara-cli $VERSION" ] || fail "installed tuatara-cli --version"
  [ -x /usr/bin/tuatara ] || fail "no /usr/bin/tuatara after dpkg -i"
  desktop-file-validate "/usr/share/applications/$ENTRY" || fail "installed entry"
  grep -q "^x-scheme-handler/mega=.*$ENTRY" /usr/share/applications/mimeinfo.cache \
    || fail "the system's desktop database does not name $ENTRY for x-scheme-handler/mega"
  dpkg -L tuatara | while read -r f; do [ -d "$f" ] || echo "$f"; done >"$WORK/installed"
  ok "dpkg -i: $(wc -l <"$WORK/installed") files, tuatara-cli on the PATH, the desktop database names $ENTRY"
  dpkg -r tuatara >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; fail "dpkg -r"; }
  installed=0
  while read -r f; do [ ! -e "$f" ] || fail "$f is left after dpkg -r"; done <"$WORK/installed"
  ! grep -q "$ENTRY" /usr/share/applications/mimeinfo.cache || fail "$ENTRY is left in the desktop database"
  ! dpkg-query -W -f='${Status}' tuatara 2>/dev/null | grep -q "installed" || fail "still installed"
  ok "dpkg -r: every file gone, the handler out of the desktop database"
fi

if command -v rpm >/dev/null; then
  [ "$(rpm -qp --qf '%{NAME} %{VERSION}' "$RPM" 2>/dev/null)" = "tuatara $VERSION" ] || fail "rpm name and version"
  rpm -qpl "$RPM" 2>/dev/null >"$WORK/rpm-files"
  for f in /usr/bin/tuatara /usr/bin/tuatara-cli "/usr/share/applications/$ENTRY"; do has "$WORK/rpm-files" "$f" "rpm contents"; done
  rpm -qpR "$RPM" 2>/dev/null >"$WORK/rpm-requires"
  for dep in 'libwebkit2gtk-4.1.so.0()(64bit)' 'libdbus-1.so.3()(64bit)'; do has "$WORK/rpm-requires" "$dep" "rpm requires"; done
  ok "rpm: tuatara $VERSION, both binaries and the entry, requires WebKitGTK and libdbus"
else
  echo "skipped: the .rpm's metadata (no rpm here)"
fi
echo "package-test: $passed passed"
