"""livekit.* scenarios."""

from __future__ import annotations

import json

from .common import Scenario, b64, case, error_reply, json_reply


# A long LiveKit access token (> 1024 bytes): the reply travels in 2 data packets.
LIVEKIT_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    + b64(json.dumps({"video": {"room": "test-room", "roomJoin": True}, "pad": "x" * 900}).encode()).rstrip("=")
    + ".c2lnbmF0dXJl"
)
assert len(LIVEKIT_TOKEN) > 1100

LIVEKIT_SCENARIOS: list[Scenario] = [
    case(
        "py-livekit-connect",
        "livekit.connect",
        {},
        json_reply({"url": "wss://livekit.example.test", "token": LIVEKIT_TOKEN}),
        run=lambda r: r.livekit.get_connection_info(),
    ),
    case(
        "py-livekit-connect-breakout-room",
        "livekit.connect",
        {"breakout_room": "salle de réunion ✓"},
        json_reply({"url": "wss://livekit.example.test/breakout", "token": "tok-breakout"}),
        run=lambda r: r.livekit.get_connection_info(breakout_room="salle de réunion ✓"),
    ),
    case(
        "py-livekit-connect-breakout-room-empty",
        "livekit.connect",
        {"breakout_room": ""},
        json_reply({"url": "wss://livekit.example.test", "token": ""}),
        run=lambda r: r.livekit.get_connection_info(breakout_room=""),
    ),
    case(
        "py-livekit-connect-error-permission-denied",
        "livekit.connect",
        {"breakout_room": "secret"},
        error_reply(1001, "breakout room not allowed"),
        run=lambda r: r.livekit.get_connection_info(breakout_room="secret"),
    ),
]
