"""Server pushes: the same pushes as the Python event cases (ids "ts-…" here, "py-…" there),
delivered to the TS application callbacks (see ts/driver.mjs setupEvents)."""

from __future__ import annotations

from typing import Any

from fake_room import Push
from push_cases import MESSAGING_PUSHES, OAUTH_PUSH, SECRET_PUSH, UNKNOWN_PARTICIPANT_PUSHES

from .common import EMPTY, Scenario


# TS fires the specific callback and then `message` for each of the 4 system pushes, `message`
# alone for the 2 others.
MESSAGING_EVENTS = 4 * 2 + 2

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
        UNKNOWN_PARTICIPANT_PUSHES,
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
