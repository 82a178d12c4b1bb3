"""developer, sync, services, livekit and agents for TS 0.39.9: the 0.35.8 scenarios reused as
data (messaging is in messaging.py); the push cases of events.py with 0.39.9's changes."""

from __future__ import annotations

import dataclasses

from ts_scenarios.core import CORE
from ts_scenarios.events import EVENTS

from .common import derive

DEVELOPER = derive([s for s in CORE if s.method.startswith("developer.")])
SYNC = derive([s for s in CORE if s.method.startswith("sync.")])
SERVICES = derive([s for s in CORE if s.method.startswith("services.")])
LIVEKIT = derive([s for s in CORE if s.method.startswith("livekit.")])
AGENTS = derive([s for s in CORE if s.method.startswith("agents.")])

_ev = {s.id: s for s in EVENTS}
OTHER_EVENTS = [
    *derive([_ev["ts-developer-log-events"], _ev["ts-secrets-request-oauth-token-events"],
             _ev["ts-secrets-request-secret-events"]]),
    # 0.39.9: RoomClient handles room.status itself (RoomStatusEvent {status, message}, emitted
    # under the status' name; the driver reads it from room.listen()).
    *derive([_ev["ts-room-status-events"]], events_setup=["room_status"]),
    # 0.39.9: the "No … handler registered" error no longer escapes as an unhandled promise
    # rejection (the protocol's dispatch catches and logs it). Nothing is delivered or sent back.
    *derive([_ev["ts-secrets-request-oauth-token-events-no-handler"],
             _ev["ts-secrets-request-secret-events-no-handler"]], expect_unhandled=[]),
]
