#!/usr/bin/env bash
# The official Python SDK (meshagent-api 0.56.0) against devroom: builds and starts the
# devroom binary on a free port, runs connect.py (two RoomClients: storage upload, list and
# download, a queue message, list_toolkits, messaging, a developer log) and stops the server.
#   devroom/tests/python/run.sh
# Needs Python 3.13 ($PYTHON, python3.13 on PATH, or ~/.pyenv/versions/3.13.*/bin/python3.13);
# without it, prints "devroom python-sdk check SKIPPED: Python 3.13 not found" and exits 0.
# Exits with connect.py's status (1 on any failed check), or 1 if the server did not start.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
sdk_version="0.56.0"
venv_dir="$here/.venv"
startup_timeout=60 # s for the server to print its port
client_timeout=180 # s for the whole check (the first SDK import is slow)

is_py313() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; }
has_sdk() {
  "$1" -c 'import importlib.metadata as m, sys, meshagent.api.room_server_client
sys.exit(0 if m.version("meshagent-api") == sys.argv[1] else 1)' "$sdk_version" >/dev/null 2>&1
}

# 1. A venv with meshagent-api 0.56.0: the conformance peer's (same requirements), or ours.
venv_py=""
for candidate in "$root/conformance/peer/.venv-0.56.0/bin/python" "$venv_dir/bin/python"; do
  if [ -x "$candidate" ] && is_py313 "$candidate" && has_sdk "$candidate"; then
    venv_py="$candidate"
    break
  fi
done
if [ -z "$venv_py" ]; then
  py=""
  for candidate in "${PYTHON:-}" python3.13 "$HOME"/.pyenv/versions/3.13.*/bin/python3.13; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if is_py313 "$candidate"; then
      py="$candidate"
      break
    fi
  done
  if [ -z "$py" ]; then
    echo "devroom python-sdk check SKIPPED: Python 3.13 not found"
    echo "(set PYTHON=/path/to/python3.13 to run it)" >&2
    exit 0
  fi
  echo "== devroom python-sdk: installing requirements.txt into $venv_dir (with $py)"
  [ -x "$venv_dir/bin/python" ] || "$py" -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  venv_py="$venv_dir/bin/python"
  if ! has_sdk "$venv_py"; then
    echo "devroom python-sdk check FAILED: meshagent-api $sdk_version does not import in $venv_dir" >&2
    exit 1
  fi
fi

# 2. The server, built first, on a free port.
cd "$root"
cargo build -q -p devroom --bin devroom
log="$(mktemp "${TMPDIR:-/tmp}/devroom-python.XXXXXX")"
target_dir="$(cargo metadata --format-version 1 --no-deps | "$venv_py" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
"$target_dir/debug/devroom" --port 0 >"$log" 2>&1 &
server_pid=$!
cleanup() {
  if kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -f "$log"
}
trap cleanup EXIT

port=""
for _ in $(seq $((startup_timeout * 10))); do
  port="$(awk '$1 == "PORT" { print $2; exit }' "$log")"
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "devroom python-sdk check FAILED: devroom did not start:" >&2
  sed 's/^/  devroom| /' "$log" >&2
  exit 1
fi
url="ws://127.0.0.1:$port/rooms/python-check"
echo "== devroom python-sdk: $("$venv_py" --version) meshagent-api $sdk_version against $url"

# 3. The SDK's checks.
set +e
timeout "$client_timeout" "$venv_py" "$here/connect.py" --url "$url"
rc=$?
set -e
if [ "$rc" -ne 0 ]; then
  echo "-- devroom log:"
  sed 's/^/  devroom| /' "$log"
  echo "devroom python-sdk check FAILED (exit $rc)"
  exit 1
fi
echo "devroom python-sdk check PASSED"
