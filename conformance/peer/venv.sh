# Sourced by conformance/peer/run.sh and conformance/tokens/run.sh (with $here and $root set):
# picks the SDK version ($PEER_SDK_VERSION, default 0.35.8), the client's cargo flags for it
# ($cargo_flags: the conformance crate's; $room_flags: meshagent-room's) and sets $venv_py to a
# Python 3.13 with that meshagent-api installed, making a venv beside this file if needed.
# Without Python 3.13 it prints "<check> SKIPPED: Python 3.13 not found" ($check_name) and
# exits 0.
peer_dir="$root/conformance/peer"
sdk_version="${PEER_SDK_VERSION:-0.35.8}"
# The client speaks the server's protocol version: its cargo features and target folder,
# and the venv and requirements of that SDK version.
case "$sdk_version" in
  0.35.8)
    cargo_flags=(--no-default-features --features protocol-0-35-8 --target-dir target/protocol-0.35.8)
    room_flags=(--no-default-features --features protocol-0-35-8,storage,tokens --target-dir target/protocol-0.35.8)
    venv_dir="$peer_dir/.venv"
    requirements="$peer_dir/requirements.txt"
    ;;
  0.56.0)
    cargo_flags=()
    room_flags=()
    venv_dir="$peer_dir/.venv-0.56.0"
    requirements="$peer_dir/requirements-0.56.0.txt"
    ;;
  *)
    echo "$check_name FAILED: no client build for meshagent-api $sdk_version (0.35.8 or 0.56.0)" >&2
    exit 2
    ;;
esac

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
    echo "$check_name SKIPPED: Python 3.13 not found"
    echo "(set PYTHON=/path/to/python3.13 to run it)" >&2
    exit 0
  fi
  echo "== $check_name: installing $(basename "$requirements") into $venv_dir (with $py)"
  [ -x "$venv_dir/bin/python" ] || "$py" -m venv "$venv_dir"
  "$venv_dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  venv_py="$venv_dir/bin/python"
  if ! has_sdk "$venv_py"; then
    echo "$check_name FAILED: meshagent-api $sdk_version does not import in $venv_dir" >&2
    exit 1
  fi
fi

