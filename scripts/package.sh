#!/usr/bin/env bash
# Usage: scripts/package.sh [--debug]
# Bundles the built app into a .deb and an .rpm with Tauri's bundler (`tauri bundle`, the CLI
# from npm in packaging/: scripts/tauri-cli.sh), from the release build (`make package` builds
# it first) or, with --debug, from the debug build (what `make app`/`make e2e` build; the
# package test uses it). Prints the packages' paths; they are in TARGET/PROFILE/bundle/.
#
# tauri.conf.json's `bundle` section describes the packages; this adds what depends on the
# machine: the target dir (CARGO_TARGET_DIR) that tuatara-cli is taken from into /usr/bin, and
# the .deb's Depends on the shared libraries both binaries link (dpkg-shlibdeps, as Debian's
# own packages get theirs) and the .rpm's Requires on their sonames (as rpmbuild would write
# them), beside the WebKitGTK and GTK the bundler declares itself. The packages get copies of
# the binaries without their debug info (`strip --strip-debug`, symbols kept for backtraces):
# the bundler reads them from a staging target dir, so the build itself is left as it is.
# Nothing is downloaded but the CLI's npm packages (once).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE=release FLAGS=()
if [ "${1:-}" = "--debug" ]; then PROFILE=debug FLAGS=(--debug); fi
TARGET_DIR=$(cd "$ROOT" && realpath -m "${CARGO_TARGET_DIR:-target}")
BIN="$TARGET_DIR/$PROFILE"
for b in tuatara tuatara-cli; do
  [ -x "$BIN/$b" ] || { echo "package: $BIN/$b is missing: build it first (make package does)" >&2; exit 1; }
done

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
STAGE="$WORK/target/$PROFILE"
mkdir -p "$STAGE" "$WORK/debian"
for b in tuatara tuatara-cli; do strip --strip-debug -o "$STAGE/$b" "$BIN/$b"; done
printf 'Source: tuatara\n\nPackage: tuatara\nArchitecture: any\n' >"$WORK/debian/control"
shlibs=$(cd "$WORK" && dpkg-shlibdeps -O -e"$STAGE/tuatara" -e"$STAGE/tuatara-cli" 2>"$WORK/shlibdeps.log") \
  || { cat "$WORK/shlibdeps.log" >&2; exit 1; }
needed=$(readelf -d "$STAGE/tuatara" "$STAGE/tuatara-cli" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u)
python3 - "$shlibs" "$needed" "$STAGE/tuatara-cli" >"$WORK/config.json" <<'PY'
import json, sys
shlibs, needed, cli = sys.argv[1], sys.argv[2].split(), sys.argv[3]
# What the bundler writes itself, left out so it is not there twice.
declared = {"libwebkit2gtk-4.1-0", "libgtk-3-0", "libwebkit2gtk-4.1.so.0", "libgtk-3.so.0"}
depends = [d.strip() for d in shlibs.split("=", 1)[1].split(",") if d.strip()]
depends = [d for d in depends if d.split()[0] not in declared]
requires = [f"{lib}()(64bit)" for lib in needed if lib not in declared]
files = {"/usr/bin/tuatara-cli": cli}
print(json.dumps({"bundle": {"active": True, "linux": {
    "deb": {"depends": depends, "files": files},
    "rpm": {"depends": requires, "files": files}}}}))
PY
# --no-binary-patching: the bundler would otherwise write the bundle type into the binary in
# place (for its updater, which Tuatara does not use).
CARGO_TARGET_DIR="$WORK/target" "$ROOT/scripts/tauri-cli.sh" bundle "${FLAGS[@]}" --bundles deb,rpm \
  --ci --no-binary-patching --config "$WORK/config.json" >"$WORK/bundle.log" 2>&1 \
  || { cat "$WORK/bundle.log" >&2; exit 1; }
rm -rf "$BIN/bundle/deb" "$BIN/bundle/rpm"
mkdir -p "$BIN/bundle/deb" "$BIN/bundle/rpm"
mv "$STAGE"/bundle/deb/*.deb "$BIN/bundle/deb/"
mv "$STAGE"/bundle/rpm/*.rpm "$BIN/bundle/rpm/"
ls "$BIN"/bundle/deb/*.deb "$BIN"/bundle/rpm/*.rpm
