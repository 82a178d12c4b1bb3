"""Token interop, Python side (meshagent-api 0.35.8 or 0.56.0): see run.sh.

    python interop.py make > python.json    # tokens and API keys made by the SDK
    python interop.py check rust.json       # the SDK checks those made in Rust

``check``: each API key must parse (``parse_api_key``) to the ids and secret Rust reports and
encode back (``encode_api_key``) to the same text; each JWT must verify with
``ParticipantToken.from_jwt`` and read as exactly the claims Rust signed (the SDK's own
``to_json``, plus the claims it keeps aside), and must be refused with another secret.
Exits 1 on any mismatch.
"""

from __future__ import annotations

import json
import sys
import warnings
from datetime import datetime, timezone

from meshagent.api.keys import ApiKey, encode_api_key, parse_api_key
from meshagent.api.participant_token import (
    ApiScope,
    ParticipantGrant,
    ParticipantToken,
    StorageGrant,
    StoragePathGrant,
)
from meshagent.api.version import __version__ as SDK_VERSION

# Short test secrets make PyJWT warn; they are test data.
warnings.filterwarnings("ignore")

KEY_ID = "0b3c5d7e-9f10-4a2b-8c3d-4e5f60718293"
PROJECT = "ffeeddcc-bbaa-4998-8877-665544332211"
SECRET = "python-made-secret-with-dashes-0123"


def claims_of(token: ParticipantToken) -> dict:
    """All the claims the SDK read: 0.35.8's `to_json` leaves out the extra claims."""
    return {**(token.extra_payload or {}), **token.to_json()}


def make() -> list[dict]:
    key = encode_api_key(ApiKey(id=KEY_ID, project_id=PROJECT, secret=SECRET))
    agent = ParticipantToken(name="py-agent", extra_payload={"custom": {"nested": [1, "two", None]}})
    agent.add_room_grant("test-room")
    agent.add_role_grant("agent")
    agent.add_api_grant(ApiScope.agent_default(tunnels=True))
    user = ParticipantToken(name="py-user")
    user.add_room_grant("test-room")
    user.add_api_grant(ApiScope.user_default())
    full = ParticipantToken(name="py-admin")
    full.add_room_grant("test-room")
    full.grants.append(ParticipantGrant(name="tunnel_ports", scope="8080,9000"))
    full.grants.append(ParticipantGrant(name="agent", scope="helper"))
    full.grants.append(ParticipantGrant(name="site", scope="test-room"))
    full.grants.append(ParticipantGrant(name="future_grant", scope={"x": 1}))
    full.add_api_grant(ApiScope.full())
    narrow = ParticipantToken(name="reviewer")
    narrow.add_room_grant("test-room")
    narrow.add_role_grant("user")
    narrow.add_api_grant(
        ApiScope(storage=StorageGrant(paths=[StoragePathGrant(path="/reports", read_only=True)]))
    )
    expiry = datetime(2100, 1, 1, tzinfo=timezone.utc)
    cases = []
    for case, token, expiration in [
        ("agent", agent, expiry),
        ("user", user, None),
        ("full", full, None),
        ("narrow", narrow, expiry),
    ]:
        jwt = token.to_jwt(api_key=key, expiration=expiration)
        read = ParticipantToken.from_jwt(jwt, token=SECRET)
        cases.append(
            {
                "case": case,
                "key": key,
                "key_id": KEY_ID,
                "project_id": PROJECT,
                "secret": SECRET,
                "jwt": jwt,
                "claims": claims_of(read),
            }
        )
    bare = ParticipantToken(name="py-bare", project_id=PROJECT, api_key_id="bare-kid")
    bare.add_room_grant("test-room")
    jwt = bare.to_jwt(token="a-bare-secret")
    cases.append(
        {
            "case": "bare secret",
            "key": None,
            "secret": "a-bare-secret",
            "jwt": jwt,
            "claims": claims_of(ParticipantToken.from_jwt(jwt, token="a-bare-secret")),
        }
    )
    return cases


def check_case(case: dict) -> str | None:
    if case["key"] is not None:
        key = parse_api_key(case["key"])
        parts = (key.id, key.project_id, key.secret)
        expected = (case["key_id"], case["project_id"], case["secret"])
        if parts != expected:
            return f"the key reads as {parts}, Rust says {expected}"
        if encode_api_key(key) != case["key"]:
            return "the key does not encode back to the same text"
    read = ParticipantToken.from_jwt(case["jwt"], token=case["secret"])
    claims = claims_of(read)
    if claims != case["claims"]:
        return f"the token reads as\n    {json.dumps(claims, sort_keys=True)}\n  Rust signed\n    {json.dumps(case['claims'], sort_keys=True)}"
    try:
        ParticipantToken.from_jwt(case["jwt"], token="another-secret")
    except Exception:
        return None
    return "it verifies with another secret"


def check(path: str) -> int:
    with open(path) as f:
        cases = json.load(f)
    if not cases:
        print(f"token interop FAILED: {path} has no cases", file=sys.stderr)
        return 1
    failures = []
    for case in cases:
        try:
            problem = check_case(case)
        except Exception as e:  # the SDK refused it
            problem = f"{type(e).__name__}: {e}"
        if problem is None:
            print(f"  ok: {case['case']}")
        else:
            failures.append(f"{case['case']}: {problem}")
    if failures:
        print("token interop FAILED (Python " + SDK_VERSION + "):\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"{len(cases)} Rust cases verified by meshagent-api {SDK_VERSION}")
    return 0


def main() -> int:
    if sys.argv[1:] == ["make"]:
        json.dump(make(), sys.stdout)
        return 0
    if len(sys.argv) == 3 and sys.argv[1] == "check":
        return check(sys.argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
