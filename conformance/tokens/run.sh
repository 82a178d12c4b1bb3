#!/usr/bin/env bash
# Token interop with the official SDKs, both ways, then joining from the environment:
#   conformance/tokens/run.sh                          # meshagent-api 0.35.8, Rust built for protocol 0.35.8
#   PEER_SDK_VERSION=0.56.0 conformance/tokens/run.sh  # meshagent-api 0.56.0, and @meshagent/meshagent 0.39.9
# 1. Tokens and API keys made by the Python SDK verify and parse in Rust, and Rust's in Python
#    (interop.py, conformance/examples/token_interop.rs); with 0.56.0 the same against the
#    TypeScript SDK (interop.cjs, installed with npm; skipped with a message without node/npm).
# 2. The example join_from_env, given only MESHAGENT_API_KEY (made by the Python SDK),
#    MESHAGENT_ROOM and MESHAGENT_ROOM_URL, joins conformance/peer/python_room.py, which
#    verifies its token with the SDK's ParticipantToken.from_jwt and refuses any other.
# Python 3.13 and the venv as conformance/peer/run.sh has them (venv.sh). Exits 1 on any mismatch.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
check_name="token interop"
# shellcheck source=../peer/venv.sh
source "$root/conformance/peer/venv.sh"
startup_timeout=60 # s for the room to print its port
exit_timeout=10    # s for the room to exit after the client left
ts_sdk="@meshagent/meshagent@0.39.9"

cd "$root"
cargo build -q -p conformance --example token_interop "${cargo_flags[@]}"
cargo build -q -p meshagent-room --example join_from_env "${room_flags[@]}"
work="$(mktemp -d "${TMPDIR:-/tmp}/token-interop.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
rust() { cargo run -q -p conformance --example token_interop "${cargo_flags[@]}" -- "$@"; }

# 1. Both ways with Python.
echo "== token interop: Rust <-> Python meshagent-api $sdk_version"
"$venv_py" "$here/interop.py" make >"$work/python.json"
rust check "$work/python.json"
rust make >"$work/rust.json"
"$venv_py" "$here/interop.py" check "$work/rust.json"

# ... and with TypeScript, which speaks protocol 0.56.
if [ "$sdk_version" = 0.56.0 ]; then
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    echo "== token interop: Rust <-> TypeScript $ts_sdk"
    node_dir="$here/.node"
    if ! NODE_PATH="$node_dir/node_modules" node -e 'require("@meshagent/meshagent")' 2>/dev/null; then
      npm install --silent --no-save --no-audit --no-fund --prefix "$node_dir" "$ts_sdk" >/dev/null
    fi
    NODE_PATH="$node_dir/node_modules" node "$here/interop.cjs" make >"$work/ts.json"
    rust check "$work/ts.json"
    NODE_PATH="$node_dir/node_modules" node "$here/interop.cjs" check "$work/rust.json"
  else
    echo "token interop (TypeScript) SKIPPED: node and npm not found"
  fi
fi

# 2. Join from the environment: an API key made by the SDK, a room that verifies tokens.
make_key() {
  "$venv_py" -c '
import sys
from meshagent.api.keys import ApiKey, encode_api_key
print(encode_api_key(ApiKey(id="6a7b8c9d-0e1f-4a2b-9c3d-4e5f6a7b8c9d", project_id="0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0", secret=sys.argv[1])))
' "$1"
}
# join KEY: starts a room that takes tokens signed with $secret, runs join_from_env with only
# KEY and the room's name and URL in its environment; sets $client_rc, $server_rc and $log.
join() {
  log="$work/room-$RANDOM.log"
  "$venv_py" "$root/conformance/peer/python_room.py" --once --secret "$secret" >"$log" 2>&1 &
  server_pid=$!
  local port="" wait_s="$exit_timeout"
  for _ in $(seq $((startup_timeout * 10))); do
    port="$(awk '$1 == "PORT" { print $2; exit }' "$log")"
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$port" ]; then
    echo "token interop FAILED: the Python room did not start:" >&2
    sed 's/^/  room| /' "$log" >&2
    exit 1
  fi
  set +e
  env -u MESHAGENT_TOKEN -u MESHAGENT_SECRET -u MESHAGENT_PROJECT_ID -u MESHAGENT_KEY_ID \
    -u MESHAGENT_PROFILE_API_URL -u MESHAGENT_API_URL \
    MESHAGENT_API_KEY="$1" MESHAGENT_ROOM=test-room MESHAGENT_ROOM_URL="http://127.0.0.1:$port" \
    cargo run -q -p meshagent-room --example join_from_env "${room_flags[@]}"
  client_rc=$?
  [ "$client_rc" -eq 0 ] || wait_s=2 # a refused client never opens the connection --once waits for
  for _ in $(seq $((wait_s * 10))); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill "$server_pid" 2>/dev/null
  wait "$server_pid" 2>/dev/null
  server_rc=$?
  set -e
  server_pid=""
  sed 's/^/  room| /' "$log"
}

# A 32-byte secret: PyJWT warns about shorter HMAC keys.
secret="room-secret-$(printf '%05d%05d' "$RANDOM" "$RANDOM")-0123456789"
echo "== join from the environment: MESHAGENT_API_KEY + MESHAGENT_ROOM; the room verifies with meshagent-api $sdk_version"
join "$(make_key "$secret")"
if [ "$client_rc" -ne 0 ] || [ "$server_rc" -ne 0 ] || ! grep -q "token verified" "$log"; then
  echo "token interop FAILED: join_from_env exit $client_rc, room exit $server_rc (it must verify the token)"
  exit 1
fi
echo "== join from the environment with another key's secret: the room must refuse it"
join "$(make_key "not-the-room-secret-0123456789abcdef")"
if [ "$client_rc" -eq 0 ] || ! grep -q "does not verify" "$log"; then
  echo "token interop FAILED: a token signed with another secret was not refused (client exit $client_rc)"
  exit 1
fi
echo "token interop PASSED (meshagent-api $sdk_version)"
