#!/usr/bin/env bash
# Re-record the conformance cases from an official SDK.
#   conformance/recorder/record.sh python [--only CASE_ID ...] [--sdk-logs]
#   conformance/recorder/record.sh typescript | python-0.56 | typescript-0.39 [--only CASE_ID ...]
# Creates conformance/recorder/.venv if missing, installs requirements.txt into it and runs the
# runner (record_python.py / record_typescript.py with the SDK version), which rewrites every
# case file of that SDK (all toolkits, the agents surface and the push events; see README.md) and
# removes stale ones after a clean full run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="${1:-}"
[ $# -gt 0 ] && shift

# make_venv DIR REQUIREMENTS [MIN_PYTHON]: create the venv DIR if missing (with $PYTHON, or
# ~/.pyenv's 3.13.0, python3.13 or python3; checked to be MIN_PYTHON or later when given) and
# install REQUIREMENTS into it.
make_venv() {
  local venv="$1" requirements="$2" min="${3:-}"
  if [ ! -x "$venv/bin/python" ]; then
    local py="${PYTHON:-}"
    if [ -z "$py" ]; then
      for candidate in "$HOME/.pyenv/versions/3.13.0/bin/python3.13" python3.13 python3; do
        if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
      done
    fi
    [ -n "$py" ] || { echo "no python3.13 found (set PYTHON=...)" >&2; exit 1; }
    if [ -n "$min" ]; then
      "$py" -c 'import sys; sys.exit(0 if sys.version_info >= tuple(map(int, sys.argv[1].split("."))) else 1)' "$min" \
        || { echo "$py is older than $min ($(basename "$requirements") needs >= $min)" >&2; exit 1; }
    fi
    "$py" -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
}

# npm_sdk DIR VERSION: make sure DIR/node_modules holds @meshagent/meshagent VERSION (npm ci).
npm_sdk() {
  local dir="$1" version="$2" have
  command -v node >/dev/null 2>&1 || { echo "node not found (Node 20+ and npm are needed)" >&2; exit 1; }
  have="$(cd "$dir" && node -p 'require("./node_modules/@meshagent/meshagent/package.json").version' 2>/dev/null || true)"
  if [ "$have" != "$version" ]; then
    (cd "$dir" && npm ci --no-audit --no-fund)
  fi
}

case "$sdk" in
  python)
    venv="$here/.venv"
    make_venv "$venv" "$here/requirements.txt" 3.13
    cd "$here"
    exec "$venv/bin/python" record_python.py --sdk 0.35.8 --out "$(cd "$here/.." && pwd)/cases/python" "$@"
    ;;
  typescript)
    # @meshagent/meshagent 0.35.8 via node (ts/driver.mjs); the fake room runs in the venv above,
    # created the same way if missing. Rewrites conformance/cases/typescript/*.yaml.
    venv="$here/.venv"
    make_venv "$venv" "$here/requirements.txt" 3.13
    npm_sdk "$here/ts" 0.35.8
    cd "$here"
    exec "$venv/bin/python" record_typescript.py --sdk 0.35.8 --out "$(cd "$here/.." && pwd)/cases/typescript" "$@"
    ;;
  python-0.56)
    # meshagent-api 0.56.0 in its own venv (.venv-0.56), next to the 0.35.8 one. Rewrites
    # conformance/cases-0.56/python/py056-*.yaml (see README.md, "Protocol 0.56").
    venv="$here/.venv-0.56"
    make_venv "$venv" "$here/requirements-0.56.txt"
    cd "$here"
    exec "$venv/bin/python" record_python.py --sdk 0.56.0 --out "$(cd "$here/.." && pwd)/cases-0.56/python" "$@"
    ;;
  typescript-0.39)
    # @meshagent/meshagent 0.39.9 in ts-0.39/ (its own node_modules), driven by the shared
    # ts/driver.mjs; the fake room runs in the 0.35.8 venv. Rewrites
    # conformance/cases-0.56/typescript/ts039-*.yaml.
    venv="$here/.venv"
    if [ ! -x "$venv/bin/python" ]; then
      echo "run '$0 python' once first (it creates $venv)" >&2; exit 1
    fi
    npm_sdk "$here/ts-0.39" 0.39.9
    cd "$here"
    exec "$venv/bin/python" record_typescript.py --sdk 0.39.9 --out "$(cd "$here/.." && pwd)/cases-0.56/typescript" "$@"
    ;;
  *)
    echo "usage: $0 python|typescript|python-0.56|typescript-0.39 [--only CASE_ID ...] [--sdk-logs]" >&2
    exit 2
    ;;
esac
