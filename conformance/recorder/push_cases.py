"""Shared data of the push (events) recordings: the server pushes that both SDKs' event cases
receive (py_scenarios/messaging.py and secrets.py, ts_scenarios/events.py), so that the two SDKs
are recorded against the same packets. Plain data: nothing here imports an SDK."""

from __future__ import annotations

from fake_room import Push


REMOTE_BOB = {"id": "p-remote", "role": "agent", "attributes": {"name": "bob", "status": "idle"}}
REMOTE_ZOE = {"id": "p-user", "role": "user", "attributes": {"name": "Zoë 🌟", "tags": ["a", "b"]}}

MESSAGING_PUSHES = [
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "server",
            "type": "messaging.enabled",
            "message": {"participants": [REMOTE_BOB, REMOTE_ZOE]},
        },
    ),
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "server",
            "type": "participant.enabled",
            "message": {"id": "p-new", "role": "tool", "attributes": {"name": "Ünïcode ✓", "empty": ""}},
        },
    ),
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "p-remote",
            "type": "participant.attributes",
            "message": {"attributes": {"status": "busy", "progress": 0.75}},
        },
    ),
    Push(
        type="messaging.send",
        header={"from_participant_id": "server", "type": "participant.disabled", "message": {"id": "p-new"}},
    ),
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "p-remote",
            "type": "chat",
            "message": {"text": "here is the file ✓", "name": "report.bin"},
        },
        tail=b"\x00\x01\x02\xfe\xffattachment bytes",
    ),
    Push(
        type="messaging.send",
        header={"from_participant_id": "p-user", "type": "", "message": {}},
    ),
]

# participant.attributes / participant.disabled from, and a chat message of, a participant the SDK
# does not know.
UNKNOWN_PARTICIPANT_PUSHES = [
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "p-ghost",
            "type": "participant.attributes",
            "message": {"attributes": {"status": "busy"}},
        },
    ),
    Push(
        type="messaging.send",
        header={"from_participant_id": "server", "type": "participant.disabled", "message": {"id": "p-ghost"}},
    ),
    Push(
        type="messaging.send",
        header={"from_participant_id": "p-ghost", "type": "chat", "message": {"text": "boo 👻"}},
    ),
]

OAUTH_PUSH = Push(
    type="secrets.request_oauth_token",
    header={
        "request_id": "req-oauth-1",
        "request": {
            "connector": None,
            "oauth": {
                "client_id": "client-123",
                "client_secret": None,
                "authorization_endpoint": "https://auth.example.test/authorize",
                "token_endpoint": "https://auth.example.test/token",
                "no_pkce": False,
                "scopes": ["read", "write ✓"],
            },
            "redirect_uri": "https://app.example.test/oauth/callback",
            "participant_id": "p-local",
            "timeout": 300,
            "delegate_to": None,
        },
        "challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    },
)
SECRET_PUSH = Push(
    type="secrets.request_secret",
    header={
        "request_id": "req-secret-1",
        "request": {
            "url": "https://api.example.test",
            "type": "application/x-api-key",
            "participant_id": "p-local",
            "timeout": 120,
            "delegate_to": "p-agent",
        },
    },
)
