"""messaging.stream (Python 0.56 only, since 0.47), both sides.

Initiator: room.invoke_tool messaging.stream (control/open), a json start chunk
{to_participant_id, type, message_json, attachment_base64}; the server must answer with a json
{kind: accepted, stream_id} chunk first; later request chunks are {type, message_json,
attachment_base64}; response chunks {kind: message | client_disconnected | closed}.

Receiver: the server pushes room.tool_call.messaging (name "stream", control/open) and
room.tool_call_request_chunk.messaging (the initial message); the application gets a
`stream_requested` event and accepts (room.tool_call_response control/open, id = the push's id)
or rejects (an error). Once accepted it answers with room.tool_call_response_chunk messages
(json {kind: message, ...}, control/close)."""

from __future__ import annotations

import asyncio
from typing import Any

from meshagent.api import RoomClient
from meshagent.api.participant import Participant

from fake_room import OPEN, Push, chunk_step, open_step, response_chunk
from stream_cases import client_close, json_chunk, server_close
from py_scenarios.common import EventLog, Scenario, b64, py_json
from py_scenarios.outcome import to_jsonable

FIRST = {"text": "bonjour ✓", "n": 1}
SECOND = {"text": "encore"}
ATTACHMENT = b"\x00\x01stream"


def _event_json(ev: Any) -> Any:
    if ev.__class__.__name__ == "RoomMessage":
        return {"kind": "message", "from_participant_id": ev.from_participant_id, "type": ev.type,
                "message": ev.message, "attachment": b64(ev.attachment or b"")}
    return {"kind": ev.__class__.__name__, **to_jsonable({k: getattr(ev, k) for k in ev.__slots__})} \
        if hasattr(ev, "__slots__") else to_jsonable(ev)


async def _initiate(room: RoomClient) -> Any:
    stream = await room.messaging.stream(to=Participant(id="p-remote", attributes={}), type="chat", message=FIRST,
                                         attachment=ATTACHMENT)
    await stream.send_message(type="chat", message=SECOND)
    first = await stream.receive()
    await stream.close()
    return {"stream_id": stream.stream_id, "events": [_event_json(first)]}


def _initiator_steps(accept: dict[str, Any]) -> list:
    return [
        open_step("messaging", "stream"),
        chunk_step(json_chunk({"to_participant_id": "p-remote"}), then=[response_chunk(json_chunk(accept))]),
        chunk_step(json_chunk({"type": "chat"}), then=[
            response_chunk(json_chunk({"kind": "message", "type": "reply", "message": {"text": "salut ✓"},
                                       "attachment_base64": b64(b"\xff\x00")}))]),
        client_close(then=[server_close()]),
    ]


CALL_ID = "ms-call-1"
INCOMING = [
    Push(type="room.tool_call.messaging",
         header={"name": "stream", "caller_id": "p-remote", "tool_call_id": CALL_ID, "arguments": OPEN}),
    Push(type="room.tool_call_request_chunk.messaging",
         header={"tool_call_id": CALL_ID,
                 "chunk": json_chunk({"from_participant_id": "p-remote", "type": "chat",
                                      "message_json": py_json({"text": "ping ✓"}), "attachment_base64": None})}),
]


def _receiver(accept: bool):
    def setup(room: RoomClient, log: EventLog) -> None:
        async def handle(request) -> None:
            fields = {"stream_id": request.stream_id, "from_participant_id": request.from_participant_id,
                      "type": request.type, "message": request.message}
            if accept:
                stream = await request.accept()
                await stream.send_message(type="chat", message={"text": "pong ✓"}, attachment=b"\x01\x02")
                await stream.close()
            else:
                await request.reject(message="busy, try later")
            await asyncio.sleep(0.05)
            log.add("room.tool_call.messaging", fields)

        room.messaging.on("stream_requested", lambda request: asyncio.ensure_future(handle(request)))

    return setup


MESSAGING_STREAM_SCENARIOS: list[Scenario] = [
    Scenario(
        id="py056-messaging-stream",
        method="messaging.stream",
        arguments={"to_participant_id": "p-remote", "type": "chat", "message_json": py_json(FIRST),
                   "attachment_base64": b64(ATTACHMENT)},
        input=[{"send_message": {"type": "chat", "message": SECOND}}, {"close": True}],
        steps=_initiator_steps({"kind": "accepted", "stream_id": "st-1"}),
        run=_initiate,
    ),
    # A first chunk that is not {kind: accepted}: the SDK reports 1100, not the server's text.
    Scenario(
        id="py056-messaging-stream-refused",
        method="messaging.stream",
        arguments={"to_participant_id": "p-remote", "type": "chat"},
        steps=[open_step("messaging", "stream"),
               chunk_step(json_chunk({"to_participant_id": "p-remote"}), then=[
                   response_chunk({"type": "error", "text": "participant does not accept streams", "code": 1001}),
                   server_close()]),
               client_close()],
        run=lambda r: r.messaging.stream(to=Participant(id="p-remote", attributes={}), type="chat", message=FIRST),
    ),
    Scenario(
        id="py056-messaging-stream-incoming-accept-events",
        method="events",
        arguments={},
        pushes=INCOMING,
        setup=_receiver(True),
        expect_events=1,
    ),
    Scenario(
        id="py056-messaging-stream-incoming-reject-events",
        method="events",
        arguments={},
        pushes=INCOMING,
        setup=_receiver(False),
        expect_events=1,
    ),
]
