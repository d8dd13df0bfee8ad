#!/usr/bin/env bash
# Installs the Python clients of the real-clients conformance suite (azure-cli and the official
# Azure SDKs, pinned in tests/pyclients/requirements.txt) from PyPI into a virtual environment:
# $1, else $TWINUP_PYCLIENTS_VENV, else <cargo target dir>/pyclients-venv (where the tests look).
# The venv is keyed by the hash of requirements.txt: an unchanged file reuses it, a changed one
# rebuilds it. Needs python3 with the venv module. Prints the venv's path.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
requirements="$root/tests/pyclients/requirements.txt"
venv="${1:-${TWINUP_PYCLIENTS_VENV:-${CARGO_TARGET_DIR:-$root/target}/pyclients-venv}}"
python="${TWINUP_PYTHON:-python3}"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
stamp="$venv/.requirements.sha256"
if [ -x "$venv/bin/python" ] && [ -x "$venv/bin/az" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  echo "$venv"
  exit 0
fi
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python is not installed; the real-clients tests need Python 3.9+ with venv (apt-get install python3 python3-venv)" >&2
  exit 1
fi
rm -rf "$venv"
mkdir -p "$(dirname "$venv")"
"$python" -m venv "$venv"
start=$(date +%s)
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet \
  --requirement "$requirements" >&2
echo "installed the Python clients into $venv in $(( $(date +%s) - start )) s" >&2
echo "$want" >"$stamp"
echo "$venv"
