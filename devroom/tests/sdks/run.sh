#!/usr/bin/env bash
# The official SDKs against devroom: builds and starts the devroom binary on a free port,
# then runs
#   connect.py  - Python meshagent-api 0.56.0 (0.56 transport: header token, v=0.56.0), and
#   connect.cjs - TypeScript @meshagent/meshagent 0.39.9 (0.35.8 transport: query token,
#                 acknowledged request chunks),
# each in a room of its own (storage, queues, list_toolkits, messaging, a developer log; the
# TypeScript one also hosts a toolkit called by its second client), and stops the server.
#   devroom/tests/sdks/run.sh            # both
#   devroom/tests/sdks/run.sh python     # one of them (python | node)
# Needs Python 3.13 ($PYTHON, python3.13 on PATH, or ~/.pyenv/versions/3.13.*/bin/python3.13)
# and Node 20+ with npm; an SDK whose runtime is missing prints "... SKIPPED: ..." and is not
# run. Installs into devroom/tests/sdks/{.venv,node_modules} (ignored by git).
# Exits 1 if a check failed or the server did not start.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
only="${1:-all}"
py_sdk_version="0.56.0"
startup_timeout=60 # s for the server to print its port
client_timeout=180 # s for each SDK's check (the first SDK import is slow)

# ---- Python: a venv with meshagent-api 0.56.0 (the conformance peer's, same requirements, or ours)
is_py313() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; }
has_sdk() {
  "$1" -c 'import importlib.metadata as m, sys, meshagent.api.room_server_client
sys.exit(0 if m.version("meshagent-api") == sys.argv[1] else 1)' "$py_sdk_version" >/dev/null 2>&1
}
python_env() { # prints the venv's python, or nothing when Python 3.13 is missing
  local candidate py=""
  for candidate in "$root/conformance/peer/.venv-0.56.0/bin/python" "$here/.venv/bin/python"; do
    if [ -x "$candidate" ] && is_py313 "$candidate" && has_sdk "$candidate"; then
      echo "$candidate"
      return
    fi
  done
  for candidate in "${PYTHON:-}" python3.13 "$HOME"/.pyenv/versions/3.13.*/bin/python3.13; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if is_py313 "$candidate"; then
      py="$candidate"
      break
    fi
  done
  [ -n "$py" ] || return 0
  echo "== devroom sdks: installing requirements.txt into $here/.venv (with $py)" >&2
  [ -x "$here/.venv/bin/python" ] || "$py" -m venv "$here/.venv"
  "$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt" >&2
  has_sdk "$here/.venv/bin/python" || { echo "meshagent-api $py_sdk_version does not import in $here/.venv" >&2; return 1; }
  echo "$here/.venv/bin/python"
}

# ---- Node: @meshagent/meshagent 0.39.9 from package.json
node_env() { # succeeds when node 20+ and the packages are there
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || return 1
  if ! (cd "$here" && node -e 'process.exit(require("@meshagent/meshagent/package.json").version === "0.39.9" ? 0 : 1)') 2>/dev/null; then
    echo "== devroom sdks: npm install (package.json) in $here" >&2
    (cd "$here" && npm install --silent --no-audit --no-fund >&2)
  fi
}

# ---- the server, built first, on a free port
cd "$root"
cargo build -q -p devroom --bin devroom
target_dir="$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
log="$(mktemp "${TMPDIR:-/tmp}/devroom-sdks.XXXXXX")"
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
  echo "devroom sdks check FAILED: devroom did not start:" >&2
  sed 's/^/  devroom| /' "$log" >&2
  exit 1
fi
base="ws://127.0.0.1:$port/rooms"

failed=0
run_check() { # name, command...
  local name="$1"
  shift
  set +e
  timeout "$client_timeout" "$@"
  local rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then
    echo "devroom $name check PASSED"
  else
    echo "devroom $name check FAILED (exit $rc)"
    failed=1
  fi
}

if [ "$only" = all ] || [ "$only" = python ]; then
  venv_py="$(python_env)"
  if [ -z "$venv_py" ]; then
    echo "devroom python-sdk check SKIPPED: Python 3.13 not found (set PYTHON=/path/to/python3.13)"
  else
    echo "== devroom sdks: $("$venv_py" --version) meshagent-api $py_sdk_version against $base/python-check"
    run_check python-sdk "$venv_py" "$here/connect.py" --url "$base/python-check"
  fi
fi
if [ "$only" = all ] || [ "$only" = node ]; then
  if ! node_env; then
    echo "devroom typescript-sdk check SKIPPED: Node 20+ with npm not found"
  else
    echo "== devroom sdks: node $(node --version) @meshagent/meshagent 0.39.9 against $base/ts-check"
    run_check typescript-sdk node "$here/connect.cjs" --url "$base/ts-check"
  fi
fi

if [ "$failed" -ne 0 ]; then
  echo "-- devroom log:"
  sed 's/^/  devroom| /' "$log"
  exit 1
fi
