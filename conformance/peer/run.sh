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
check_name="python-peer check"
# shellcheck source=venv.sh
source "$here/venv.sh"
startup_timeout=60 # s for the server to print its port (first import of the SDK is slow)
exit_timeout=10    # s for the server to exit after the client disconnected

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
