"""The scenario model shared by every scenario module: Scenario, Reply, EventLog, case() and
small value helpers."""

from __future__ import annotations

import asyncio
import base64
import datetime
import json
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from meshagent.api import RoomClient

from fake_room import FakeRoom, Push, Step


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

UTC = datetime.timezone.utc


class Running:
    """The scenario being run (py-sync-open waits for the server's script before it closes)."""

    server: FakeRoom | None = None
