"""developer.* scenarios, the developer.log pushes and the room.status pushes."""

from __future__ import annotations

from meshagent.api import RoomClient

from fake_room import Push

from .common import LONG_TEXT, EventLog, Scenario, case, error_reply
from .outcome import to_jsonable


def listen_developer(room: RoomClient, log: EventLog) -> None:
    room.developer.on("log", lambda type, data: log.add("developer.log", {"type": type, "data": to_jsonable(data)}))


def listen_status(room: RoomClient, log: EventLog) -> None:
    room.on("room.status", lambda **fields: log.add("room.status", to_jsonable(fields)))


DEVELOPER_SCENARIOS: list[Scenario] = [
    case(
        "py-developer-log",
        "developer.log",
        {"type": "build", "data": {"step": 3, "ok": True, "message": "compilé ✓", "elapsed": 1.25, "tags": []}},
    ),
    case("py-developer-log-empty", "developer.log", {"type": "", "data": {}}),
    case(
        "py-developer-log-large",
        "developer.log",
        {"type": "trace", "data": {"lines": LONG_TEXT, "nested": {"ünï": [None, 1, "✓"]}}},
    ),
    case(
        "py-developer-log-error-permission-denied",
        "developer.log",
        {"type": "build", "data": {"step": 1}},
        error_reply(1001, "developer logs are not allowed"),
    ),
    # info/warning/error are fire-and-forget: they return None at once and send in the background.
    case(
        "py-developer-info",
        "developer.info",
        {"message": "server started ✓"},
        run=lambda r: _fire(r.developer.info("server started ✓")),
        fire_and_forget=True,
    ),
    case(
        "py-developer-info-extra",
        "developer.info",
        {"message": "listening", "extra": {"port": 8080, "host": "0.0.0.0"}},
        run=lambda r: _fire(r.developer.info("listening", extra={"port": 8080, "host": "0.0.0.0"})),
        fire_and_forget=True,
    ),
    case(
        "py-developer-warning",
        "developer.warning",
        {"message": "disk almost full — 92%"},
        run=lambda r: _fire(r.developer.warning("disk almost full — 92%")),
        fire_and_forget=True,
    ),
    case(
        "py-developer-warning-extra",
        "developer.warning",
        {"message": "", "extra": {"retry": True}},
        run=lambda r: _fire(r.developer.warning("", extra={"retry": True})),
        fire_and_forget=True,
    ),
    case(
        "py-developer-error",
        "developer.error",
        {"message": "tool failed: ZeroDivisionError", "extra": {"tool": "divide", "args": [1, 0]}},
        run=lambda r: _fire(
            r.developer.error("tool failed: ZeroDivisionError", extra={"tool": "divide", "args": [1, 0]})
        ),
        fire_and_forget=True,
    ),
    # The server's error reply is only logged by the SDK; the call still returns None.
    case(
        "py-developer-error-reply-swallowed",
        "developer.error",
        {"message": "boom"},
        error_reply(1008, "could not write the log"),
        run=lambda r: _fire(r.developer.error("boom")),
        fire_and_forget=True,
    ),
    Scenario(
        id="py-developer-log-events",
        method="events",
        arguments={},
        pushes=[
            Push(
                type="developer.log",
                header={"type": "custom", "data": {"hello": "wörld", "n": 2, "nested": {"ok": True}}},
            ),
            # type and data missing: the SDK fills in "unknown" and {}
            Push(type="developer.log", header={}),
        ],
        setup=listen_developer,
        expect_events=2,
    ),
]


async def _fire(result: None) -> None:
    """Wraps the None a fire-and-forget SDK method returns into an awaitable."""
    return result


# --------------------------------------------------------------------------- room.status


STATUS_SCENARIOS: list[Scenario] = [
    Scenario(
        id="py-room-status-events",
        method="events",
        arguments={},
        pushes=[
            Push(type="room.status", header={"status": "running"}),
            Push(type="room.status", header={"status": "paused ⏸", "reason": "", "since": 1717171717.5}),
        ],
        setup=listen_status,
        expect_events=2,
    ),
]
