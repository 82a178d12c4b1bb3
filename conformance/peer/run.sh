#!/usr/bin/env bash
# The "real peer" check: the generated Rust client (conformance/examples/python_peer.rs) against
# python_room.py, a room server built on meshagent-api 0.35.8's own protocol classes.
#   conformance/peer/run.sh                          # meshagent-api 0.35.8, client built for protocol 0.35.8
#   PEER_SDK_VERSION=0.56.0 conformance/peer/run.sh  # meshagent-api 0.56.0, client built for 0.56 (default build)
# Needs Python 3.13 ($PYTHON, python3.13 on PATH, or ~/.pyenv/versions/3.13.*/bin/python3.13);
# without it, prints "python-peer check SKIPPED: Python 3.13 not found" and exits 0.
# Exits with the client's status, or 1 if the client passed but the server saw a wire disagreement.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
sdk_version="${PEER_SDK_VERSION:-0.35.8}"
# The client speaks the server's protocol version: its cargo features and target folder,
# and the venv and requirements of that SDK version.
case "$sdk_version" in
  0.35.8)
    cargo_flags=(--no-default-features --features protocol-0-35-8 --target-dir target/protocol-0.35.8)
    venv_dir="$here/.venv"
    requirements="$here/requirements.txt"
    ;;
  0.56.0)
    cargo_flags=()
    venv_dir="$here/.venv-0.56.0"
    requirements="$here/requirements-0.56.0.txt"
    ;;
  *)
    echo "python-peer check FAILED: no client build for meshagent-api $sdk_version (0.35.8 or 0.56.0)" >&2
    exit 2
    ;;
esac
startup_timeout=60 # s for the server to print its port (first import of the SDK is slow)
exit_timeout=10    # s for the server to exit after the client disconnected

is_py313() { "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 13) else 1)' >/dev/null 2>&1; }
# The pinned SDK is installed and imports (it needs pyyaml, which it does not declare).
has_sdk() {
  "$1" -c 'import importlib.metadata as m, sys, meshagent.api.websocket_protocol
sys.exit(0 if m.version("meshagent-api") == sys.argv[1] else 1)' "$sdk_version" >/dev/null 2>&1
}

# 1. A venv with meshagent-api $sdk_version: the recorder's, ours, or a new one ($venv_dir,
#    from $requirements).
venv_py=""
for candidate in "$root/conformance/recorder/.venv/bin/python" "$venv_dir/bin/python"; do
  if [ -x "$candidate" ] && is_py313 "$candidate" && has_sdk "$candidate"; then
    venv_py="$candidate"
    break
  fi
done
if [ -z "$venv_py" ]; then
  py=""
  # Unsorted glob order is fine: any 3.13.x will do.
  for candidate in "${PYTHON:-}" python3.13 "$HOME"/.pyenv/versions/3.13.*/bin/python3.13; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    # is_py313 also weeds out a pyenv shim whose version is not active.
    if is_py313 "$candidate"; then
      py="$candidate"
      break
    fi
  done
  if [ -z "$py" ]; then
    echo "python-peer check SKIPPED: Python 3.13 not found"
    echo "(set PYTHON=/path/to/python3.13 to run it)" >&2
    exit 0
  fi
  echo "== python-peer: installing $(basename "$requirements") into $venv_dir (with $py)"
  [ -x "$venv_dir/bin/python" ] || "$py" -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  venv_py="$venv_dir/bin/python"
  if ! has_sdk "$venv_py"; then
    echo "python-peer check FAILED: meshagent-api $sdk_version does not import in $venv_dir" >&2
    exit 1
  fi
fi

# 2. Build the client first so the server does not sit waiting for the compiler.
cd "$root"
cargo build -q -p conformance --example python_peer "${cargo_flags[@]}"

# 3. Start the server on a free port; it exits on its own after the first connection (--once).
#    A 1 s websocket heartbeat makes it ping the client while the client idles.
log="$(mktemp "${TMPDIR:-/tmp}/python-peer.XXXXXX")"
"$venv_py" "$here/python_room.py" --once --heartbeat 1 >"$log" 2>&1 &
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
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  sleep 0.1
done
if [ -z "$port" ]; then
  echo "python-peer check FAILED: the Python room server did not start:" >&2
  sed 's/^/  server| /' "$log" >&2
  exit 1
fi
url="ws://127.0.0.1:$port/rooms/test-room"
echo "== python-peer: $("$venv_py" --version) meshagent-api $sdk_version room at $url"

# 4. The client.
set +e
cargo run -q -p conformance --example python_peer "${cargo_flags[@]}" -- "$url"
client_rc=$?
set -e

# 5. The server's verdict (it exits once the client disconnected; killed if it does not).
[ "$client_rc" -eq 0 ] || exit_timeout=2
for _ in $(seq $((exit_timeout * 10))); do
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$server_pid" 2>/dev/null; then
  kill "$server_pid" 2>/dev/null || true
fi
set +e
wait "$server_pid" 2>/dev/null
server_rc=$?
set -e
echo "-- server log:"
sed 's/^/  server| /' "$log"

if [ "$client_rc" -ne 0 ]; then
  echo "python-peer check FAILED (client exit $client_rc)"
  exit "$client_rc"
fi
if [ "$server_rc" -ne 0 ]; then
  echo "python-peer check FAILED: the server saw a wire disagreement (server exit $server_rc)"
  exit 1
fi
echo "python-peer check PASSED"
