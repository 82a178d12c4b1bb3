"""messaging.* in 0.56. enable/disable are fire-and-forget (invoke_nowait: the reply is ignored,
an error reply included); disable is only sent while messaging is online; an unrequested
messaging.enabled makes the SDK send messaging.disable; a `dismiss` message closes the client.
send/broadcast are unchanged and reused from 0.35.8."""

from __future__ import annotations

import asyncio

from meshagent.api import RoomClient

from fake_room import Push, Step
from py_scenarios.common import EMPTY, Reply, Scenario, error_reply
from py_scenarios.messaging import MESSAGING_PUSHES, MESSAGING_SCENARIOS as MESSAGING_035, listen_messaging

from .common import EventsWithSteps, derive

ENABLED = Push(
    type="messaging.send",
    header={
        "from_participant_id": "server",
        "type": "messaging.enabled",
        "message": {"participants": [{"id": "p-remote", "role": "agent", "attributes": {"name": "bob"}}]},
    },
)


async def _enable_then_disable(room: RoomClient) -> None:
    await room.messaging.enable()
    while not room.messaging.online:
        await asyncio.sleep(0.005)
    return await room.messaging.disable()


def _step(tool: str, reply=EMPTY, then=None) -> Step:
    return Step(expect={"type": "room.invoke_tool", "toolkit": "messaging", "tool": tool}, reply=reply, then=list(then or []))


MESSAGING_SCENARIOS: list[Scenario] = [
    *derive(
        MESSAGING_035,
        skip=["py-messaging-disable", "py-messaging-events", "py-messaging-enable",
              "py-messaging-enable-error-permission-denied", "py-messaging-enable-events"],
    ),
    Scenario(id="py056-messaging-enable", method="messaging.enable", arguments={}, replies=[EMPTY],
             fire_and_forget=True),
    # The error reply is ignored: enable() returns None.
    Scenario(id="py056-messaging-enable-error-ignored", method="messaging.enable", arguments={},
             replies=[error_reply(1001, "messaging is not allowed for this participant")], fire_and_forget=True),
    # disable is sent only while online: enable first, messaging.enabled, then disable.
    Scenario(id="py056-messaging-disable", method="messaging.disable", arguments={},
             steps=[_step("enable", then=[ENABLED]), _step("disable")],
             run=_enable_then_disable, fire_and_forget=True),
    # disable while offline sends nothing.
    Scenario(id="py056-messaging-disable-offline", method="messaging.disable", arguments={}, steps=[],
             fire_and_forget=True),
    Scenario(id="py056-messaging-enable-events", method="messaging.enable", arguments={},
             replies=[Reply(EMPTY, then=MESSAGING_PUSHES)], setup=listen_messaging, expect_events=6),
    # The same pushes without an enable call: the SDK answers the unrequested messaging.enabled with
    # messaging.disable and clears its participant list.
    EventsWithSteps(id="py056-messaging-events-not-enabled", method="events", arguments={},
                    pushes=MESSAGING_PUSHES, steps=[_step("disable")], setup=listen_messaging, expect_events=6),
    # dismiss: delivered as a message, then the client closes the connection.
    Scenario(id="py056-messaging-dismiss-events", method="events", arguments={},
             pushes=[Push(type="messaging.send",
                          header={"from_participant_id": "server", "type": "dismiss", "message": {"reason": "bye ✓"}})],
             setup=listen_messaging, expect_events=1),
]
