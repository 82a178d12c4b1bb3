#!/usr/bin/env bash
# Re-record the conformance cases from an official SDK.
#   conformance/recorder/record.sh python [--only CASE_ID ...]
# Creates conformance/recorder/.venv if missing, installs requirements.txt into it and runs the
# driver, which rewrites conformance/cases/python/*.yaml.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
sdk="${1:-}"
[ $# -gt 0 ] && shift

case "$sdk" in
  python)
    venv="$here/.venv"
    if [ ! -x "$venv/bin/python" ]; then
      py="${PYTHON:-}"
      if [ -z "$py" ]; then
        for candidate in "$HOME/.pyenv/versions/3.13.0/bin/python3.13" python3.13 python3; do
          if command -v "$candidate" >/dev/null 2>&1; then py="$candidate"; break; fi
        done
      fi
      [ -n "$py" ] || { echo "no python3.13 found (set PYTHON=...)" >&2; exit 1; }
      "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 13) else 1)' \
        || { echo "$py is older than 3.13 (meshagent-api 0.35.8 needs >= 3.13)" >&2; exit 1; }
      "$py" -m venv "$venv"
    fi
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
    cd "$here"
    exec "$venv/bin/python" record_python.py --out "$(cd "$here/.." && pwd)/cases/python" "$@"
    ;;
  *)
    echo "usage: $0 python [--only CASE_ID ...]" >&2
    exit 2
    ;;
esac
