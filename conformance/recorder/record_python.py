"""Record what the official Python SDK (meshagent-api 0.35.8) puts on the wire.

For every scenario: start the fake room (fake_room.py) on a free loopback port, connect the
official SDK's RoomClient to it, make ONE SDK call (or none, for push-only cases), and write one
YAML case file with every message after the handshake (both directions) and the SDK's outcome.

Usage: python record_python.py [--out DIR] [--only CASE_ID ...]   (default: ../cases/python)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import datetime
import json
import logging
import sys
import types
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import yaml
from pydantic import BaseModel

import meshagent.api
from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol
from meshagent.api.messaging import BinaryContent, Content, FileContent, TextContent
from meshagent.api.oauth import ConnectorRef, OAuthClientConfig
from meshagent.api.participant import Participant
from meshagent.api.participant_token import (
    AgentsGrant,
    ApiScope,
    LivekitGrant,
    MessagingGrant,
    StorageGrant,
    StoragePathGrant,
)
from meshagent.api.room_server_client import (
    BinaryDataType,
    BoolDataType,
    DateDataType,
    DockerSecret,
    FloatDataType,
    IntDataType,
    ListDataType,
    LivekitConnectionInfo,
    MemoryEntityRecord,
    MemoryRelationshipRecord,
    MemoryRelationshipSelector,
    Queue,
    RemoteParticipant,
    SqlTableReference,
    StructDataType,
    TextDataType,
    TimestampDataType,
    ToolkitDescription,
    VectorDataType,
)
from meshagent.api.schema import ChildProperty, ElementType, MeshSchema, ValueProperty
from meshagent.api.specs.service import (
    ContainerMountSpec,
    EmptyDirMountSpec,
    FileStorageMountSpec,
    ImageStorageMountSpec,
    ProjectStorageMountSpec,
    RoomStorageMountSpec,
)

from fake_room import (
    CALL_ID,
    FakeRoom,
    Frame,
    Push,
    Step,
    chunk_step,
    close_chunk,
    open_step,
    response_chunk,
)

SDK_VERSION = "0.35.8"
ROOM_NAME = "test-room"
# Looks like a JWT (header.payload.signature); the fake room does not validate it.
TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjb25mb3JtYW5jZSIsIm5hbWUiOiJhbGljZSJ9"
    ".Y29uZm9ybWFuY2Utc2lnbmF0dXJl"
)
CALL_TIMEOUT = 15.0
# How long an events scenario keeps listening after the expected events, to catch extra ones.
EVENT_SETTLE = 0.1

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- scenarios


@dataclass
class Reply:
    """One scripted reply: a Content header, its binary tail and the pushes sent right after it."""

    content: dict[str, Any]
    tail: bytes = b""
    then: list[Push] = field(default_factory=list)


class EventLog:
    """What the SDK delivered to the application's handlers, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._changed = asyncio.Event()

    def add(self, packet_type: str, fields: dict[str, Any]) -> None:
        self.events.append({"type": packet_type, "fields": fields})
        self._changed.set()

    async def wait_for(self, count: int) -> None:
        while len(self.events) < count:
            self._changed.clear()
            await self._changed.wait()


# packet type a method's request travels in (default: room.invoke_tool)
_AGENT_PACKETS = {"agents.list_toolkits": "room.list_toolkits", "agents.call": "room.call"}


@dataclass
class Scenario:
    id: str
    method: str  # "<toolkit>.<tool>" or "events"
    # The tool input the SDK was asked to send, by wire field name, restricted to what the caller
    # passed explicitly; values in wire form. `data` (base64) stands for bytes sent as the tail.
    arguments: dict[str, Any]
    replies: list[dict[str, Any] | Reply] = field(default_factory=list)  # one reply per request
    pushes: list[Push] = field(default_factory=list)  # sent right after the handshake
    listen: list[str] = field(default_factory=list)  # storage events to register, e.g. "file.updated"
    # The SDK call; default: room.<toolkit>.<tool>(**arguments).
    run: Callable[[RoomClient], Awaitable[Any]] | None = None
    # Registers application handlers on the client before it connects.
    setup: Callable[[RoomClient, EventLog], None] | None = None
    # Extra RoomClient constructor arguments (e.g. oauth_token_request_handler).
    room_kwargs: Callable[[EventLog], dict[str, Any]] | None = None
    # When set, the outcome is the events the handlers received (after the call, if any).
    expect_events: int | None = None
    # The call returns before its request is answered (developer.info/warning/error): wait
    # until the script is done and no request is pending.
    fire_and_forget: bool = False
    # Streaming tools: the whole script (open_step / chunk_step ...), instead of `replies`.
    # After the call, the recorder waits until every step was answered (the SDK's closing
    # request chunk may go out after the call returned).
    steps: list[Step] | None = None
    # Streaming tools: what the caller fed into the stream, in order (the case file's `input`).
    input: list[Any] | None = None

    def packet_type(self) -> str:
        return _AGENT_PACKETS.get(self.method, "room.invoke_tool")

    def script(self) -> list[Step]:
        if self.method == "events":
            return []
        if self.steps is not None:
            return list(self.steps)
        packet = self.packet_type()
        if packet != "room.invoke_tool":
            expect: dict[str, Any] = {"type": packet}
        elif self.method == "agents.invoke_tool":
            expect = {"type": packet, "toolkit": self.arguments["toolkit"], "tool": self.arguments["tool"]}
        else:
            toolkit, tool = self.method.split(".", 1)
            expect = {"type": packet, "toolkit": toolkit, "tool": tool}
        steps = []
        for r in self.replies:
            if not isinstance(r, Reply):
                r = Reply(r)
            steps.append(Step(expect=dict(expect), reply=r.content, reply_tail=r.tail, then=list(r.then)))
        return steps

    def call(self, room: RoomClient) -> Awaitable[Any]:
        if self.run is not None:
            return self.run(room)
        toolkit, tool = self.method.split(".", 1)
        client = getattr(room, toolkit)
        return getattr(client, tool)(**self.arguments)

    @property
    def events_outcome(self) -> bool:
        return self.method == "events" or self.expect_events is not None


def json_reply(value: Any) -> dict[str, Any]:
    return {"type": "json", "json": value}


def error_reply(code: int | None, text: str) -> dict[str, Any]:
    if code is None:
        return {"type": "error", "text": text}
    return {"type": "error", "text": text, "code": code}


EMPTY = {"type": "empty"}

LONG_TEXT = "".join(f"{i:04d}-abcdefghij|" for i in range(80))  # 1280 ASCII chars
assert len(LONG_TEXT) > 1100

SCENARIOS: list[Scenario] = [
    # ---- storage
    Scenario(
        id="py-storage-exists-true",
        method="storage.exists",
        arguments={"path": "docs/a.txt"},
        replies=[json_reply({"exists": True})],
    ),
    Scenario(
        id="py-storage-exists-false",
        method="storage.exists",
        arguments={"path": "docs/missing.txt"},
        replies=[json_reply({"exists": False})],
    ),
    Scenario(
        id="py-storage-exists-error-not-found",
        method="storage.exists",
        arguments={"path": "nope/a.txt"},
        replies=[{"type": "error", "text": "not found", "code": 3001}],
    ),
    Scenario(
        id="py-storage-stat-exists",
        method="storage.stat",
        arguments={"path": "docs/a.txt"},
        replies=[
            json_reply(
                {
                    "exists": True,
                    "name": "a.txt",
                    "is_folder": False,
                    "size": 1234,
                    "created_at": "2024-01-02T03:04:05.678000+00:00",
                    "updated_at": "2024-06-07T08:09:10+00:00",
                }
            )
        ],
    ),
    Scenario(
        id="py-storage-stat-missing",
        method="storage.stat",
        arguments={"path": "docs/missing.txt"},
        replies=[json_reply({"exists": False})],
    ),
    Scenario(
        id="py-storage-list",
        method="storage.list",
        arguments={"path": "docs"},
        replies=[
            json_reply(
                {
                    "files": [
                        {
                            "name": "reports",
                            "is_folder": True,
                            "size": None,
                            "created_at": None,
                            "updated_at": None,
                        },
                        {
                            "name": "résumé-日本語-✓.txt",
                            "is_folder": False,
                            "size": 42,
                            "created_at": "2024-01-02T03:04:05+00:00",
                            "updated_at": "2024-01-03T04:05:06.250000+00:00",
                        },
                    ]
                }
            )
        ],
    ),
    Scenario(
        id="py-storage-delete",
        method="storage.delete",
        arguments={"path": "docs/old.txt"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-storage-delete-recursive",
        method="storage.delete",
        arguments={"path": "docs/old-folder", "recursive": True},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-storage-download-url",
        method="storage.download_url",
        arguments={"path": "docs/a.txt"},
        replies=[json_reply({"url": "https://files.example.test/rooms/test-room/docs/a.txt?sig=abc123"})],
    ),
    Scenario(
        id="py-storage-events",
        method="events",
        arguments={},
        pushes=[
            Push(
                type="storage.file.updated",
                header={"path": "docs/a.txt", "participant_id": "p-remote"},
            ),
            Push(
                type="storage.file.deleted",
                header={"path": "docs/ünïcödé.txt", "participant_id": "p-remote"},
            ),
        ],
        listen=["file.updated", "file.deleted"],
    ),
    # ---- queues
    Scenario(
        id="py-queues-list",
        method="queues.list",
        arguments={},
        replies=[json_reply({"queues": [{"name": "jobs", "size": 3}, {"name": "événements", "size": 0}]})],
    ),
    Scenario(
        id="py-queues-open",
        method="queues.open",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-open-error-not-found",
        method="queues.open",
        arguments={"name": "missing"},
        replies=[{"type": "error", "text": "queue not found", "code": 5001}],
    ),
    Scenario(
        id="py-queues-send",
        method="queues.send",
        arguments={"name": "jobs", "message": {"task": "resize", "id": 7}},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-send-create-false",
        method="queues.send",
        arguments={"name": "jobs", "message": {"task": "resize", "id": 8}, "create": False},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-send-large-unicode",
        method="queues.send",
        arguments={
            "name": "jobs",
            "message": {
                "greeting": "héllo wörld — 日本語 ✓ 🚀",
                "long": LONG_TEXT,
                "nested": {"list": [1, 2.5, None, True, "ß"]},
            },
        },
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-drain",
        method="queues.drain",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-close",
        method="queues.close",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-receive",
        method="queues.receive",
        arguments={"name": "jobs"},
        replies=[json_reply({"task": "resize", "id": 7})],
    ),
    Scenario(
        id="py-queues-receive-empty",
        method="queues.receive",
        arguments={"name": "jobs", "create": False, "wait": False},
        replies=[EMPTY],
    ),
]


def case(
    id: str,
    method: str,
    arguments: dict[str, Any],
    reply: dict[str, Any] = EMPTY,
    run: Callable[[RoomClient], Awaitable[Any]] | None = None,
    *,
    tail: bytes = b"",
    then: list[Push] | None = None,
    **kwargs: Any,
) -> Scenario:
    """One SDK call answered by one reply."""
    return Scenario(
        id=id,
        method=method,
        arguments=arguments,
        replies=[Reply(reply, tail, list(then or []))],
        run=run,
        **kwargs,
    )


def py_json(value: Any) -> str:
    """json.dumps as the Python SDK writes embedded JSON strings (ASCII escapes, ", " / ": ")."""
    return json.dumps(value)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# A deterministic binary blob with every byte value, 1536 bytes.
BLOB = bytes(range(256)) * 6


# --------------------------------------------------------------------------- messaging

# The Python SDK only sends to a RemoteParticipant it knows (one announced by messaging.enabled /
# participant.enabled); any other Participant object is passed through as is. The send cases use a
# plain Participant so that no push is needed before the call: the wire is the same.
def _to(participant_id: str) -> Participant:
    return Participant(id=participant_id, attributes={})


CHAT_MESSAGE = {"text": "héllo wörld 👋", "thread": "t-1", "mentions": ["bob"], "n": 1, "ratio": 0.5}

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
        header={
            "from_participant_id": "server",
            "type": "participant.disabled",
            "message": {"id": "p-new"},
        },
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


def _participant_json(p: RemoteParticipant) -> dict[str, Any]:
    return {"id": p.id, "role": p.role, "attributes": to_jsonable(p._attributes), "online": p.online}


def listen_messaging(room: RoomClient, log: EventLog) -> None:
    """One event per MessagingClient callback; packet type messaging.send, the callback name in
    `event`, its argument, and the remote participant list right after the callback fired."""
    m = room.messaging

    def snapshot() -> list[dict[str, Any]]:
        return [_participant_json(p) for p in m.remote_participants]

    def on_enabled() -> None:
        log.add("messaging.send", {"event": "messaging_enabled", "remote_participants": snapshot()})

    def on_participant(name: str) -> Callable[..., None]:
        def handler(participant: RemoteParticipant) -> None:
            log.add(
                "messaging.send",
                {"event": name, "participant": _participant_json(participant), "remote_participants": snapshot()},
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
        pushes=[
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
        setup=listen_messaging,
        expect_events=1,
    ),
]


# --------------------------------------------------------------------------- developer


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


# --------------------------------------------------------------------------- sync

THREAD_SCHEMA = MeshSchema(
    root_tag_name="thread",
    elements=[
        ElementType(
            tag_name="thread",
            description="a chat thread",
            properties=[
                ValueProperty(name="name", description="the thread title", type="string"),
                ChildProperty(name="messages", description="the messages", child_tag_names=["message"]),
            ],
        ),
        ElementType(
            tag_name="message",
            description="one message",
            properties=[
                ValueProperty(name="text", description="the message text", type="string"),
                ValueProperty(name="author", description="who wrote it", type="string"),
            ],
        ),
    ],
)

THREAD_JSON = {"thread": {"name": "Planning ✓", "messages": [{"message": {"text": "héllo", "author": "bob"}}]}}

SYNC_SCENARIOS: list[Scenario] = [
    case(
        "py-sync-create",
        "sync.create",
        {"path": "docs/notes.thread"},
        run=lambda r: r.sync.create(path="docs/notes.thread"),
    ),
    case(
        "py-sync-create-json",
        "sync.create",
        {"path": "docs/plan ✓.thread", "json": THREAD_JSON},
        run=lambda r: r.sync.create(path="docs/plan ✓.thread", json=THREAD_JSON),
    ),
    # The caller passed "/docs/a.thread": the SDK strips leading "./" and "/" before sending.
    case(
        "py-sync-create-path-normalized",
        "sync.create",
        {"path": "docs/a.thread"},
        run=lambda r: r.sync.create(path="/docs/a.thread"),
    ),
    # schema.to_json() is well over 1024 bytes: 2 data packets.
    case(
        "py-sync-create-schema",
        "sync.create",
        {"path": "threads/main.thread", "json": THREAD_JSON, "schema": THREAD_SCHEMA.to_json()},
        run=lambda r: r.sync.create(path="threads/main.thread", json=THREAD_JSON, schema=THREAD_SCHEMA),
    ),
    case(
        "py-sync-create-error-already-exists",
        "sync.create",
        {"path": "docs/notes.thread"},
        error_reply(1004, "document already exists: docs/notes.thread"),
        run=lambda r: r.sync.create(path="docs/notes.thread"),
    ),
    case(
        "py-sync-describe",
        "sync.describe",
        {"path": "docs/notes.thread"},
        json_reply({"path": "docs/notes.thread", "schema": THREAD_SCHEMA.to_json(), "size": 2048, "open": True}),
        run=lambda r: r.sync.describe(path="docs/notes.thread"),
    ),
    case(
        "py-sync-describe-empty",
        "sync.describe",
        {"path": "docs/ünïcödé.thread"},
        json_reply({}),
        run=lambda r: r.sync.describe(path="./docs/ünïcödé.thread"),
    ),
    case(
        "py-sync-describe-error-not-found",
        "sync.describe",
        {"path": "docs/missing.thread"},
        error_reply(1003, "document not found"),
        run=lambda r: r.sync.describe(path="docs/missing.thread"),
    ),
]


# --------------------------------------------------------------------------- livekit

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


# --------------------------------------------------------------------------- services

SERVICE_SPECS = [
    {
        "version": "v1",
        "kind": "Service",
        "id": "svc-chatbot",
        "metadata": {
            "name": "chatbot",
            "description": "A friendly assistant — répond en français ✓",
            "annotations": {"meshagent.service.id": "chatbot"},
        },
        "agents": [{"name": "assistant", "description": "answers questions"}],
        "ports": [
            {
                "num": 8080,
                "type": "http",
                "endpoints": [{"path": "/agent", "meshagent": {"identity": "assistant"}}],
            }
        ],
        "container": {
            "image": "ghcr.io/example/chatbot:1.2.3",
            "command": "python -m chatbot",
            "environment": [{"name": "LOG_LEVEL", "value": "debug"}],
            "storage": {"room": [{"path": "/data", "read_only": False}]},
        },
    },
    {
        "version": "v1",
        "kind": "Service",
        "metadata": {"name": "docs-mcp", "repo": "https://github.com/example/docs-mcp"},
        "external": {"url": "https://mcp.example.test/sse"},
    },
]

SERVICES_SCENARIOS: list[Scenario] = [
    # ServicesClient.list_with_state(); list() returns just its .services.
    case(
        "py-services-list",
        "services.list",
        {},
        json_reply(
            {
                "services_json": [json.dumps(s) for s in SERVICE_SPECS],
                "service_states": [
                    {
                        "service_id": "svc-chatbot",
                        "state": "running",
                        "container_id": "c-1234",
                        "restart_scheduled_at": None,
                        "started_at": 1717171717.25,
                        "restart_count": 2,
                        "last_exit_code": 137,
                        "last_exit_at": 1717171700.0,
                    },
                    {"service_id": "docs-mcp", "state": "external"},
                ],
            }
        ),
        run=lambda r: r.services.list_with_state(),
    ),
    case(
        "py-services-list-empty",
        "services.list",
        {},
        json_reply({"services_json": [], "service_states": []}),
        run=lambda r: r.services.list_with_state(),
    ),
    case("py-services-restart", "services.restart", {"service_id": "svc-chatbot"}),
    case(
        "py-services-restart-error-not-found",
        "services.restart",
        {"service_id": "svc-missing"},
        error_reply(7001, "service not found: svc-missing"),
    ),
    case(
        "py-services-restart-error-not-allowed",
        "services.restart",
        {"service_id": "docs-mcp"},
        error_reply(7002, "external services cannot be restarted"),
    ),
]


# --------------------------------------------------------------------------- agents

TOOLKITS_REPLY = {
    "tools": {
        "storage-helpers": {
            "title": "Storage helpers",
            "description": "Tools that work on room storage ✓",
            "thumbnail_url": "https://cdn.example.test/icons/storage.png",
            "participant_id": "p-remote",
            "tools": {
                "summarize": {
                    "title": "Summarize a file",
                    "description": "Résume un fichier texte",
                    "input_spec": {
                        "types": ["json"],
                        "stream": False,
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["path"],
                            "properties": {"path": {"type": "string", "description": "file path"}},
                        },
                    },
                    "output_spec": {"types": ["text", "json"], "stream": False},
                    "thumbnail_url": None,
                    "defs": None,
                    "pricing": "$0.01 per call",
                    "supports_context": True,
                    "strict": True,
                },
                "convert": {
                    "title": "Convert",
                    "description": "",
                    "input_spec": {"types": ["file", "binary"], "stream": True},
                    "output_spec": {"types": ["file"], "stream": True},
                    "defs": {"format": {"type": "string", "enum": ["pdf", "png"]}},
                    "supports_context": False,
                },
            },
        },
        "legacy": {
            "title": "Legacy toolkit",
            "description": "Uses input_schema / supportsContext",
            "tools": {
                "echo": {
                    "title": "Echo",
                    "description": "returns its input",
                    "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
                    "output_schema": {"type": "object", "properties": {"echo": {"type": "object"}}},
                    "supportsContext": True,
                    "strict": "yes",
                },
                "ping": {},
            },
        },
        "empty": {"title": "", "description": "", "tools": {}},
    }
}

FULL_SCOPE = ApiScope(
    livekit=LivekitGrant(breakout_rooms=["salle-1"]),
    messaging=MessagingGrant(broadcast=False),
    storage=StorageGrant(paths=[StoragePathGrant(path="shared/", read_only=True)]),
    agents=AgentsGrant(allowed_toolkits=["storage-helpers"]),
)

AGENTS_SCENARIOS: list[Scenario] = [
    case(
        "py-agents-invoke-tool-json",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "echo", "arguments": {"type": "json", "json": {"text": "héllo ✓", "n": 2}}},
        json_reply({"echo": {"text": "héllo ✓", "n": 2}}),
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="echo", input={"text": "héllo ✓", "n": 2}),
    ),
    case(
        "py-agents-invoke-tool-text",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "shout", "arguments": {"type": "text", "text": "bonjour 👋"}},
        {"type": "text", "text": "BONJOUR 👋"},
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="shout", input="bonjour 👋"),
    ),
    case(
        "py-agents-invoke-tool-text-empty",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "shout", "arguments": {"type": "text", "text": ""}},
        {"type": "text", "text": ""},
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="shout", input=""),
    ),
    # A 1536-byte file input: the tail spans two data packets. The reply is a file with a tail.
    case(
        "py-agents-invoke-tool-file",
        "agents.invoke_tool",
        {
            "toolkit": "images",
            "tool": "thumbnail",
            "arguments": {"type": "file", "name": "photo ✓.png", "mime_type": "image/png"},
            "data": b64(BLOB),
        },
        {"type": "file", "name": "thumb.png", "mime_type": "image/png"},
        tail=b"\x89PNG\r\n\x1a\n\x00\x00thumb",
        run=lambda r: r.agents.invoke_tool(
            toolkit="images",
            tool="thumbnail",
            input=FileContent(data=BLOB, name="photo ✓.png", mime_type="image/png"),
        ),
    ),
    case(
        "py-agents-invoke-tool-binary",
        "agents.invoke_tool",
        {
            "toolkit": "codec",
            "tool": "decode",
            "arguments": {"type": "binary", "headers": {"encoding": "gzip", "level": 9}},
            "data": b64(b"\x1f\x8b\x08\x00payload"),
        },
        {"type": "binary", "headers": {"decoded": True}},
        tail=b"plain bytes \xe2\x9c\x93",
        run=lambda r: r.agents.invoke_tool(
            toolkit="codec",
            tool="decode",
            input=BinaryContent(data=b"\x1f\x8b\x08\x00payload", headers={"encoding": "gzip", "level": 9}),
        ),
    ),
    # No input: the SDK sends an empty Content.
    case(
        "py-agents-invoke-tool-empty",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "ping"},
        EMPTY,
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="ping"),
    ),
    case(
        "py-agents-invoke-tool-routing",
        "agents.invoke_tool",
        {
            "toolkit": "storage-helpers",
            "tool": "summarize",
            "participant_id": "p-remote",
            "on_behalf_of_id": "p-user",
            "arguments": {"type": "json", "json": {"path": "docs/a.txt"}},
            "caller_context": {"chat": {"thread_id": "t-1", "path": "threads/main.thread"}},
        },
        {"type": "link", "name": "summary ✓", "url": "https://files.example.test/summary.md"},
        run=lambda r: r.agents.invoke_tool(
            toolkit="storage-helpers",
            tool="summarize",
            input={"path": "docs/a.txt"},
            participant_id="p-remote",
            on_behalf_of_id="p-user",
            caller_context={"chat": {"thread_id": "t-1", "path": "threads/main.thread"}},
        ),
    ),
    case(
        "py-agents-invoke-tool-large-json",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "echo", "arguments": {"type": "json", "json": {"text": LONG_TEXT}}},
        json_reply({"length": len(LONG_TEXT)}),
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="echo", input={"text": LONG_TEXT}),
    ),
    case(
        "py-agents-invoke-tool-error-not-found",
        "agents.invoke_tool",
        {"toolkit": "missing", "tool": "nothing", "arguments": {"type": "json", "json": {}}},
        error_reply(1003, "toolkit not found: missing"),
        run=lambda r: r.agents.invoke_tool(toolkit="missing", tool="nothing", input={}),
    ),
    # An error reply without a code: the SDK's RoomException.code is None.
    case(
        "py-agents-invoke-tool-error-no-code",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "divide", "arguments": {"type": "json", "json": {"a": 1, "b": 0}}},
        error_reply(None, "division by zero"),
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="divide", input={"a": 1, "b": 0}),
    ),
    case(
        "py-agents-list-toolkits",
        "agents.list_toolkits",
        {},
        json_reply(TOOLKITS_REPLY),
        run=lambda r: r.agents.list_toolkits(),
    ),
    case(
        "py-agents-list-toolkits-filters",
        "agents.list_toolkits",
        {"participant_id": "p-remote", "participant_name": "bob ✓", "timeout": 30},
        json_reply({"tools": {}}),
        run=lambda r: r.agents.list_toolkits(participant_id="p-remote", participant_name="bob ✓", timeout=30),
    ),
    case(
        "py-agents-list-toolkits-error-timeout",
        "agents.list_toolkits",
        {"participant_name": "nobody", "timeout": 1},
        error_reply(1009, "timed out waiting for the participant's toolkits"),
        run=lambda r: r.agents.list_toolkits(participant_name="nobody", timeout=1),
    ),
    case(
        "py-agents-call",
        "agents.call",
        {"url": "https://agents.example.test/hooks/call", "arguments": {"prompt": "Bonjour ✓", "n": 1}, "name": "assistant"},
        run=lambda r: r.agents.make_call(
            name="assistant", url="https://agents.example.test/hooks/call", arguments={"prompt": "Bonjour ✓", "n": 1}
        ),
    ),
    case(
        "py-agents-call-api",
        "agents.call",
        {
            "url": "https://agents.example.test/hooks/call",
            "arguments": {},
            "name": "helper",
            "api": FULL_SCOPE.model_dump(mode="json"),
        },
        run=lambda r: r.agents.make_call(
            name="helper", url="https://agents.example.test/hooks/call", arguments={}, api=FULL_SCOPE
        ),
    ),
    case(
        "py-agents-call-error-permission-denied",
        "agents.call",
        {"url": "https://agents.example.test/hooks/call", "arguments": {}, "name": "intruder"},
        error_reply(1001, "call is not allowed"),
        run=lambda r: r.agents.make_call(name="intruder", url="https://agents.example.test/hooks/call", arguments={}),
    ),
]


# --------------------------------------------------------------------------- database

UTC = datetime.timezone.utc


def _dt(value: Any) -> dict[str, Any]:
    """The data-type JSON the SDK sends for a DataType (same code path as add_columns)."""
    from meshagent.api.room_server_client import _database_toolkit_data_type_json

    return _database_toolkit_data_type_json(value)


INSPECT_FIELDS = [
    {"name": "id", "data_type": {"type": "int", "nullable": False, "metadata": None}},
    {
        "name": "name",
        "data_type": {"type": "text", "nullable": True, "metadata": [{"key": "description", "value": "nom complet ✓"}]},
    },
    {"name": "score", "data_type": {"type": "float", "nullable": None, "metadata": []}},
    {"name": "active", "data_type": {"type": "bool", "nullable": None, "metadata": None}},
    {"name": "avatar", "data_type": {"type": "binary", "nullable": True, "metadata": None}},
    {"name": "born", "data_type": {"type": "date", "nullable": True, "metadata": None}},
    {"name": "updated_at", "data_type": {"type": "timestamp", "nullable": False, "metadata": None}},
    {
        "name": "embedding",
        "data_type": {
            "type": "vector",
            "nullable": None,
            "metadata": None,
            "size": 3,
            "element_type": {"type": "float", "nullable": None, "metadata": None},
        },
    },
    {
        "name": "tags",
        "data_type": {
            "type": "list",
            "nullable": True,
            "metadata": None,
            "element_type": {"type": "text", "nullable": None, "metadata": None},
        },
    },
    {
        "name": "address",
        "data_type": {
            "type": "struct",
            "nullable": True,
            "metadata": None,
            "fields": [
                {"name": "street", "data_type": {"type": "text", "nullable": None, "metadata": None}},
                {"name": "zip", "data_type": {"type": "int", "nullable": None, "metadata": None}},
            ],
        },
    },
]

UPDATE_VALUES = {
    "name": "Zoë ✓",
    "score": 2.5,
    "visits": 7,
    "active": False,
    "avatar": b"\x00\x01\xfe\xff",
    "updated_at": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    "born": datetime.date(1990, 12, 31),
    "tags": ["a", "ü"],
    "address": {"street": "Rue de l'Église 1", "zip": 75001},
    "nickname": None,
}

VECTOR_TYPE = VectorDataType(size=3, element_type=FloatDataType())
TAGS_TYPE = ListDataType(element_type=TextDataType(), nullable=True, metadata={"description": "étiquettes", "max": 5})

DATABASE_SCENARIOS: list[Scenario] = [
    case(
        "py-database-list-tables",
        "database.list_tables",
        {},
        json_reply({"tables": ["people", "événements", ""]}),
    ),
    case(
        "py-database-list-tables-namespace",
        "database.list_tables",
        {"namespace": ["team", "ünï"]},
        json_reply({"tables": []}),
    ),
    case(
        "py-database-inspect",
        "database.inspect",
        {"table": "people"},
        json_reply({"fields": INSPECT_FIELDS, "metadata": None}),
    ),
    case(
        "py-database-inspect-namespace",
        "database.inspect",
        {"table": "événements", "namespace": ["team"]},
        json_reply({"fields": [{"name": "id", "data_type": {"type": "int", "nullable": None, "metadata": None}}]}),
    ),
    case(
        "py-database-inspect-error-not-found",
        "database.inspect",
        {"table": "missing"},
        error_reply(1003, "table not found: missing"),
    ),
    case("py-database-drop-table", "database.drop_table", {"name": "people"}),
    case(
        "py-database-drop-table-ignore-missing-namespace",
        "database.drop_table",
        {"name": "événements", "ignore_missing": True, "namespace": ["team"]},
    ),
    case(
        "py-database-drop-table-error-not-found",
        "database.drop_table",
        {"name": "missing", "ignore_missing": False},
        error_reply(1003, "table not found: missing"),
    ),
    case("py-database-drop-index", "database.drop_index", {"table": "people", "name": "name_idx"}),
    case(
        "py-database-drop-index-namespace",
        "database.drop_index",
        {"table": "people", "name": "idx ✓", "namespace": ["team", "eu"]},
    ),
    # A string value is a SQL default expression.
    case(
        "py-database-add-columns-sql",
        "database.add_columns",
        {
            "table": "people",
            "columns": [
                {"name": "score", "value_sql": "0.0", "data_type": None},
                {"name": "label", "value_sql": "'n/a — ✓'", "data_type": None},
            ],
        },
        run=lambda r: r.database.add_columns(table="people", new_columns={"score": "0.0", "label": "'n/a — ✓'"}),
    ),
    # A DataType value is a typed column filled with nulls; non-string metadata is JSON-encoded.
    case(
        "py-database-add-columns-data-types",
        "database.add_columns",
        {
            "table": "people",
            "columns": [
                {"name": "embedding", "value_sql": None, "data_type": _dt(VECTOR_TYPE)},
                {"name": "tags", "value_sql": None, "data_type": _dt(TAGS_TYPE)},
                {"name": "seen", "value_sql": None, "data_type": _dt(TimestampDataType(nullable=True))},
            ],
            "namespace": ["team"],
        },
        run=lambda r: r.database.add_columns(
            table="people",
            new_columns={"embedding": VECTOR_TYPE, "tags": TAGS_TYPE, "seen": TimestampDataType(nullable=True)},
            namespace=["team"],
        ),
    ),
    # DatabaseClient._alter_columns (private in 0.35.8).
    case(
        "py-database-alter-columns",
        "database.alter_columns",
        {
            "table": "people",
            "columns": [
                {"name": "score", "data_type": _dt(FloatDataType(nullable=True))},
                {
                    "name": "address",
                    "data_type": _dt(StructDataType(fields={"street": TextDataType(), "zip": IntDataType()})),
                },
            ],
        },
        run=lambda r: r.database._alter_columns(
            table="people",
            columns={
                "score": FloatDataType(nullable=True),
                "address": StructDataType(fields={"street": TextDataType(), "zip": IntDataType()}),
            },
        ),
    ),
    case(
        "py-database-alter-columns-namespace",
        "database.alter_columns",
        {
            "table": "people",
            "columns": [{"name": "born", "data_type": _dt(DateDataType(nullable=False, metadata={"format": "ISO ✓"}))}],
            "namespace": ["team"],
        },
        run=lambda r: r.database._alter_columns(
            table="people",
            columns={"born": DateDataType(nullable=False, metadata={"format": "ISO ✓"})},
            namespace=["team"],
        ),
    ),
    case("py-database-drop-columns", "database.drop_columns", {"table": "people", "columns": ["score", "ünï"]}),
    case(
        "py-database-drop-columns-namespace",
        "database.drop_columns",
        {"table": "people", "columns": [], "namespace": ["team"]},
    ),
    # values -> [{column, value_json}] with the legacy value encoding (bytes, dates, ...).
    case(
        "py-database-update-values",
        "database.update",
        {
            "table": "people",
            "where": "id = 1",
            "values": [{"column": k, "value_json": py_json(v)} for k, v in {
                "name": "Zoë ✓",
                "score": 2.5,
                "visits": 7,
                "active": False,
                "avatar": {"encoding": "base64", "data": "AAH+/w=="},
                "updated_at": "2025-01-02T03:04:05Z",
                "born": "1990-12-31",
                "tags": ["a", "ü"],
                "address": {"street": "Rue de l'Église 1", "zip": 75001},
                "nickname": None,
            }.items()],
        },
        run=lambda r: r.database.update(table="people", where="id = 1", values=UPDATE_VALUES),
    ),
    case(
        "py-database-update-values-sql",
        "database.update",
        {
            "table": "people",
            "where": "name = 'Zoë'",
            "values_sql": [{"column": "visits", "expression": "visits + 1"}, {"column": "seen", "expression": "now()"}],
        },
        run=lambda r: r.database.update(
            table="people", where="name = 'Zoë'", values_sql={"visits": "visits + 1", "seen": "now()"}
        ),
    ),
    case(
        "py-database-update-large-namespace",
        "database.update",
        {
            "table": "notes",
            "where": "",
            "values": [{"column": "body", "value_json": py_json(LONG_TEXT)}],
            "values_sql": [],
            "namespace": ["team"],
        },
        run=lambda r: r.database.update(
            table="notes", where="", values={"body": LONG_TEXT}, values_sql={}, namespace=["team"]
        ),
    ),
    case("py-database-delete", "database.delete", {"table": "people", "where": "id IN (1, 2, 3)"}),
    case(
        "py-database-delete-namespace",
        "database.delete",
        {"table": "événements", "where": "title = 'Fête ✓'", "namespace": ["team"]},
    ),
    case(
        "py-database-delete-error-invalid-request",
        "database.delete",
        {"table": "people", "where": "id = = 1"},
        error_reply(1002, "invalid where clause: id = = 1"),
    ),
    case("py-database-count", "database.count", {"table": "people"}, json_reply({"count": 42})),
    case(
        "py-database-count-filters",
        "database.count",
        {"table": "people", "text": "zoë", "vector": [0.1, -0.5, 1.0], "where": "active = true", "namespace": ["team"]},
        json_reply({"count": 0}),
    ),
    # A dict `where` becomes `k = json(v)` joined with AND.
    case(
        "py-database-count-where-dict",
        "database.count",
        {"table": "people", "where": 'id = 1 AND name = "Zo\\u00eb" AND active = true'},
        json_reply({"count": 1}),
        run=lambda r: r.database.count(table="people", where={"id": 1, "name": "Zoë", "active": True}),
    ),
    case("py-database-optimize", "database.optimize", {"table": "people"}),
    case("py-database-optimize-namespace", "database.optimize", {"table": "people", "namespace": ["team"]}),
    case("py-database-restore", "database.restore", {"table": "people", "version": 3}),
    case(
        "py-database-restore-error-not-found",
        "database.restore",
        {"table": "people", "version": 99},
        error_reply(1003, "version 99 not found"),
    ),
    case(
        "py-database-restore-namespace",
        "database.restore",
        {"table": "événements", "version": 1, "namespace": ["team"]},
    ),
    case("py-database-checkout", "database.checkout", {"table": "people", "version": 2}),
    case(
        "py-database-checkout-namespace",
        "database.checkout",
        {"table": "people", "version": 0, "namespace": ["team"]},
    ),
    case(
        "py-database-list-versions",
        "database.list_versions",
        {"table": "people"},
        json_reply(
            {
                "versions": [
                    {"version": 1, "timestamp": "2025-01-02T03:04:05Z", "metadata_json": "{}"},
                    {
                        "version": 2,
                        "timestamp": "2025-01-03T10:00:00.250000+00:00",
                        "metadata_json": '{"author": "Zoë", "tags": ["a"], "n": 1}',
                    },
                ]
            }
        ),
    ),
    case(
        "py-database-list-versions-namespace",
        "database.list_versions",
        {"table": "people", "namespace": ["team"]},
        json_reply({"versions": []}),
    ),
    case("py-database-create-vector-index", "database.create_vector_index", {"table": "people", "column": "embedding"}),
    case(
        "py-database-create-vector-index-replace",
        "database.create_vector_index",
        {"table": "people", "column": "embedding", "replace": True, "namespace": ["team"]},
    ),
    case("py-database-create-scalar-index", "database.create_scalar_index", {"table": "people", "column": "id"}),
    case(
        "py-database-create-scalar-index-replace-false",
        "database.create_scalar_index",
        {"table": "people", "column": "name", "replace": False, "namespace": ["team"]},
    ),
    case(
        "py-database-create-full-text-search-index",
        "database.create_full_text_search_index",
        {"table": "people", "column": "bio"},
    ),
    case(
        "py-database-create-full-text-search-index-replace",
        "database.create_full_text_search_index",
        {"table": "notes", "column": "body", "replace": True, "namespace": ["team"]},
    ),
    case(
        "py-database-list-indexes",
        "database.list_indexes",
        {"table": "people"},
        json_reply(
            {
                "indexes": [
                    {"name": "embedding_idx", "columns": ["embedding"], "type": "IVF_PQ"},
                    {"name": "name_fts ✓", "columns": ["name", "bio"], "type": "FTS"},
                ]
            }
        ),
    ),
    case(
        "py-database-list-indexes-namespace",
        "database.list_indexes",
        {"table": "people", "namespace": ["team"]},
        json_reply({"indexes": []}),
    ),
]


# --------------------------------------------------------------------------- memory

INGEST_RESULT = {"name": "kb", "stats": {"entities": 3, "relationships": 2, "sources": 1}, "entity_ids": ["e1", "e2", "e3"]}

NODES = [
    MemoryEntityRecord(
        entity_id="e-zoe",
        name="Zoë",
        entity_type="person",
        context="Leads the Paris office ✓",
        confidence=0.9,
        created_at="2025-01-02T03:04:05Z",
        valid_at="2025-01-01",
        metadata={"source": "hr.csv"},
    ),
    MemoryEntityRecord(name="Paris"),
]

RELATIONSHIPS = [
    MemoryRelationshipRecord(
        source_entity_id="e-zoe",
        target_entity_id="e-paris",
        relationship_type="WORKS_IN",
        description="works in",
        confidence=0.75,
        created_at="2025-01-02T03:04:05Z",
        valid_at="2025-01-01",
        expired_at=None,
        invalid_at=None,
        source_entity_name="Zoë",
        target_entity_name="Paris",
        metadata={"k": "v"},
    ),
    MemoryRelationshipRecord(source_entity_id="e-a", target_entity_id="e-b"),
]

UPSERT_RECORDS = [
    {"id": i, "title": f"note {i} — ✓", "body": LONG_TEXT[:300], "blob": b"\x00\x01", "at": datetime.datetime(2025, 1, 2, tzinfo=UTC)}
    for i in range(4)
]

MEMORY_SCENARIOS: list[Scenario] = [
    case("py-memory-list", "memory.list", {}, json_reply({"memories": ["kb", "notes ✓"]})),
    case("py-memory-list-namespace", "memory.list", {"namespace": ["team", "eu"]}, json_reply({"memories": []})),
    case("py-memory-create", "memory.create", {"name": "kb"}),
    case(
        "py-memory-create-options",
        "memory.create",
        {"name": "kb ✓", "namespace": ["team"], "overwrite": True, "ignore_exists": True},
    ),
    case(
        "py-memory-create-error-already-exists",
        "memory.create",
        {"name": "kb"},
        error_reply(2002, "memory already exists: kb"),
    ),
    case("py-memory-drop", "memory.drop", {"name": "kb"}),
    case("py-memory-drop-ignore-missing", "memory.drop", {"name": "old", "namespace": ["team"], "ignore_missing": True}),
    case("py-memory-drop-error-not-found", "memory.drop", {"name": "nope"}, error_reply(2001, "memory not found: nope")),
    case(
        "py-memory-inspect",
        "memory.inspect",
        {"name": "kb"},
        json_reply(
            {
                "name": "kb",
                "namespace": ["team"],
                "path": ".memory/team/kb",
                "datasets": [
                    {"name": "entities", "rows": 120, "columns": ["entity_id", "name", "entity_type"]},
                    {"name": "relationships ✓", "rows": 0},
                ],
            }
        ),
    ),
    case(
        "py-memory-inspect-error-not-found",
        "memory.inspect",
        {"name": "nope", "namespace": ["team"]},
        error_reply(2001, "memory not found: nope"),
    ),
    # `results` form: records with the legacy base64 encoding decoded by the SDK.
    case(
        "py-memory-query",
        "memory.query",
        {"name": "kb", "statement": "MATCH (p:person) RETURN p.name, p.photo"},
        json_reply(
            {
                "results": [
                    {"name": "Zoë ✓", "photo": {"encoding": "base64", "data": "iVBORw=="}, "age": 41, "score": 0.5},
                    {"name": "", "photo": None, "age": None, "score": 1.0},
                ]
            }
        ),
    ),
    # typed rows form (kind: rows), decoded with the database stream value decoder.
    case(
        "py-memory-query-rows",
        "memory.query",
        {"name": "kb", "statement": "SELECT name, tags FROM entities", "namespace": ["team"]},
        json_reply(
            {
                "kind": "rows",
                "rows": [
                    {
                        "columns": [
                            {"name": "name", "value": {"type": "text", "value": "Zoë"}},
                            {"name": "tags", "value": {"type": "list", "items": [{"type": "text", "value": "a"}]}},
                            {"name": "blob", "value": {"type": "binary", "data": "AAE="}},
                            {"name": "seen", "value": {"type": "timestamp", "value": "2025-01-02T03:04:05Z"}},
                            {"name": "none", "value": {"type": "null"}},
                        ]
                    }
                ],
            }
        ),
    ),
    # records -> records_json (legacy encoding: bytes, datetimes); > 1024 bytes.
    case(
        "py-memory-upsert-table",
        "memory.upsert_table",
        {
            "name": "kb",
            "table": "notes",
            "records_json": py_json(
                [
                    {"id": i, "title": f"note {i} — ✓", "body": LONG_TEXT[:300], "blob": {"encoding": "base64", "data": "AAE="}, "at": "2025-01-02T00:00:00Z"}
                    for i in range(4)
                ]
            ),
        },
        run=lambda r: r.memory.upsert_table(name="kb", table="notes", records=UPSERT_RECORDS),
    ),
    case(
        "py-memory-upsert-table-no-merge",
        "memory.upsert_table",
        {"name": "kb", "namespace": ["team"], "table": "empty", "records_json": "[]", "merge": False},
        run=lambda r: r.memory.upsert_table(name="kb", table="empty", records=[], merge=False, namespace=["team"]),
    ),
    case(
        "py-memory-upsert-nodes",
        "memory.upsert_nodes",
        {"name": "kb", "records_json": py_json([n.model_dump() for n in NODES])},
        run=lambda r: r.memory.upsert_nodes(name="kb", records=NODES),
    ),
    case(
        "py-memory-upsert-nodes-no-merge",
        "memory.upsert_nodes",
        {"name": "kb", "namespace": ["team"], "records_json": py_json([NODES[1].model_dump()]), "merge": False},
        run=lambda r: r.memory.upsert_nodes(name="kb", records=[NODES[1]], merge=False, namespace=["team"]),
    ),
    case(
        "py-memory-upsert-relationships",
        "memory.upsert_relationships",
        {"name": "kb", "records_json": py_json([x.model_dump() for x in RELATIONSHIPS])},
        run=lambda r: r.memory.upsert_relationships(name="kb", records=RELATIONSHIPS),
    ),
    case(
        "py-memory-upsert-relationships-no-merge",
        "memory.upsert_relationships",
        {"name": "kb", "namespace": ["team"], "records_json": "[]", "merge": False},
        run=lambda r: r.memory.upsert_relationships(name="kb", records=[], merge=False, namespace=["team"]),
    ),
    case(
        "py-memory-ingest-text",
        "memory.ingest_text",
        {"name": "kb", "text": "Zoë dirige le bureau de Paris. ✓"},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-text-llm",
        "memory.ingest_text",
        {
            "name": "kb",
            "namespace": ["team"],
            "strategy": "llm",
            "llm_model": "gpt-4.1-mini",
            "llm_temperature": 0.2,
            "text": LONG_TEXT,
        },
        json_reply({"name": "kb", "stats": {}}),
    ),
    case(
        "py-memory-ingest-image",
        "memory.ingest_image",
        {
            "name": "kb",
            "caption": "Team photo ✓",
            "data_base64": b64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            "mime_type": "image/png",
            "source": "photos/team.png",
            "annotations_json": py_json({"event": "offsite", "lieu": "Montréal"}),
        },
        json_reply(INGEST_RESULT),
        run=lambda r: r.memory.ingest_image(
            name="kb",
            caption="Team photo ✓",
            data=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            mime_type="image/png",
            source="photos/team.png",
            annotations={"event": "offsite", "lieu": "Montréal"},
        ),
    ),
    case(
        "py-memory-ingest-image-minimal",
        "memory.ingest_image",
        {"name": "kb"},
        json_reply({"name": "kb", "stats": {"entities": 0, "relationships": 0, "sources": 0}, "entity_ids": []}),
        run=lambda r: r.memory.ingest_image(name="kb"),
    ),
    case(
        "py-memory-ingest-file-path",
        "memory.ingest_file",
        {"name": "kb", "path": "docs/handbook ✓.pdf", "mime_type": "application/pdf"},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-file-text",
        "memory.ingest_file",
        {"name": "kb", "namespace": ["team"], "strategy": "llm", "text": "", "llm_temperature": 0.0},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-table",
        "memory.ingest_from_table",
        {"name": "kb", "table": "people"},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-table-options",
        "memory.ingest_from_table",
        {
            "name": "kb",
            "table": "people",
            "text_columns": ["name", "bio"],
            "table_namespace": ["team"],
            "limit": 100,
            "namespace": ["kb-ns"],
            "strategy": "heuristic",
            "llm_model": "gpt-4.1",
        },
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-storage",
        "memory.ingest_from_storage",
        {"name": "kb", "paths": ["docs/a.txt", "docs/ünïcödé.md"]},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-storage-options",
        "memory.ingest_from_storage",
        {"name": "kb", "paths": ["docs/"], "namespace": ["team"], "strategy": "llm", "llm_model": "gpt-4.1-mini", "llm_temperature": 1.5},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-storage-error-not-found",
        "memory.ingest_from_storage",
        {"name": "missing", "paths": []},
        error_reply(2001, "memory not found: missing"),
    ),
    case(
        "py-memory-recall",
        "memory.recall",
        {"name": "kb", "query": "Who leads Paris?"},
        json_reply(
            {
                "name": "kb",
                "query": "Who leads Paris?",
                "items": [
                    {
                        "entity_id": "e-zoe",
                        "name": "Zoë",
                        "entity_type": "person",
                        "context": "Leads the Paris office ✓",
                        "confidence": 0.9,
                        "created_at": "2025-01-02T03:04:05Z",
                        "valid_at": None,
                        "score": 0.87,
                        "relationships": [
                            {
                                "source_entity_id": "e-zoe",
                                "target_entity_id": "e-paris",
                                "relationship_type": "WORKS_IN",
                                "description": "works in",
                            }
                        ],
                    },
                    {"entity_id": "e-paris", "name": "Paris", "entity_type": "city", "score": 0.5},
                ],
            }
        ),
    ),
    case(
        "py-memory-recall-options",
        "memory.recall",
        {"name": "kb", "query": "", "namespace": ["team"], "limit": 1, "include_relationships": False},
        json_reply({"name": "kb", "query": "", "items": []}),
    ),
    case(
        "py-memory-delete-entities",
        "memory.delete_entities",
        {"name": "kb", "entity_ids": ["e-zoe", "e-ünï"]},
        json_reply({"name": "kb", "deleted_entities": 2, "deleted_relationships": 1}),
    ),
    case(
        "py-memory-delete-entities-namespace",
        "memory.delete_entities",
        {"name": "kb", "entity_ids": [], "namespace": ["team"]},
        json_reply({"name": "kb"}),
    ),
    case(
        "py-memory-delete-relationships",
        "memory.delete_relationships",
        {
            "name": "kb",
            "relationships": [
                {"source_entity_id": "e-zoe", "target_entity_id": "e-paris", "relationship_type": "WORKS_IN"},
                {"source_entity_id": "e-a", "target_entity_id": "e-b", "relationship_type": None},
            ],
        },
        json_reply({"name": "kb", "deleted_relationships": 2}),
        run=lambda r: r.memory.delete_relationships(
            name="kb",
            relationships=[
                MemoryRelationshipSelector(
                    source_entity_id="e-zoe", target_entity_id="e-paris", relationship_type="WORKS_IN"
                ),
                MemoryRelationshipSelector(source_entity_id="e-a", target_entity_id="e-b"),
            ],
        ),
    ),
    case(
        "py-memory-delete-relationships-namespace",
        "memory.delete_relationships",
        {"name": "kb", "relationships": [], "namespace": ["team"]},
        json_reply({"name": "kb", "deleted_relationships": 0}),
        run=lambda r: r.memory.delete_relationships(name="kb", relationships=[], namespace=["team"]),
    ),
    case(
        "py-memory-optimize",
        "memory.optimize",
        {"name": "kb"},
        json_reply(
            {
                "name": "kb",
                "datasets": [
                    {
                        "dataset": "entities",
                        "fragments_added": 1,
                        "fragments_removed": 4,
                        "files_added": 1,
                        "files_removed": 4,
                        "old_versions_removed": 3,
                        "bytes_removed": 1048576,
                    },
                    {"dataset": "relationships"},
                ],
            }
        ),
    ),
    case(
        "py-memory-optimize-options",
        "memory.optimize",
        {"name": "kb", "namespace": ["team"], "compact": False, "cleanup": False},
        json_reply({"name": "kb", "datasets": []}),
    ),
]


# --------------------------------------------------------------------------- secrets

OAUTH = OAuthClientConfig(
    client_id="client-123",
    client_secret=None,
    authorization_endpoint="https://auth.example.test/authorize",
    token_endpoint="https://auth.example.test/token",
    no_pkce=False,
    scopes=["read", "write ✓"],
)
CONNECTOR = ConnectorRef(openai_connector_id="conn-gdrive", server_url=None, client_secret_id=None)

SECRET_BYTES = ("-----BEGIN PRIVATE KEY-----\n" + "QUJD" * 300 + "\n-----END PRIVATE KEY-----\n").encode()
assert len(SECRET_BYTES) > 1100


def secret_handler_setup(room: RoomClient, log: EventLog) -> None:
    """RoomClient passes no secret_request_handler to SecretsClient; set the private attribute."""

    async def handler(request: Any) -> None:
        log.add("secrets.request_secret", to_jsonable(request))

    room.secrets._secret_request_handler = handler


def oauth_handler_kwargs(log: EventLog) -> dict[str, Any]:
    async def handler(request: Any) -> None:
        log.add("secrets.request_oauth_token", to_jsonable(request))

    return {"oauth_token_request_handler": handler}


OAUTH_PUSH = Push(
    type="secrets.request_oauth_token",
    header={
        "request_id": "req-oauth-1",
        "request": {
            "connector": None,
            "oauth": OAUTH.model_dump(mode="json"),
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

SECRETS_SCENARIOS: list[Scenario] = [
    case(
        "py-secrets-provide-oauth-authorization",
        "secrets.provide_oauth_authorization",
        {"request_id": "req-oauth-1", "code": "auth-code-✓"},
    ),
    # reject_oauth_authorization uses the same tool with code null and an error.
    case(
        "py-secrets-reject-oauth-authorization",
        "secrets.provide_oauth_authorization",
        {"request_id": "req-oauth-1", "error": "access_denied"},
        run=lambda r: r.secrets.reject_oauth_authorization(request_id="req-oauth-1", error="access_denied"),
    ),
    # The secret travels as the binary tail; `data` is its base64.
    case(
        "py-secrets-provide-secret",
        "secrets.provide_secret",
        {"request_id": "req-secret-1", "data": b64(b"s3cr3t-\xe2\x9c\x93")},
        run=lambda r: r.secrets.provide_secret(request_id="req-secret-1", data=b"s3cr3t-\xe2\x9c\x93"),
    ),
    case(
        "py-secrets-reject-secret",
        "secrets.provide_secret",
        {"request_id": "req-secret-1", "error": "user declined ✗"},
        run=lambda r: r.secrets.reject_secret(request_id="req-secret-1", error="user declined ✗"),
    ),
    case(
        "py-secrets-provide-secret-error-not-found",
        "secrets.provide_secret",
        {"request_id": "req-expired", "data": b64(b"x")},
        error_reply(1003, "secret request not found or expired"),
        run=lambda r: r.secrets.provide_secret(request_id="req-expired", data=b"x"),
    ),
    case(
        "py-secrets-get-offline-oauth-token",
        "secrets.get_offline_oauth_token",
        {},
        json_reply({"access_token": "ya29.token-✓"}),
        run=lambda r: r.secrets.get_offline_oauth_token(),
    ),
    case(
        "py-secrets-get-offline-oauth-token-options",
        "secrets.get_offline_oauth_token",
        {
            "connector": CONNECTOR.model_dump(mode="json"),
            "oauth": OAUTH.model_dump(mode="json"),
            "delegated_to": "p-agent",
            "delegated_by": "p-user",
        },
        json_reply({"access_token": None}),
        run=lambda r: r.secrets.get_offline_oauth_token(
            connector=CONNECTOR, oauth=OAUTH, delegated_to="p-agent", delegated_by="p-user"
        ),
    ),
    case(
        "py-secrets-request-oauth-token",
        "secrets.request_oauth_token",
        {"oauth": OAUTH.model_dump(mode="json"), "redirect_uri": "https://app.example.test/oauth/callback", "participant_id": "p-user"},
        json_reply({"access_token": "gho_abc123"}),
        run=lambda r: r.secrets.request_oauth_token(
            oauth=OAUTH, from_participant_id="p-user", redirect_uri="https://app.example.test/oauth/callback"
        ),
    ),
    case(
        "py-secrets-request-oauth-token-options",
        "secrets.request_oauth_token",
        {
            "connector": CONNECTOR.model_dump(mode="json"),
            "redirect_uri": "https://app.example.test/cb",
            "participant_id": "p-user",
            "timeout": 30,
            "delegate_to": "p-agent",
        },
        json_reply({}),
        run=lambda r: r.secrets.request_oauth_token(
            connector=CONNECTOR,
            timeout=30,
            from_participant_id="p-user",
            redirect_uri="https://app.example.test/cb",
            delegate_to="p-agent",
        ),
    ),
    case(
        "py-secrets-request-oauth-token-error-timeout",
        "secrets.request_oauth_token",
        {"redirect_uri": "https://app.example.test/cb", "participant_id": "p-user", "timeout": 1},
        error_reply(1009, "the user did not authorize in time"),
        run=lambda r: r.secrets.request_oauth_token(
            timeout=1, from_participant_id="p-user", redirect_uri="https://app.example.test/cb"
        ),
    ),
    case(
        "py-secrets-list-secrets",
        "secrets.list_secrets",
        {},
        json_reply(
            {
                "secrets": [
                    {"id": "s-1", "type": "text/plain", "name": "OpenAI key ✓", "delegated_to": None},
                    {"id": "s-2", "type": "application/json", "name": "", "delegated_to": "p-agent"},
                    {"id": "s-3", "type": "oauth", "name": "github"},
                ]
            }
        ),
    ),
    case("py-secrets-delete-secret", "secrets.delete_secret", {"id": "s-1"}),
    case(
        "py-secrets-delete-secret-delegated",
        "secrets.delete_secret",
        {"id": "s-2", "delegated_to": "p-agent"},
        json_reply({}),
    ),
    case(
        "py-secrets-delete-secret-error-not-found",
        "secrets.delete_secret",
        {"id": "s-missing"},
        error_reply(1003, "secret not found"),
    ),
    case(
        "py-secrets-delete-requested-secret",
        "secrets.delete_requested_secret",
        {"url": "https://api.example.test", "type": "application/x-api-key"},
    ),
    case(
        "py-secrets-delete-requested-secret-delegated",
        "secrets.delete_requested_secret",
        {"url": "https://api.example.test/ünï", "type": "text/plain", "delegated_to": "p-agent"},
        json_reply({}),
    ),
    # The reply is a file Content; the SDK returns its bytes.
    case(
        "py-secrets-request-secret",
        "secrets.request_secret",
        {"url": "https://api.example.test", "type": "application/x-api-key", "participant_id": "p-user"},
        {"type": "file", "name": "api-key", "mime_type": "application/x-api-key"},
        tail=b"sk-live-\x00\xff-\xe2\x9c\x93",
        run=lambda r: r.secrets.request_secret(
            url="https://api.example.test", type="application/x-api-key", from_participant_id="p-user"
        ),
    ),
    case(
        "py-secrets-request-secret-options",
        "secrets.request_secret",
        {"url": "https://api.example.test", "type": "text/plain", "participant_id": "p-user", "timeout": 10, "delegate_to": "p-agent"},
        {"type": "file", "name": "", "mime_type": "text/plain"},
        run=lambda r: r.secrets.request_secret(
            url="https://api.example.test",
            type="text/plain",
            timeout=10,
            from_participant_id="p-user",
            delegate_to="p-agent",
        ),
    ),
    case(
        "py-secrets-request-secret-error-timeout",
        "secrets.request_secret",
        {"url": "https://api.example.test", "type": "text/plain", "participant_id": "p-user"},
        error_reply(1009, "secret request timed out"),
        run=lambda r: r.secrets.request_secret(
            url="https://api.example.test", type="text/plain", from_participant_id="p-user"
        ),
    ),
    # binary Content: metadata in headers (with has_data: true), the secret bytes (> 1024) as the tail.
    case(
        "py-secrets-set-secret",
        "secrets.set_secret",
        {
            "secret_id": "s-1",
            "type": "application/x-pem-file",
            "name": "deploy key ✓",
            "delegated_to": "p-agent",
            "for_identity": "alice",
            "data": b64(SECRET_BYTES),
        },
        run=lambda r: r.secrets.set_secret(
            secret_id="s-1",
            type="application/x-pem-file",
            name="deploy key ✓",
            delegated_to="p-agent",
            for_identity="alice",
            data=SECRET_BYTES,
        ),
    ),
    case(
        "py-secrets-set-secret-data-only",
        "secrets.set_secret",
        {"data": b64(b"")},
        json_reply({}),
        run=lambda r: r.secrets.set_secret(data=b""),
    ),
    case(
        "py-secrets-get-secret",
        "secrets.get_secret",
        {"secret_id": "s-1"},
        {"type": "file", "name": "deploy key ✓", "mime_type": "application/x-pem-file"},
        tail=b"-----BEGIN KEY-----\n\xe2\x9c\x93\n",
    ),
    case(
        "py-secrets-get-secret-by-name",
        "secrets.get_secret",
        {"type": "text/plain", "name": "OpenAI key ✓", "delegated_to": "p-agent"},
        {"type": "file", "name": "OpenAI key ✓", "mime_type": "text/plain"},
        tail=b"sk-123",
    ),
    # empty reply: not found, the SDK returns None.
    case("py-secrets-get-secret-missing", "secrets.get_secret", {"secret_id": "s-missing"}, EMPTY),
    # Server -> client requests.
    Scenario(
        id="py-secrets-request-oauth-token-events",
        method="events",
        arguments={},
        pushes=[OAUTH_PUSH],
        room_kwargs=oauth_handler_kwargs,
        expect_events=1,
    ),
    Scenario(
        id="py-secrets-request-secret-events",
        method="events",
        arguments={},
        pushes=[SECRET_PUSH],
        setup=secret_handler_setup,
        expect_events=1,
    ),
    # No oauth_token_request_handler given: the SDK logs "No oauth token handler registered",
    # delivers nothing and sends nothing back.
    Scenario(
        id="py-secrets-request-oauth-token-events-no-handler",
        method="events",
        arguments={},
        pushes=[OAUTH_PUSH],
        expect_events=0,
    ),
    # A stock RoomClient has no secret handler: the SDK logs "No secret handler registered",
    # delivers nothing and sends nothing back.
    Scenario(
        id="py-secrets-request-secret-events-no-handler",
        method="events",
        arguments={},
        pushes=[SECRET_PUSH],
        expect_events=0,
    ),
]


# --------------------------------------------------------------------------- containers

MOUNTS = ContainerMountSpec(
    room=[RoomStorageMountSpec(path="/data", subpath="projects/ünï")],
    project=[ProjectStorageMountSpec(path="/project")],
    images=[ImageStorageMountSpec(image="ghcr.io/example/tools:1", path="/tools")],
    files=[FileStorageMountSpec(path="/etc/app/config.toml", text='name = "démo ✓"\n' + LONG_TEXT)],
    empty_dirs=[EmptyDirMountSpec(path="/tmp/scratch")],
)
MOUNTS_SMALL = ContainerMountSpec(room=[RoomStorageMountSpec(path="/data", read_only=True)])
CREDENTIALS = [
    DockerSecret(registry="ghcr.io", username="bot", password="p@ss-✓"),
    DockerSecret(username="anon", password=""),
]


def _mounts(*specs: ContainerMountSpec) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json", exclude_none=True) for m in specs]


def _creds(creds: list[DockerSecret]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in creds]


CONTAINER = {
    "id": "c-1234",
    "image": "ghcr.io/example/chatbot:1.2.3",
    "status": "Up 5 minutes",
    "name": "chatbot ✓",
    "started_by": {"id": "p-local", "name": "alice"},
    "state": "RUNNING",
    "private": False,
    "service_id": "svc-chatbot",
    "created_at": "2025-01-02T03:04:05Z",
}

CONTAINERS_SCENARIOS: list[Scenario] = [
    case(
        "py-containers-list-images",
        "containers.list_images",
        {},
        json_reply(
            {
                "images": [
                    {"id": "sha256:abc", "tags": ["ghcr.io/example/chatbot:1.2.3", "latest"], "size": 123456789, "labels": {"org.opencontainers.image.title": "chatbot ✓"}},
                    {"id": "sha256:def", "tags": [], "size": 0, "labels": [{"key": "a", "value": "b"}, {"key": "c", "value": ""}]},
                ]
            }
        ),
    ),
    case("py-containers-delete-image", "containers.delete_image", {"image": "ghcr.io/example/chatbot:1.2.3"}),
    case("py-containers-pull-image", "containers.pull_image", {"tag": "python:3.13-slim"}),
    case(
        "py-containers-pull-image-credentials",
        "containers.pull_image",
        {"tag": "ghcr.io/example/private:1", "credentials": _creds(CREDENTIALS)},
        run=lambda r: r.containers.pull_image(tag="ghcr.io/example/private:1", credentials=CREDENTIALS),
    ),
    case(
        "py-containers-push-image",
        "containers.push_image",
        {"tag": "ghcr.io/example/chatbot:1.2.4"},
        json_reply({"container_id": "c-push-1"}),
    ),
    case(
        "py-containers-push-image-private-credentials",
        "containers.push_image",
        {"tag": "ghcr.io/example/chatbot:1.2.4", "credentials": _creds(CREDENTIALS[:1]), "private": True},
        json_reply({"container_id": "c-push-2"}),
        run=lambda r: r.containers.push_image(tag="ghcr.io/example/chatbot:1.2.4", credentials=CREDENTIALS[:1], private=True),
    ),
    case(
        "py-containers-load",
        "containers.load",
        {"archive_path": "images/chatbot ✓.tar"},
        json_reply({"resolved_ref": "ghcr.io/example/chatbot:1.2.3", "refs": ["ghcr.io/example/chatbot:1.2.3", "chatbot:latest"]}),
    ),
    case(
        "py-containers-load-image",
        "containers.load_image",
        {"mounts": _mounts(MOUNTS_SMALL), "archive_path": "/data/images/chatbot.tar"},
        json_reply({"container_id": "c-load-1"}),
        run=lambda r: r.containers.load_image(mounts=[MOUNTS_SMALL], archive_path="/data/images/chatbot.tar"),
    ),
    case(
        "py-containers-load-image-private",
        "containers.load_image",
        {"mounts": _mounts(MOUNTS_SMALL, ContainerMountSpec(empty_dirs=[EmptyDirMountSpec(path="/scratch")])), "archive_path": "/data/images/ünï.tar", "private": True},
        json_reply({"container_id": "c-load-2"}),
        run=lambda r: r.containers.load_image(
            mounts=[MOUNTS_SMALL, ContainerMountSpec(empty_dirs=[EmptyDirMountSpec(path="/scratch")])],
            archive_path="/data/images/ünï.tar",
            private=True,
        ),
    ),
    case(
        "py-containers-save-image-default-private",
        "containers.save_image",
        {"tag": "chatbot:1.2.3", "mounts": [], "archive_path": "/data/out.tar"},
        json_reply({"container_id": "c-save-2"}),
        run=lambda r: r.containers.save_image(tag="chatbot:1.2.3", mounts=[], archive_path="/data/out.tar"),
    ),
    case(
        "py-containers-save-image",
        "containers.save_image",
        {"tag": "chatbot:1.2.3", "mounts": _mounts(MOUNTS_SMALL), "archive_path": "/data/out.tar", "private": True},
        json_reply({"container_id": "c-save-1"}),
        run=lambda r: r.containers.save_image(
            tag="chatbot:1.2.3", mounts=[MOUNTS_SMALL], archive_path="/data/out.tar", private=True
        ),
    ),
    case(
        "py-containers-run",
        "containers.run",
        {"image": "python:3.13-slim"},
        json_reply({"container_id": "c-run-1"}),
        run=lambda r: r.containers.run(image="python:3.13-slim"),
    ),
    # Every option, with a > 1024 byte file mount.
    case(
        "py-containers-run-options",
        "containers.run",
        {
            "image": "ghcr.io/example/chatbot:1.2.3",
            "command": "python -m chatbot --name 'démo ✓'",
            "working_dir": "/app",
            "env": [{"key": "LOG_LEVEL", "value": "debug"}, {"key": "EMPTY", "value": ""}],
            "mount_path": "/data",
            "mount_subpath": "projects",
            "role": "agent",
            "participant_name": "chatbot ✓",
            "ports": [{"container_port": 8080, "host_port": 18080}],
            "credentials": _creds(CREDENTIALS[:1]),
            "name": "chatbot-1",
            "mounts": MOUNTS.model_dump(mode="json", exclude_none=True),
            "writable_root_fs": False,
            "private": True,
        },
        json_reply({"container_id": "c-run-2"}),
        run=lambda r: r.containers.run(
            image="ghcr.io/example/chatbot:1.2.3",
            command="python -m chatbot --name 'démo ✓'",
            working_dir="/app",
            env={"LOG_LEVEL": "debug", "EMPTY": ""},
            mount_path="/data",
            mount_subpath="projects",
            role="agent",
            participant_name="chatbot ✓",
            ports={8080: 18080},
            credentials=CREDENTIALS[:1],
            name="chatbot-1",
            mounts=MOUNTS,
            writable_root_fs=False,
            private=True,
        ),
    ),
    case(
        "py-containers-build",
        "containers.build",
        {"tag": "chatbot:dev", "mounts": _mounts(MOUNTS_SMALL), "context_path": "/data/src"},
        json_reply({"build_id": "b-1"}),
        run=lambda r: r.containers.build(tag="chatbot:dev", mounts=[MOUNTS_SMALL], context_path="/data/src"),
    ),
    case(
        "py-containers-build-options",
        "containers.build",
        {
            "tag": "chatbot:dev",
            "mounts": _mounts(MOUNTS_SMALL),
            "context_path": "/data/src ✓",
            "dockerfile_path": "Dockerfile.dev",
            "private": True,
            "credentials": _creds(CREDENTIALS[1:]),
            "context_archive_arch": "linux/amd64",
        },
        json_reply({"build_id": "b-5"}),
        run=lambda r: r.containers.build(
            tag="chatbot:dev",
            mounts=[MOUNTS_SMALL],
            context_path="/data/src ✓",
            dockerfile_path="Dockerfile.dev",
            private=True,
            credentials=CREDENTIALS[1:],
            context_archive_arch="linux/amd64",
        ),
    ),
    case(
        "py-containers-start-build-minimal",
        "containers.start_build",
        {"tag": "chatbot:dev", "mounts": [], "context_path": "/data/src"},
        json_reply({"build_id": "b-6"}),
        run=lambda r: r.containers.start_build(tag="chatbot:dev", mounts=[], context_path="/data/src"),
    ),
    case(
        "py-containers-start-build",
        "containers.start_build",
        {
            "tag": "chatbot:dev",
            "mounts": _mounts(MOUNTS_SMALL),
            "context_path": "",
            "dockerfile_path": "docker/Dockerfile ✓",
            "private": True,
            "credentials": _creds(CREDENTIALS),
            "context_archive_path": "src.tar.gz",
            "context_archive_ref": "ghcr.io/example/src:1",
            "context_archive_mount_path": "/ctx",
            "context_archive_arch": "linux/arm64",
        },
        json_reply({"build_id": "b-2"}),
        run=lambda r: r.containers.start_build(
            tag="chatbot:dev",
            mounts=[MOUNTS_SMALL],
            context_path="",
            dockerfile_path="docker/Dockerfile ✓",
            private=True,
            credentials=CREDENTIALS,
            context_archive_path="src.tar.gz",
            context_archive_ref="ghcr.io/example/src:1",
            context_archive_mount_path="/ctx",
            context_archive_arch="linux/arm64",
        ),
    ),
    case(
        "py-containers-list-builds",
        "containers.list_builds",
        {},
        json_reply(
            {
                "builds": [
                    {"id": "b-1", "tag": "chatbot:dev", "status": "succeeded", "exit_code": 0},
                    {"id": "b-2", "tag": "chatbot:dev", "status": "running", "exit_code": None},
                    {"id": "b-3", "tag": "broken ✗", "status": "failed", "exit_code": 2},
                    {"id": "b-4", "tag": "x", "status": "queued"},
                ]
            }
        ),
    ),
    case("py-containers-cancel-build", "containers.cancel_build", {"build_id": "b-2"}),
    case("py-containers-delete-build", "containers.delete_build", {"build_id": "b-1"}),
    case(
        "py-containers-run-service",
        "containers.run_service",
        {"service_id": "svc-chatbot"},
        json_reply({"container_id": "c-svc-1"}),
    ),
    case(
        "py-containers-run-service-env",
        "containers.run_service",
        {"service_id": "svc-chatbot", "env": [{"key": "MODE", "value": "démo"}]},
        json_reply({"container_id": "c-svc-2"}),
        run=lambda r: r.containers.run_service(service_id="svc-chatbot", env={"MODE": "démo"}),
    ),
    case(
        "py-containers-stop-container",
        "containers.stop_container",
        {"container_id": "c-1234"},
        run=lambda r: r.containers.stop(container_id="c-1234"),
    ),
    case(
        "py-containers-stop-container-force",
        "containers.stop_container",
        {"container_id": "c-1234", "force": True},
        run=lambda r: r.containers.stop(container_id="c-1234", force=True),
    ),
    case(
        "py-containers-stop-container-error-not-found",
        "containers.stop_container",
        {"container_id": "c-missing"},
        error_reply(6001, "container not found: c-missing"),
        run=lambda r: r.containers.stop(container_id="c-missing"),
    ),
    case(
        "py-containers-wait-for-exit",
        "containers.wait_for_exit",
        {"container_id": "c-1234"},
        json_reply({"exit_code": 137}),
    ),
    case(
        "py-containers-wait-for-exit-error-not-found",
        "containers.wait_for_exit",
        {"container_id": "c-missing"},
        error_reply(6001, "container not found: c-missing"),
    ),
    case(
        "py-containers-delete-container",
        "containers.delete_container",
        {"container_id": "c-1234"},
        run=lambda r: r.containers.delete(container_id="c-1234"),
    ),
    case(
        "py-containers-list-containers",
        "containers.list_containers",
        {},
        json_reply(
            {
                "containers": [
                    CONTAINER,
                    {"id": "c-5678", "started_by": {"id": "p-agent", "name": ""}, "state": "EXITED", "private": True},
                ]
            }
        ),
        run=lambda r: r.containers.list(),
    ),
    case(
        "py-containers-list-containers-all",
        "containers.list_containers",
        {"all": True},
        json_reply({"containers": []}),
        run=lambda r: r.containers.list(all=True),
    ),
]


# --------------------------------------------------------------------------- streaming tools
# The server scripts and payloads are shared with record_typescript.py (stream_cases.py). Each
# case has `input` (what the caller fed into the stream) and its own result shape (README.md).

import meshagent.api.room_server_client as _rsc  # noqa: E402

import stream_cases as streams  # noqa: E402

# Fixed request ids for containers exec/logs/get_build_logs (the SDK draws them from uuid4).
EXEC_REQUEST_ID = "5b1f0c9e-7a3d-4c2b-9e8f-0a1b2c3d4e5f"
LOGS_REQUEST_ID = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b"


def _next_uuid4_is(value: str) -> None:
    """The next uuid.uuid4() drawn inside room_server_client returns `value`; later draws (the
    invoke's tool_call_id) are random again. exec/logs/get_build_logs draw their request id first,
    before anything is awaited."""
    real = _rsc.uuid

    def uuid4() -> uuid.UUID:
        _rsc.uuid = real
        return uuid.UUID(value)

    _rsc.uuid = types.SimpleNamespace(uuid4=uuid4)


async def _aiter(items: list[Any]):
    for item in items:
        yield item


def _upload(path: str, data: bytes, **kwargs: Any) -> Callable[[RoomClient], Awaitable[Any]]:
    return lambda room: room.storage.upload(path=path, data=data, **kwargs)


def _upload_stream(path: str, parts: list[bytes], **kwargs: Any) -> Callable[[RoomClient], Awaitable[Any]]:
    return lambda room: room.storage.upload_stream(path=path, chunks=_aiter(parts), **kwargs)


async def _download(room: RoomClient, path: str) -> dict[str, Any]:
    f = await room.storage.download(path=path)
    return {"name": f.name, "mime_type": f.mime_type, "size": len(f.data), "data": b64(f.data)}


async def _collect(stream: Any) -> list[Any]:
    return [item async for item in stream]


async def _developer_logs(room: RoomClient) -> list[dict[str, Any]]:
    return [{"type": e.type, "data": e.data} async for e in room.developer.logs()]


async def _container_logs(room: RoomClient, **kwargs: Any) -> list[str]:
    _next_uuid4_is(LOGS_REQUEST_ID)
    stream = room.containers.logs(**kwargs)
    lines = [line async for line in stream.logs()]
    await stream  # raises what the stream failed with
    return lines


async def _build_logs(room: RoomClient, **kwargs: Any) -> list[str]:
    _next_uuid4_is(LOGS_REQUEST_ID)
    stream = room.containers.get_build_logs(**kwargs)
    lines = [line async for line in stream.logs()]
    await stream  # the status (int | None) is not part of the outcome (README.md)
    return lines


def _exec(ops: list[dict[str, Any]], **kwargs: Any) -> Callable[[RoomClient], Awaitable[Any]]:
    async def run(room: RoomClient) -> dict[str, Any]:
        _next_uuid4_is(EXEC_REQUEST_ID)
        session = await room.containers.exec(**kwargs)
        for op in ops:
            ((kind, value),) = op.items()
            if kind == "stdin":
                await session.write(base64.b64decode(value))
            elif kind == "resize":
                await session.resize(width=value["width"], height=value["height"])
            elif kind == "close_stdin":
                await session.close_stdin()
            elif kind == "kill":
                await session.kill()
        try:
            exit_code = await session.result
        finally:
            stdout = b"".join([c async for c in session.stdout()])
            stderr = b"".join([c async for c in session.stderr()])
        return {"stdout": b64(stdout), "stderr": b64(stderr), "exit_code": exit_code}

    return run


PEOPLE_SCHEMA = {"id": IntDataType(), "name": TextDataType(), "score": FloatDataType(nullable=True)}
SQL_QUERY = "SELECT p.id, p.name, p.score, p.active, p.joined, p.seen FROM people p WHERE p.score >= $min_score AND p.city = $city ORDER BY p.id"
SQL_PARAMS = {"min_score": 5, "city": "Zürich"}
SQL_TABLES = ["people", SqlTableReference(name="orders", namespace=["shop", "eu"], alias="o")]
SQL_TABLES_WIRE = [
    {"name": "people", "namespace": None, "alias": None},
    {"name": "orders", "namespace": ["shop", "eu"], "alias": "o"},
]
EXEC_OPS = [
    {"stdin": b64(streams.EXEC_STDIN)},
    {"resize": {"width": 120, "height": 40}},
    {"resize": {"width": 120, "height": 40}},  # a repeated size: the SDKs send nothing for it
    {"close_stdin": True},
]
EXEC_KILL_OPS = [{"stdin": b64(streams.EXEC_STDIN)}, {"kill": True}]

SYNC_SCHEMA = MeshSchema(
    root_tag_name="todo",
    elements=[
        ElementType(tag_name="todo", properties=[ChildProperty(name="items", child_tag_names=["item"])]),
        ElementType(tag_name="item", properties=[ValueProperty(name="text", type="string")]),
    ],
)
assert SYNC_SCHEMA.to_json() == streams.SYNC_SCHEMA_JSON
SYNC_OPS = [{"append_child": {"tag": "item", "attributes": {"text": "local: grüße ✓"}}}]
# The scenario being run (sync.open waits for the server's script before it closes).
_CURRENT_SERVER: FakeRoom | None = None


class _fixed_doc_ids:
    """Deterministic element `$id`s and pycrdt client id for documents the SDK creates."""

    def __init__(self, client_id: int) -> None:
        self.client_id = client_id
        self.ids = (f"00000000-0000-4000-8000-{i:012d}" for i in range(1, 1000))

    def __enter__(self) -> None:
        import pycrdt
        from meshagent.api import crdt, schema_document

        self.saved = (schema_document.uuid, crdt.Doc)
        schema_document.uuid = types.SimpleNamespace(uuid4=lambda: next(self.ids))
        crdt.Doc = lambda: pycrdt.Doc(client_id=self.client_id)

    def __exit__(self, *exc: object) -> None:
        from meshagent.api import crdt, schema_document

        schema_document.uuid, crdt.Doc = self.saved


async def _sync_open(room: RoomClient) -> dict[str, Any]:
    """open, apply SYNC_OPS, wait until the server's remote update was applied and echoed (only the
    close step is left), close. The outcome is the SDK's JSON view of the final document."""
    server = _CURRENT_SERVER
    assert server is not None
    with _fixed_doc_ids(client_id=2222):
        doc = await room.sync.open(path=streams.SYNC_PATH, schema=SYNC_SCHEMA)
        for op in SYNC_OPS:
            ((kind, value),) = op.items()
            assert kind == "append_child"
            doc.root.append_child(value["tag"], dict(value["attributes"]))
        while len(server.unused_steps) > 1:
            await asyncio.sleep(0.01)
        document = doc.to_json()
    await room.sync.close(path=streams.SYNC_PATH)
    return {"document": document}


STREAM_SCENARIOS: list[Scenario] = [
    # ---- storage.upload
    Scenario(
        id="py-storage-upload-multi-chunk",
        method="storage.upload",
        arguments={"path": "docs/notes ✓.txt", "overwrite": True},
        input=[b64(streams.UPLOAD_TEXT)],
        steps=streams.upload_sized_steps(streams.UPLOAD_TEXT, streams.UPLOAD_PULL),
        run=_upload("docs/notes ✓.txt", streams.UPLOAD_TEXT, overwrite=True),
    ),
    Scenario(
        id="py-storage-upload-stream-unsized",
        method="storage.upload",
        arguments={"path": "media/clip.bin", "name": "clip (1).bin", "mime_type": "video/mp2t"},
        input=[b64(p) for p in streams.UPLOAD_PARTS],
        steps=streams.upload_unsized_steps(1),
        run=_upload_stream("media/clip.bin", streams.UPLOAD_PARTS, name="clip (1).bin", mime_type="video/mp2t"),
    ),
    Scenario(
        id="py-storage-upload-error-chunk",
        method="storage.upload",
        arguments={"path": "docs/big.bin"},
        input=[b64(streams.UPLOAD_ERROR_DATA)],
        steps=streams.upload_error_steps(),
        run=_upload("docs/big.bin", streams.UPLOAD_ERROR_DATA),
    ),
    # ---- storage.download
    Scenario(
        id="py-storage-download-multi-chunk",
        method="storage.download",
        arguments={"path": "reports/rapport ✓.md"},
        steps=streams.download_steps("rapport ✓.md", "text/markdown", streams.DOWNLOAD_TEXT, streams.DOWNLOAD_PIECE),
        run=lambda room: _download(room, "reports/rapport ✓.md"),
    ),
    Scenario(
        id="py-storage-download-empty",
        method="storage.download",
        arguments={"path": "docs/empty.txt"},
        steps=streams.download_steps("empty.txt", "text/plain", b"", 1),
        run=lambda room: _download(room, "docs/empty.txt"),
    ),
    Scenario(
        id="py-storage-download-abnormal-close",
        method="storage.download",
        arguments={"path": "dumps/dump.bin"},
        steps=streams.download_abnormal_close_steps([streams.client_close()]),
        run=lambda room: _download(room, "dumps/dump.bin"),
    ),
    # ---- database writes
    Scenario(
        id="py-database-create-table-with-data",
        method="database.create_table",
        arguments={
            "name": "people",
            "fields": _rsc._database_toolkit_schema_entries(PEOPLE_SCHEMA),
            "mode": "overwrite",
        },
        input=[streams.PEOPLE_ROWS],
        steps=streams.db_write_steps("create_table", 1),
        run=lambda room: room.database.create_table_with_schema(
            name="people", schema=PEOPLE_SCHEMA, data=streams.PEOPLE_ROWS, mode="overwrite"
        ),
    ),
    Scenario(
        id="py-database-create-table-open-error",
        method="database.create_table",
        arguments={"name": "people"},
        input=[streams.PEOPLE_ROWS[:1]],
        steps=streams.db_open_error_steps("create_table"),
        run=lambda room: room.database.create_table_from_data(name="people", data=streams.PEOPLE_ROWS[:1]),
    ),
    Scenario(
        id="py-database-insert-130-rows",
        method="database.insert",
        arguments={"table": "events"},
        input=[streams.EVENT_ROWS],
        steps=streams.db_write_steps("insert", 2),
        run=lambda room: room.database.insert(table="events", records=streams.EVENT_ROWS),
    ),
    Scenario(
        id="py-database-insert-stream",
        method="database.insert",
        arguments={"table": "people", "namespace": ["team", "ops"]},
        input=[streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]],
        steps=streams.db_write_steps("insert", 2),
        run=lambda room: room.database.insert_stream(
            table="people", chunks=_aiter([streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]]), namespace=["team", "ops"]
        ),
    ),
    Scenario(
        id="py-database-insert-error-chunk",
        method="database.insert",
        arguments={"table": "people"},
        input=[streams.PEOPLE_ROWS],
        steps=streams.db_write_error_steps("insert"),
        run=lambda room: room.database.insert(table="people", records=streams.PEOPLE_ROWS),
    ),
    Scenario(
        id="py-database-merge",
        method="database.merge",
        arguments={"table": "people", "on": "id"},
        input=[streams.MERGE_ROWS],
        steps=streams.db_write_steps("merge", 1),
        run=lambda room: room.database.merge(table="people", on="id", records=streams.MERGE_ROWS),
    ),
    Scenario(
        id="py-database-merge-error-chunk",
        method="database.merge",
        arguments={"table": "people", "on": "id"},
        input=[streams.MERGE_ROWS],
        steps=streams.db_write_error_steps("merge"),
        run=lambda room: room.database.merge(table="people", on="id", records=streams.MERGE_ROWS),
    ),
    # ---- database reads (the *_stream variants: one result entry per rows chunk)
    Scenario(
        id="py-database-sql-stream",
        method="database.sql",
        arguments={"query": SQL_QUERY, "tables": SQL_TABLES_WIRE, "params_json": py_json(SQL_PARAMS)},
        steps=streams.db_read_steps("sql", streams.SQL_CHUNKS),
        run=lambda room: _collect(room.database.sql_stream(query=SQL_QUERY, tables=SQL_TABLES, params=SQL_PARAMS)),
    ),
    Scenario(
        id="py-database-sql-error-chunk",
        method="database.sql",
        arguments={"query": "SELECT FROM people", "tables": SQL_TABLES_WIRE[:1]},
        steps=streams.db_read_error_steps("sql"),
        run=lambda room: _collect(room.database.sql_stream(query="SELECT FROM people", tables=["people"])),
    ),
    Scenario(
        id="py-database-search-stream",
        method="database.search",
        arguments={"table": "docs", "text": "héllo", "where": "lang = 'de'", "limit": 10, "select": ["id", "text", "blob", "tags", "meta"]},
        steps=streams.db_read_steps("search", streams.SEARCH_CHUNKS),
        run=lambda room: _collect(
            room.database.search_stream(
                table="docs", text="héllo", where="lang = 'de'", limit=10, select=["id", "text", "blob", "tags", "meta"]
            )
        ),
    ),
    Scenario(
        id="py-database-search-open-error",
        method="database.search",
        arguments={"table": "people", "vector": [0.25, -1.5, 3.0]},
        steps=streams.db_open_error_steps("search"),
        run=lambda room: _collect(room.database.search_stream(table="people", vector=[0.25, -1.5, 3.0])),
    ),
    # ---- developer.logs
    Scenario(
        id="py-developer-logs",
        method="developer.logs",
        arguments={},
        steps=streams.developer_logs_steps(),
        run=_developer_logs,
    ),
    Scenario(
        id="py-developer-logs-error-chunk",
        method="developer.logs",
        arguments={},
        steps=streams.developer_logs_error_steps(),
        run=_developer_logs,
    ),
    # ---- containers.logs / get_build_logs
    Scenario(
        id="py-containers-logs",
        method="containers.logs",
        arguments={"container_id": "c-1234", "follow": True},
        steps=streams.container_logs_steps(),
        run=lambda room: _container_logs(room, container_id="c-1234", follow=True),
    ),
    Scenario(
        id="py-containers-logs-error-chunk",
        method="containers.logs",
        arguments={"container_id": "c-missing"},
        steps=streams.container_logs_error_steps(),
        run=lambda room: _container_logs(room, container_id="c-missing"),
    ),
    Scenario(
        id="py-containers-get-build-logs",
        method="containers.get_build_logs",
        arguments={"build_id": "b-42"},
        steps=streams.build_logs_steps(0),
        run=lambda room: _build_logs(room, build_id="b-42"),
    ),
    Scenario(
        id="py-containers-get-build-logs-no-status",
        method="containers.get_build_logs",
        arguments={"build_id": "b-43", "follow": False},
        steps=streams.build_logs_steps(None),
        run=lambda room: _build_logs(room, build_id="b-43", follow=False),
    ),
    # ---- containers.exec
    Scenario(
        id="py-containers-exec",
        method="containers.exec",
        arguments={"container_id": "c-1234", "command": ["sh", "-c", "cat"], "tty": True},
        input=EXEC_OPS,
        steps=streams.exec_steps(EXEC_OPS, 0),
        run=_exec(EXEC_OPS, container_id="c-1234", command=["sh", "-c", "cat"], tty=True),
    ),
    Scenario(
        id="py-containers-exec-kill",
        method="containers.exec",
        arguments={"container_id": "c-1234", "command": "sleep 100"},
        input=EXEC_KILL_OPS,
        steps=streams.exec_steps(EXEC_KILL_OPS, 137),
        run=_exec(EXEC_KILL_OPS, container_id="c-1234", command="sleep 100"),
    ),
    Scenario(
        id="py-containers-exec-error-chunk",
        method="containers.exec",
        arguments={"container_id": "c-1234", "command": ["true"]},
        input=[],
        steps=streams.exec_error_steps(),
        run=_exec([], container_id="c-1234", command=["true"]),
    ),
    # ---- sync.open
    Scenario(
        id="py-sync-open",
        method="sync.open",
        arguments={"path": streams.SYNC_WIRE_PATH, "schema": SYNC_SCHEMA.to_json()},
        input=SYNC_OPS,
        steps=streams.sync_steps(SYNC_SCHEMA.to_json(), streams.sync_remote_update(), 2),
        run=_sync_open,
    ),
]


SCENARIOS.extend(MESSAGING_SCENARIOS)
SCENARIOS.extend(DEVELOPER_SCENARIOS)
SCENARIOS.extend(STATUS_SCENARIOS)
SCENARIOS.extend(SYNC_SCENARIOS)
SCENARIOS.extend(LIVEKIT_SCENARIOS)
SCENARIOS.extend(SERVICES_SCENARIOS)
SCENARIOS.extend(AGENTS_SCENARIOS)
SCENARIOS.extend(DATABASE_SCENARIOS)
SCENARIOS.extend(MEMORY_SCENARIOS)
SCENARIOS.extend(SECRETS_SCENARIOS)
SCENARIOS.extend(CONTAINERS_SCENARIOS)
SCENARIOS.extend(STREAM_SCENARIOS)


# --------------------------------------------------------------------------- outcome conversion


def content_json(content: Content) -> dict[str, Any]:
    """A Content as its wire header, plus `data` (base64) for the file/binary tail."""
    out = dict(content.to_json())
    data = content.get_data()
    if data is not None:
        out["data"] = base64.b64encode(data).decode("ascii")
    return out


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)  # IntEnum -> int
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, BaseModel):
        out = {}
        for name, info in type(value).model_fields.items():
            out[info.alias or name] = to_jsonable(getattr(value, name))
        for name, extra in (value.model_extra or {}).items():
            out[name] = to_jsonable(extra)
        return out
    if isinstance(value, Queue):
        return {"name": value.name, "size": value.size}
    if isinstance(value, Content):
        return content_json(value)
    if isinstance(value, ToolkitDescription):
        return value.to_json()
    if isinstance(value, LivekitConnectionInfo):
        return {"url": value.url, "token": value.token}
    if isinstance(value, RemoteParticipant):
        return _participant_json(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


# --------------------------------------------------------------------------- running


@dataclass
class Recording:
    scenario: Scenario
    frames: list[Frame]
    outcome: dict[str, Any]
    connect: dict[str, Any]


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def check_arguments(sc: Scenario, frames: list[Frame]) -> list[str]:
    """`arguments` must match what went on the wire: every key equals the wire input's value
    (`data` equals the tail, base64)."""
    if sc.method == "events" or not sc.arguments:
        return []
    packet = sc.packet_type()
    sent = [f for f in frames if f.dir == "send" and f.type == packet]
    if not sent:
        return [f"no {packet} request was sent"]
    frame = sent[0]
    if sc.method.startswith("agents."):
        wire = {k: v for k, v in frame.header.items() if k not in ("tool_call_id", "__meshagent__")}
    else:
        content = frame.header.get("arguments", {})
        if content == {"type": "control", "method": "open"}:
            # A streaming tool: the input travels in the first request chunk (the start chunk).
            chunks = [f for f in frames if f.dir == "send" and f.type == "room.tool_call_request_chunk"]
            if not chunks:
                return ["no start chunk was sent"]
            frame = chunks[0]
            content = frame.header.get("chunk", {})
        if content.get("type") == "json":
            wire = content["json"]
        elif content.get("type") == "binary":
            wire = content["headers"]
        else:
            return [f"unexpected request content {content.get('type')!r}"]
    problems = []
    for key, value in sc.arguments.items():
        if key == "data" and key not in wire:
            actual: Any = base64.b64encode(frame.tail).decode("ascii")
        elif key not in wire:
            problems.append(f"argument {key!r} is not in the wire input {sorted(wire)}")
            continue
        else:
            actual = wire[key]
        if not _same(actual, value):
            problems.append(f"argument {key!r} = {value!r}, wire has {actual!r}")
    return problems


def _legacy_storage_handler(log: EventLog, event_name: str) -> Callable[..., None]:
    def handler(**kwargs: Any) -> None:
        log.add(f"storage.{event_name}", to_jsonable(kwargs))

    return handler


async def run_scenario(sc: Scenario) -> Recording:
    global _CURRENT_SERVER
    server = FakeRoom(script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME)
    _CURRENT_SERVER = server
    port = await server.start()
    problems: list[str] = []
    try:
        protocol = WebSocketClientProtocol(url=f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}", token=TOKEN)
        log = EventLog()
        room_kwargs = sc.room_kwargs(log) if sc.room_kwargs is not None else {}
        room = RoomClient(protocol=protocol, **room_kwargs)

        # Registered before connecting: the fake room pushes right after the handshake.
        for name in sc.listen:
            room.storage.on(name, _legacy_storage_handler(log, name))
        if sc.setup is not None:
            sc.setup(room, log)

        async with room:
            if sc.events_outcome:
                if sc.method != "events":
                    await asyncio.wait_for(sc.call(room), CALL_TIMEOUT)
                expected = sc.expect_events if sc.expect_events is not None else len(sc.listen)
                await asyncio.wait_for(log.wait_for(expected), CALL_TIMEOUT)
                await asyncio.wait_for(server.script_done.wait(), CALL_TIMEOUT)
                await asyncio.sleep(EVENT_SETTLE)  # extra events would show up here
                if len(log.events) != expected:
                    problems.append(f"expected {expected} events, got {len(log.events)}: {log.events}")
                outcome = {"events": list(log.events)}
            else:
                try:
                    result = await asyncio.wait_for(sc.call(room), CALL_TIMEOUT)
                    outcome = {"result": to_jsonable(result)}
                except RoomException as ex:
                    code = None if ex.code is None else int(ex.code)
                    outcome = {"error": {"code": code, "text": str(ex)}}
                if sc.fire_and_forget or sc.steps is not None:
                    await asyncio.wait_for(server.script_done.wait(), CALL_TIMEOUT)
                    while room._pending_requests:
                        await asyncio.sleep(0.01)
                    await asyncio.sleep(0.01)
                if log.events:
                    problems.append(f"unexpected events: {log.events}")

        await asyncio.wait_for(server.closed.wait(), CALL_TIMEOUT)
    finally:
        await server.stop()

    problems = list(server.errors) + problems
    if server.unused_steps:
        problems.append(f"script steps never requested: {[s.expect for s in server.unused_steps]}")
    if server.connect is None:
        problems.append("the SDK never connected")
    frames = [f for f in server.frames if not f.handshake]
    problems.extend(check_arguments(sc, frames))
    if problems:
        raise RuntimeError(f"{sc.id}: " + "; ".join(problems))

    return Recording(scenario=sc, frames=frames, outcome=outcome, connect=server.connect)


# --------------------------------------------------------------------------- YAML output


class _Flow(dict):
    """A mapping emitted in YAML flow style ({...}); everything inside it is flow style too."""


class _FlowList(list):
    """A sequence emitted in YAML flow style ([...])."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # Strings with line breaks are written double-quoted with "\n" escapes, so that every frame
    # stays on one line.
    if "\n" in data or "\r" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 30,
        default_flow_style=False,
    )


def _flow(value: Any) -> Any:
    """Wrap the outermost collection so the whole value is written on one line."""
    if isinstance(value, dict):
        return _Flow(value)
    if isinstance(value, list):
        return _FlowList(value)
    return value


def _wire_comment(frame: Frame) -> str:
    data_packets = frame.packets[1:]
    return (
        f"  # wire: header packet {frame.packets[0]} B + {len(data_packets)} data packet(s)"
        f" {data_packets} B\n"
    )


def _render_input(items: list[Any]) -> str:
    """`input:` with one line per item (every item in flow style)."""
    if not items:
        return "input: []\n"
    lines = _dump([_flow(item) for item in items])
    return "input:\n" + "".join("  " + line + "\n" for line in lines.splitlines())


def render_case(rec: Recording) -> str:
    sc = rec.scenario
    head = {
        "format": 1,
        "id": sc.id,
        "sdk": _Flow({"name": "meshagent-api", "language": "python", "version": SDK_VERSION}),
        "method": sc.method,
        "arguments": _Flow(sc.arguments),
    }
    out = [_dump(head)]
    if sc.input is not None:
        out.append(_render_input(sc.input))
    out.append("frames:\n")
    for f in rec.frames:
        frame = _Flow(
            {
                "dir": f.dir,
                "id": f.id,
                "type": f.type,
                "header": f.header,
                "tail": base64.b64encode(f.tail).decode("ascii"),
            }
        )
        out.append(_wire_comment(f))
        out.append("  - " + _dump(frame))
    (key, value), = rec.outcome.items()
    if key == "events" and not value:
        outcome_text = "outcome:\n  events: []\n"
    elif key == "events":
        outcome_text = "outcome:\n  events:\n" + "".join(
            "    - " + _dump(_Flow(e)) for e in value
        )
    else:
        outcome_text = "outcome:\n  " + _dump({key: _flow(value)})
    out.append(outcome_text)
    return "".join(out)


def case_document(rec: Recording) -> dict[str, Any]:
    """The plain data a case file must load back as (used to check the YAML round trip)."""
    sc = rec.scenario
    return {
        "format": 1,
        "id": sc.id,
        "sdk": {"name": "meshagent-api", "language": "python", "version": SDK_VERSION},
        "method": sc.method,
        "arguments": sc.arguments,
        **({"input": sc.input} if sc.input is not None else {}),
        "frames": [
            {
                "dir": f.dir,
                "id": f.id,
                "type": f.type,
                "header": f.header,
                "tail": base64.b64encode(f.tail).decode("ascii"),
            }
            for f in rec.frames
        ],
        "outcome": rec.outcome,
    }


def check_round_trip(text: str, expected: dict[str, Any]) -> None:
    """The YAML must load back to exactly the recorded data, key order and number types included."""
    loaded = yaml.safe_load(text)
    a = json.dumps(loaded, ensure_ascii=False)
    b = json.dumps(expected, ensure_ascii=False)
    if a != b:
        raise RuntimeError(f"YAML round trip differs:\n  loaded:   {a}\n  recorded: {b}")


def render_connect(connect: dict[str, Any]) -> str:
    doc = {
        "format": 1,
        "sdk": _Flow({"name": "meshagent-api", "language": "python", "version": SDK_VERSION}),
        "path": connect["path"],
        "query": _Flow({k: v for k, v in connect["query"]}),
        "query_string": connect["query_string"],
    }
    return (
        "# The websocket URL the SDK connected to (ws://127.0.0.1:PORT/rooms/test-room given, token set).\n"
        + _dump(doc)
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "cases" / "python")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    parser.add_argument(
        "--sdk-logs",
        action="store_true",
        help="show the SDK's own log output (some scenarios make it log expected errors)",
    )
    args = parser.parse_args()

    if not args.sdk_logs:
        # e.g. "No secret handler registered", "unable to write developer log": expected in
        # some scenarios, and not part of the recording.
        for name in ("room_server_client", "protocol"):
            logging.getLogger(name).setLevel(logging.CRITICAL)

    if meshagent.api.__version__ != SDK_VERSION:
        print(f"meshagent-api {meshagent.api.__version__} installed, {SDK_VERSION} required", file=sys.stderr)
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "duplicate case id"

    selected = [s for s in SCENARIOS if not args.only or s.id in args.only]
    connect: dict[str, Any] | None = None
    written: set[str] = set()
    failures = 0
    for sc in selected:
        try:
            rec = await run_scenario(sc)
        except Exception as ex:  # noqa: BLE001 - report and go on with the other scenarios
            failures += 1
            print(f"FAIL {sc.id}: {type(ex).__name__}: {ex}", file=sys.stderr)
            continue
        if connect is None:
            connect = rec.connect
        elif connect != rec.connect:
            print(f"FAIL {sc.id}: connect URL differs between scenarios", file=sys.stderr)
            failures += 1
        name = f"{sc.id}.yaml"
        text = render_case(rec)
        try:
            check_round_trip(text, case_document(rec))
        except RuntimeError as ex:
            failures += 1
            print(f"FAIL {sc.id}: {ex}", file=sys.stderr)
            continue
        (out / name).write_text(text, encoding="utf-8")
        written.add(name)
        print(f"ok   {sc.id}  ({len(rec.frames)} frames, outcome: {next(iter(rec.outcome))})")

    if connect is not None:
        (out / "_connect.yaml").write_text(render_connect(connect), encoding="utf-8")

    if not args.only and failures == 0:
        for stale in sorted(out.glob("py-*.yaml")):
            if stale.name not in written:
                print(f"removing stale {stale.name}")
                stale.unlink()

    print(f"{len(written)} case(s) written to {out}, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
