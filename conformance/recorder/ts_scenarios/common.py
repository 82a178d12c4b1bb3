"""The scenario model shared by every TypeScript scenario module: Scenario, plain() and small
value helpers."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from fake_room import Push, Step


# packet type a method's request travels in (default: room.invoke_tool)
AGENT_PACKETS = {"agents.list_toolkits": "room.list_toolkits", "agents.call": "room.call"}


@dataclass
class Scenario:
    id: str
    # "<toolkit>.<tool>" as on the wire (room.invoke_tool), "agents.invoke_tool" (room.invoke_tool
    # of any toolkit), "agents.list_toolkits" (room.list_toolkits), "agents.call" (room.call), or
    # "events" for push-only cases. Same names as record_python.py.
    method: str
    # The tool input the SDK was asked to send, by wire field name, restricted to what the caller
    # passed explicitly; values in wire form. For the agents.* methods: the request header fields.
    # `data` (base64) stands for bytes sent as the message tail. Same convention as record_python.py.
    arguments: dict[str, Any]
    # The TypeScript call: (method path under RoomClient, positional JS arguments).
    # Special values (see ts/driver.mjs): {"$bytes": b64} -> Uint8Array, {"$participant": id} ->
    # RemoteParticipant, {"$file": {...}} -> FileContent, {"$datatype": json} -> DataType.
    call: tuple[str, list[Any]] | None = None
    # One reply Content per request: a Content header, or (header, tail bytes).
    replies: list[dict[str, Any] | tuple[dict[str, Any], bytes]] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    listen: list[tuple[str, str]] = field(default_factory=list)  # (client, event), e.g. ("storage", "file.updated")
    wait_participant: str | None = None  # wait until messaging knows this remote participant
    # "wire": the SDK returns plain objects with camelCase keys; convert those keys to snake_case.
    result_keys: str | None = None
    # Streaming tools (see stream_cases.py): the whole fake-room script instead of `replies`,
    # what the caller fed into the stream (the case file's `input`), how ts/driver.mjs reads the
    # outcome from the call's return value, the exec operations and fixed uuid v4 draws.
    steps: list[Step] | None = None
    input: list[Any] | None = None
    collect: str | None = None
    # False: the SDK never sends its request-side control/close in this case (the driver then only
    # waits until every request it sent was answered).
    client_closes: bool = True
    # sync.open: a seeded crypto.getRandomValues (Yjs client ids) and how many children the root
    # has once the server's remote update was applied.
    seed_random: bool = False
    sync_children: int | None = None
    ops: list[dict[str, Any]] | None = None
    uuids: list[str] | None = None
    # Push events (see ts/driver.mjs setupEvents): the application callbacks to register before
    # connecting ("messaging", "developer", "status", "secrets"); when expect_events is set, the
    # outcome is the events they received (after the call, if any); pushes sent right after the
    # call's reply; messages of the unhandled promise rejections the SDK is expected to cause.
    events_setup: list[str] = field(default_factory=list)
    expect_events: int | None = None
    then: list[Push] = field(default_factory=list)
    expect_unhandled: list[str] = field(default_factory=list)

    def expect(self) -> dict[str, Any]:
        if self.method in AGENT_PACKETS:
            return {"type": AGENT_PACKETS[self.method]}
        if self.method == "agents.invoke_tool":
            return {
                "type": "room.invoke_tool",
                "toolkit": self.arguments["toolkit"],
                "tool": self.arguments["tool"],
            }
        toolkit, tool = self.method.split(".", 1)
        return {"type": "room.invoke_tool", "toolkit": toolkit, "tool": tool}

    def script(self) -> list[Step]:
        if self.method == "events":
            return []
        if self.steps is not None:
            return list(self.steps)
        steps = []
        for r in self.replies:
            header, tail = r if isinstance(r, tuple) else (r, b"")
            steps.append(Step(expect=self.expect(), reply=header, reply_tail=tail, then=list(self.then)))
        return steps


def json_reply(value: Any) -> dict[str, Any]:
    return {"type": "json", "json": value}


def error_reply(text: str, code: int) -> dict[str, Any]:
    return {"type": "error", "text": text, "code": code}


EMPTY = {"type": "empty"}

LONG_TEXT = "".join(f"{i:04d}-abcdefghij|" for i in range(80))  # 1280 ASCII chars (as record_python.py)
assert len(LONG_TEXT) > 1100


def plain(
    id: str,
    method: str,
    arguments: dict[str, Any],
    ts_method: str,
    ts_args: list[Any],
    reply: dict[str, Any] | tuple[dict[str, Any], bytes],
    **kw: Any,
) -> Scenario:
    return Scenario(
        id=id, method=method, arguments=arguments, call=(ts_method, ts_args), replies=[reply], **kw
    )


def js_json(value: Any) -> str:
    """JSON text as the TS SDK writes it (JSON.stringify: compact, UTF-8, no escaping)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


ATTACHMENT = b"\x00\x01\x02hello"
SECRET = "s3cr3t-✓".encode("utf-8")
