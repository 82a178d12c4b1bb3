"""Server pushes: the same pushes as the Python event cases (ids "ts-…" here, "py-…" there),
delivered to the TS application callbacks (see ts/driver.mjs setupEvents)."""

from __future__ import annotations

from typing import Any

from fake_room import Push

from .common import EMPTY, Scenario


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
# TS fires the specific callback and then `message` for each of the 4 system pushes, `message`
# alone for the 2 others.
MESSAGING_EVENTS = 4 * 2 + 2

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


def events_case(id: str, pushes: list[Push], setup: list[str], count: int, **kw: Any) -> Scenario:
    return Scenario(id=id, method="events", arguments={}, pushes=pushes, events_setup=setup,
                    expect_events=count, **kw)


EVENTS: list[Scenario] = [
    # messaging.send pushes after messaging.enable: the callbacks and the participant list.
    Scenario(
        id="ts-messaging-enable-events",
        method="messaging.enable",
        arguments={},
        call=("messaging.enable", []),
        replies=[EMPTY],
        then=MESSAGING_PUSHES,
        events_setup=["messaging"],
        expect_events=MESSAGING_EVENTS,
    ),
    # The same pushes without an enable call (the SDK handles messaging.send regardless).
    events_case("ts-messaging-events", MESSAGING_PUSHES, ["messaging"], MESSAGING_EVENTS),
    # participant.attributes / participant.disabled for a participant the SDK does not know fire
    # no specific callback, but `message` still fires for each of the 3 pushes.
    events_case(
        "ts-messaging-events-unknown-participant",
        [
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
        ],
        ["messaging"],
        3,
    ),
    events_case(
        "ts-developer-log-events",
        [
            Push(
                type="developer.log",
                header={"type": "custom", "data": {"hello": "wörld", "n": 2, "nested": {"ok": True}}},
            ),
            # type and data missing: TS passes them on as undefined (Python fills in "unknown", {})
            Push(type="developer.log", header={}),
        ],
        ["developer"],
        2,
    ),
    # room.status is handled by the SyncClient: room.sync.on("status") gets {type: "status", status}.
    events_case(
        "ts-room-status-events",
        [
            Push(type="room.status", header={"status": "running"}),
            Push(type="room.status", header={"status": "paused ⏸", "reason": "", "since": 1717171717.5}),
        ],
        ["status"],
        2,
    ),
    # Server -> client requests: RoomClient gives its SecretsClient no handlers; the application
    # constructs its own SecretsClient with them (it replaces the protocol handlers).
    events_case("ts-secrets-request-oauth-token-events", [OAUTH_PUSH], ["secrets"], 1),
    events_case("ts-secrets-request-secret-events", [SECRET_PUSH], ["secrets"], 1),
    # A stock RoomClient: the SDK's handler throws "No … handler registered", which nothing
    # catches (an unhandled promise rejection: it ends a Node process that has no
    # unhandledRejection listener; the driver has one). Nothing is delivered or sent back.
    events_case("ts-secrets-request-oauth-token-events-no-handler", [OAUTH_PUSH], [], 0,
                expect_unhandled=["No oauth token handler registered"]),
    events_case("ts-secrets-request-secret-events-no-handler", [SECRET_PUSH], [], 0,
                expect_unhandled=["No secret handler registered"]),
]
