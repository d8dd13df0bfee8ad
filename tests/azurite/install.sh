#!/usr/bin/env bash
# Installs Azurite (the Azure Storage emulator) from the npm registry for the blob checkpoint
# tests, once: into $1, else $TWINUP_AZURITE_DIR, else <cargo target dir>/tmp/azurite (where the
# tests look for it). Needs node and npm. Prints the path of azurite-blob.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
dir="${1:-${TWINUP_AZURITE_DIR:-${CARGO_TARGET_DIR:-$root/target}/tmp/azurite}}"
bin="$dir/node_modules/.bin/azurite-blob"
if [ ! -x "$bin" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "error: npm is not installed; the blob checkpoint tests need it to install Azurite" >&2
    exit 1
  fi
  mkdir -p "$dir"
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error azurite@3 >&2
fi
echo "$bin"
