"""messaging.* scenarios and the messaging.send pushes."""

from __future__ import annotations

from typing import Any, Callable

from meshagent.api import RoomClient
from meshagent.api.participant import Participant
from meshagent.api.room_server_client import RemoteParticipant

from push_cases import MESSAGING_PUSHES, UNKNOWN_PARTICIPANT_PUSHES

from .common import BLOB, EventLog, Scenario, b64, case, error_reply, py_json
from .outcome import participant_json, to_jsonable


# The Python SDK only sends to a RemoteParticipant it knows (one announced by messaging.enabled /
# participant.enabled); any other Participant object is passed through as is. The send cases use a
# plain Participant so that no push is needed before the call: the wire is the same.
def _to(participant_id: str) -> Participant:
    return Participant(id=participant_id, attributes={})


CHAT_MESSAGE = {"text": "héllo wörld 👋", "thread": "t-1", "mentions": ["bob"], "n": 1, "ratio": 0.5}



def listen_messaging(room: RoomClient, log: EventLog) -> None:
    """One event per MessagingClient callback; packet type messaging.send, the callback name in
    `event`, its argument, and the remote participant list right after the callback fired."""
    m = room.messaging

    def snapshot() -> list[dict[str, Any]]:
        return [participant_json(p) for p in m.remote_participants]

    def on_enabled() -> None:
        log.add("messaging.send", {"event": "messaging_enabled", "remote_participants": snapshot()})

    def on_participant(name: str) -> Callable[..., None]:
        def handler(participant: RemoteParticipant) -> None:
            log.add(
                "messaging.send",
                {"event": name, "participant": participant_json(participant), "remote_participants": snapshot()},
            )

        return handler

    def on_message(message: Any) -> None:
        log.add(
            "messaging.send",
            {
                "event": "message",
                "message": {
                    "from_participant_id": message.from_participant_id,
                    "type": message.type,
                    "message": to_jsonable(message.message),
                    "attachment": to_jsonable(message.attachment),
                },
                "remote_participants": snapshot(),
            },
        )

    m.on("messaging_enabled", on_enabled)
    m.on("participant_added", on_participant("participant_added"))
    m.on("participant_attributes_updated", on_participant("participant_attributes_updated"))
    m.on("participant_removed", on_participant("participant_removed"))
    m.on("message", on_message)


MESSAGING_SCENARIOS: list[Scenario] = [
    case("py-messaging-enable", "messaging.enable", {}),
    case("py-messaging-disable", "messaging.disable", {}),
    case(
        "py-messaging-enable-error-permission-denied",
        "messaging.enable",
        {},
        error_reply(1001, "messaging is not allowed for this participant"),
    ),
    case(
        "py-messaging-send",
        "messaging.send",
        {"to_participant_id": "p-remote", "type": "chat", "message_json": py_json(CHAT_MESSAGE)},
        run=lambda r: r.messaging.send_message(to=_to("p-remote"), type="chat", message=CHAT_MESSAGE),
    ),
    case(
        "py-messaging-send-attachment",
        "messaging.send",
        {
            "to_participant_id": "p-remote",
            "type": "file",
            "message_json": py_json({"name": "résumé.pdf"}),
            "attachment_base64": b64(b"%PDF-1.7\n\x00\x01\x02\xff"),
        },
        run=lambda r: r.messaging.send_message(
            to=_to("p-remote"), type="file", message={"name": "résumé.pdf"}, attachment=b"%PDF-1.7\n\x00\x01\x02\xff"
        ),
    ),
    case(
        "py-messaging-send-empty-type-and-message",
        "messaging.send",
        {"to_participant_id": "p-remote", "type": "", "message_json": "{}"},
        run=lambda r: r.messaging.send_message(to=_to("p-remote"), type="", message={}),
    ),
    case(
        "py-messaging-send-error-not-found",
        "messaging.send",
        {"to_participant_id": "p-gone", "type": "chat", "message_json": py_json({"text": "anyone?"})},
        error_reply(1003, "the participant was not found"),
        run=lambda r: r.messaging.send_message(to=_to("p-gone"), type="chat", message={"text": "anyone?"}),
    ),
    case(
        "py-messaging-broadcast",
        "messaging.broadcast",
        {"type": "announcement", "message_json": py_json({"text": "Réunion à 15h ✓", "urgent": False})},
        run=lambda r: r.messaging.broadcast_message(
            type="announcement", message={"text": "Réunion à 15h ✓", "urgent": False}
        ),
    ),
    case(
        "py-messaging-broadcast-large-attachment",
        "messaging.broadcast",
        {
            "type": "image",
            "message_json": py_json({"name": "blob.bin", "size": len(BLOB)}),
            "attachment_base64": b64(BLOB),
        },
        run=lambda r: r.messaging.broadcast_message(
            type="image", message={"name": "blob.bin", "size": len(BLOB)}, attachment=BLOB
        ),
    ),
    case(
        "py-messaging-broadcast-error-permission-denied",
        "messaging.broadcast",
        {"type": "announcement", "message_json": py_json({"text": "hi"})},
        error_reply(1001, "broadcast is not allowed"),
        run=lambda r: r.messaging.broadcast_message(type="announcement", message={"text": "hi"}),
    ),
    # Pushes after messaging.enable: the SDK's handlers and participant list.
    case(
        "py-messaging-enable-events",
        "messaging.enable",
        {},
        then=MESSAGING_PUSHES,
        setup=listen_messaging,
        expect_events=6,
    ),
    # The same pushes without an enable call (the SDK handles messaging.send regardless).
    Scenario(
        id="py-messaging-events",
        method="events",
        arguments={},
        pushes=MESSAGING_PUSHES,
        setup=listen_messaging,
        expect_events=6,
    ),
    # participant.attributes / participant.disabled for a participant the SDK does not know raise
    # no callback; a user message from it still does.
    Scenario(
        id="py-messaging-events-unknown-participant",
        method="events",
        arguments={},
        pushes=UNKNOWN_PARTICIPANT_PUSHES,
        setup=listen_messaging,
        expect_events=1,
    ),
]
