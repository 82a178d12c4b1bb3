"""messaging.* for TS 0.39.9: enable/disable are fire-and-forget (invokeNowait, reply ignored);
disable is sent only while online; messages wait for messaging.enabled, so the send cases call
enable first; an unrequested messaging.enabled makes the SDK send messaging.disable; `dismiss` is
an ordinary message. broadcast is unchanged (reused from 0.35.8)."""

from __future__ import annotations

from fake_room import Push, Step
from ts_scenarios.common import ATTACHMENT, EMPTY, b64, error_reply, js_json
from ts_scenarios.core import CORE, MESSAGING_ENABLED
from ts_scenarios.events import EVENTS

from .common import Scenario039, derive

ENABLE = ["messaging.enable", []]


def _step(tool: str, reply=EMPTY, then=None) -> Step:
    return Step(expect={"type": "room.invoke_tool", "toolkit": "messaging", "tool": tool}, reply=reply,
                then=list(then or []))


def _send(id: str, arguments, message_args, reply) -> Scenario039:
    return Scenario039(
        id=id, method="messaging.send", arguments=arguments,
        call=("messaging.sendMessage", message_args),
        steps=[_step("enable", then=[MESSAGING_ENABLED]), _step("send", reply)],
        pre_calls=[ENABLE], wait_participant="p-remote", client_closes=False,
    )


_MESSAGING_EVENTS = {s.id: s for s in EVENTS if s.id.startswith("ts-messaging")}

MESSAGING = [
    *derive([s for s in CORE if s.id.startswith("ts-messaging-broadcast")]),
    Scenario039(id="ts039-messaging-enable", method="messaging.enable", arguments={},
                call=("messaging.enable", []), replies=[EMPTY]),
    Scenario039(id="ts039-messaging-enable-error-ignored", method="messaging.enable", arguments={},
                call=("messaging.enable", []), replies=[error_reply("messaging is not allowed", 1001)]),
    Scenario039(id="ts039-messaging-disable", method="messaging.disable", arguments={},
                call=("messaging.disable", []),
                steps=[_step("enable", then=[MESSAGING_ENABLED]), _step("disable")],
                pre_calls=[ENABLE], wait_participant="p-remote", client_closes=False),
    _send("ts039-messaging-send",
          {"type": "chat", "message_json": js_json({"text": "hi bob", "n": 1}), "to_participant_id": "p-remote"},
          [{"to": {"$participant": "p-remote"}, "type": "chat", "message": {"text": "hi bob", "n": 1}}], EMPTY),
    _send("ts039-messaging-send-attachment",
          {"type": "file-share", "message_json": js_json({"name": "hello.bin"}),
           "attachment_base64": b64(ATTACHMENT), "to_participant_id": "p-remote"},
          [{"to": {"$participant": "p-remote"}, "type": "file-share", "message": {"name": "hello.bin"},
            "attachment": {"$bytes": b64(ATTACHMENT)}}], EMPTY),
    _send("ts039-messaging-send-error-not-found",
          {"type": "chat", "message_json": js_json({"text": "are you there?"}), "to_participant_id": "p-remote"},
          [{"to": {"$participant": "p-remote"}, "type": "chat", "message": {"text": "are you there?"}}],
          error_reply("the participant was not found", 1003)),
]

_ev = _MESSAGING_EVENTS
MESSAGING_EVENTS = [
    *derive([_ev["ts-messaging-enable-events"], _ev["ts-messaging-events-unknown-participant"]]),
    # The pushes without an enable call: the SDK answers the unrequested messaging.enabled with
    # messaging.disable (expect_events found by recording).
    Scenario039(id="ts039-messaging-events-not-enabled", method="events", arguments={},
                pushes=_ev["ts-messaging-events"].pushes, events_setup=["messaging"],
                steps=[_step("disable")], expect_events=8, client_closes=False),
    Scenario039(id="ts039-messaging-dismiss-events", method="events", arguments={},
                pushes=[Push(type="messaging.send",
                             header={"from_participant_id": "server", "type": "dismiss", "message": {"reason": "bye ✓"}})],
                events_setup=["messaging"], expect_events=1),
]
