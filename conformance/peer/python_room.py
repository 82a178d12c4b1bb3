"""A small MeshAgent room server built on the official Python SDK's own protocol classes.

Unlike ``conformance/recorder/fake_room.py`` (which implements the framing itself), every byte this
server reads or writes goes through ``meshagent-api==0.35.8``:

* framing and message dispatch: ``meshagent.api.websocket_protocol.WebSocketServerProtocol`` (the
  class ``webhooks.py`` wraps accepted sockets in), i.e. ``Protocol.receive_packet`` reassembles the
  client's packets, ``Protocol.register_handler`` dispatches by message type and
  ``Protocol.send`` / ``_send_message`` frames the replies and pushes;
* payloads: ``pack_message`` / ``unpack_message`` (so replies carry the SDK's ``__meshagent__`` key)
  and the Content classes ``JsonContent``, ``EmptyContent``, ``ErrorContent`` (``.pack()``) and
  ``unpack_content_parts`` for the tool arguments;
* error codes: ``meshagent.api.error_codes.ErrorCode``.

Only the room's behaviour is written here: the handshake (``room_ready`` + ``connected``), an
in-memory ``storage`` (exists / list / delete) and ``queues`` (send / receive), and the
``storage.file.deleted`` + ``storage.file.updated`` pushes after a delete. Everything else gets an
``ErrorContent`` reply.

Each request must look exactly like what the Python ``RoomClient.invoke`` sends: the header keys
``toolkit, tool, participant_id, on_behalf_of_id, arguments, tool_call_id`` (a 32-hex id; plus
``caller_context`` when given), arguments the SDK's ``unpack_content_parts`` accepts, and for the
built-in tools the argument keys the Python sub-clients send. A request that does not is a *wire
disagreement*: it is answered with ``ErrorContent(code=1002)`` and makes ``--once`` exit 1. Errors the
SDK's protocol layer logs (out-of-order packets, a failing handler) count as disagreements too.

Usage::

    python python_room.py [--host 127.0.0.1] [--port 0] [--token token | --secret S] [--heartbeat S] [--once]

With ``--secret`` the room takes any participant token that the SDK's own
``ParticipantToken.from_jwt`` verifies with that secret and that grants this room (how
``conformance/tokens/run.sh`` checks a client that made its own token from an API key).

It prints ``PORT <n>`` (flushed) once listening, then one line per message it handled. With
``--once`` it exits after the first connection closes: 0 if every request matched, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import re
import sys
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from meshagent.api.error_codes import ErrorCode
from meshagent.api.messaging import (
    Content,
    EmptyContent,
    ErrorContent,
    JsonContent,
    pack_message,
    unpack_content_parts,
    unpack_message,
)
from meshagent.api.protocol import Protocol
from meshagent.api.version import __version__ as SDK_VERSION
from meshagent.api.websocket_protocol import WebSocketServerProtocol, resolve_websocket_heartbeat

ROOM_NAME = "test-room"
SESSION_ID = "sess-python-peer"
PARTICIPANT_ID = "p-rust"
ATTRIBUTES = {"name": "rust-peer", "role": "user"}

# The request header `RoomClient.invoke` builds, in its order (room_server_client.py).
INVOKE_KEYS = ["toolkit", "tool", "participant_id", "on_behalf_of_id", "arguments", "tool_call_id"]
# The tool inputs the Python sub-clients send (StorageClient / QueuesClient), in their order.
TOOL_ARGUMENT_KEYS = {
    ("storage", "exists"): ["path"],
    ("storage", "list"): ["path"],
    ("storage", "delete"): ["path", "recursive"],
    ("queues", "send"): ["name", "create", "message"],
    ("queues", "receive"): ["name", "create", "wait"],
}
TOOL_CALL_ID = re.compile(r"[0-9a-f]{32}")
# Seed timestamps, written as Python's datetime.isoformat() writes them (what
# StorageClient.list parses with datetime.fromisoformat).
CREATED_AT = "2024-01-02T03:04:05.678000+00:00"
UPDATED_AT = "2024-05-06T07:08:09+00:00"


MAX_LOG_LINE = 400


def log(line: str) -> None:
    if len(line) > MAX_LOG_LINE:
        line = f"{line[:MAX_LOG_LINE]}... ({len(line)} chars)"
    print(line, flush=True)


class Disagreement(Exception):
    """The request does not look like what the Python SDK itself sends."""


class ToolError(Exception):
    def __init__(self, text: str, code: int):
        super().__init__(text)
        self.text = text
        self.code = code


class _ProtocolErrorCounter(logging.Handler):
    """Counts the errors the SDK's protocol layer logs (bad packets, failing handlers)."""

    def __init__(self, room: "PeerRoom") -> None:
        super().__init__(level=logging.ERROR)
        self.room = room

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {record.exc_info[1]!r}"
        self.room.failures.append(f"SDK protocol error: {text}")
        log(f"!! SDK protocol error: {text}")


# --------------------------------------------------------------------------- in-memory room state


@dataclass
class Storage:
    # path -> file bytes; folders are implied by the paths of their files.
    files: dict[str, bytes] = field(
        default_factory=lambda: {
            "docs/a.txt": b"hello",
            "docs/sub/b.txt": b"nested file",
            "readme.md": b"# peer\n",
        }
    )

    @staticmethod
    def norm(path: str) -> str:
        return path.strip("/")

    def is_folder(self, path: str) -> bool:
        if path == "":
            return True
        prefix = path + "/"
        return any(p.startswith(prefix) for p in self.files)

    def exists(self, path: str) -> bool:
        path = self.norm(path)
        return path in self.files or self.is_folder(path)

    def list(self, path: str) -> list[dict[str, Any]]:
        path = self.norm(path)
        if not self.is_folder(path):
            raise ToolError(f"folder not found: {path}", ErrorCode.STORAGE_NOT_FOUND)
        prefix = "" if path == "" else path + "/"
        entries: dict[str, dict[str, Any]] = {}
        for p, data in sorted(self.files.items()):
            if not p.startswith(prefix):
                continue
            rest = p[len(prefix) :]
            name, sep, _ = rest.partition("/")
            if sep:
                # Folders: size null, no timestamps (Python's StorageEntry defaults).
                entries.setdefault(name, {"name": name, "is_folder": True, "size": None})
            else:
                entries[name] = {
                    "name": name,
                    "is_folder": False,
                    "size": len(data),
                    "created_at": CREATED_AT,
                    "updated_at": UPDATED_AT,
                }
        return list(entries.values())

    def delete(self, path: str, recursive: bool) -> None:
        path = self.norm(path)
        if path in self.files:
            del self.files[path]
            return
        if not self.is_folder(path) or path == "":
            raise ToolError(f"not found: {path}", ErrorCode.STORAGE_NOT_FOUND)
        if not recursive:
            raise ToolError(f"{path} is a folder; pass recursive", ErrorCode.STORAGE_RECURSIVE_REQUIRED)
        for p in [p for p in self.files if p.startswith(path + "/")]:
            del self.files[p]


@dataclass
class Queues:
    queues: dict[str, deque] = field(default_factory=dict)
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    def get(self, name: str, create: bool) -> deque:
        if name not in self.queues:
            if not create:
                raise ToolError(f"queue not found: {name}", ErrorCode.QUEUE_NOT_FOUND)
            self.queues[name] = deque()
        return self.queues[name]


# --------------------------------------------------------------------------- the room



def token_in_header() -> bool:
    """Whether the SDK under test sends the token as `Authorization: Bearer` (0.43 and later)."""
    major, minor = (int(p) for p in SDK_VERSION.split(".")[:2])
    return (major, minor) >= (0, 43)

class PeerRoom:
    def __init__(self, *, token: str, heartbeat: float, secret: str | None = None) -> None:
        self.token = token
        self.secret = secret
        self.heartbeat = heartbeat
        self.failures: list[str] = []
        self.handled = 0
        self.storage = Storage()
        self.queues = Queues()
        self.connection_closed = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        logging.getLogger("protocol").addHandler(_ProtocolErrorCounter(self))

    def verify_token(self, token: str | None) -> None:
        """The SDK verifies the token (signature, expiry, claims); it must grant this room."""
        from meshagent.api.participant_token import ParticipantToken

        try:
            claims = ParticipantToken.from_jwt(token or "", token=self.secret)
        except Exception as e:  # any refusal of the SDK's
            self.refuse(f"connect: the token does not verify ({type(e).__name__})")
        if claims.grant_scope("room") != ROOM_NAME:
            self.refuse(f"connect: the token grants room {claims.grant_scope('room')!r}")
        log(f"<< token verified: participant {claims.name!r}, room {ROOM_NAME!r}, kid {claims.api_key_id!r}")

    def refuse(self, why: str) -> None:
        self.failures.append(why)
        log(f"<< refused with 401: {why}")
        raise web.HTTPUnauthorized(reason="bad token")

    # ---- websocket

    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        log(f"<< connect {request.path} query keys {list(query.keys())} v={query.get('v')!r}")
        # The token's place follows the SDK: the query up to 0.42, an `Authorization: Bearer`
        # header (and never the query) from 0.43 on.
        auth = request.headers.get("Authorization", "")
        if token_in_header():
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
            if "token" in query:
                self.failures.append("connect: a token in the query (0.43+ sends it in the header)")
        else:
            token = query.get("token")
        if self.secret is not None:
            self.verify_token(token)
        elif token != self.token:
            self.failures.append("connect: wrong or missing token")
            raise web.HTTPUnauthorized(reason="bad token")
        if query.get("v") != SDK_VERSION:
            self.failures.append(f"connect: v={query.get('v')!r}, the Python SDK sends {SDK_VERSION!r}")
        if request.match_info["room"] != ROOM_NAME:
            self.failures.append(f"connect: room {request.match_info['room']!r}")

        # As webhooks.py accepts sockets: aiohttp pings every `heartbeat` s and drops a peer
        # that does not answer.
        ws = web.WebSocketResponse(heartbeat=self.heartbeat)
        await ws.prepare(request)

        protocol = WebSocketServerProtocol(socket=ws, token=token, url=str(request.url))
        protocol.register_handler("room.invoke_tool", self.on_invoke_tool)
        protocol.register_handler("*", self.on_other)
        try:
            async with protocol:
                await self.push(
                    protocol,
                    "room_ready",
                    {
                        "room_name": ROOM_NAME,
                        "room_url": f"ws://{request.host}/rooms/{ROOM_NAME}",
                        "session_id": SESSION_ID,
                    },
                )
                await self.push(
                    protocol,
                    "connected",
                    {"type": "init", "participantId": PARTICIPANT_ID, "attributes": ATTRIBUTES},
                )
                await protocol.wait_for_close()
        finally:
            for t in list(self._tasks):
                t.cancel()
            log(f"-- connection closed after {self.handled} requests")
            self.connection_closed.set()
        return ws

    async def push(self, protocol: Protocol, type_: str, header: dict) -> None:
        message_id = await protocol.send(type_, pack_message(header))
        log(f">> #{message_id} {type_} {json.dumps(header)}")

    async def reply(self, protocol: Protocol, message_id: int, content: Content) -> None:
        await protocol.send("__response__", content.pack(), message_id=message_id)
        log(f">> #{message_id} __response__ {content}")

    # ---- handlers (signature: Protocol handler(protocol, message_id, type, data))

    async def on_other(self, protocol: Protocol, message_id: int, type_: str, data: bytes) -> None:
        header, _ = unpack_message(data)
        log(f"<< #{message_id} {type_} {json.dumps(header)}")
        if type_ == "set_attributes":  # fire-and-forget in both SDKs: no reply
            if len(header) != 1:  # LocalParticipant.set_attribute sends one key per message
                self.failures.append(f"#{message_id} set_attributes with keys {list(header)}")
                log("!! wire disagreement: set_attributes must carry exactly one key")
            return
        self.handled += 1
        await self.reply(
            protocol,
            message_id,
            ErrorContent(
                text=f"python peer: unsupported message type {type_}", code=int(ErrorCode.INVALID_REQUEST)
            ),
        )

    async def on_invoke_tool(self, protocol: Protocol, message_id: int, type_: str, data: bytes) -> None:
        self.handled += 1
        header, tail = unpack_message(data)
        toolkit, tool = header.get("toolkit"), header.get("tool")
        log(f"<< #{message_id} {type_} {toolkit}.{tool} {json.dumps(header)}")
        try:
            args = self.check_invoke(header, tail)
            content, pushes = await self.run_tool(protocol, message_id, toolkit, tool, args)
        except Disagreement as ex:
            self.failures.append(f"#{message_id} {toolkit}.{tool}: {ex}")
            log(f"!! wire disagreement: {ex}")
            content = ErrorContent(text=f"wire disagreement: {ex}", code=int(ErrorCode.INVALID_REQUEST))
            pushes = []
        except ToolError as ex:
            content, pushes = ErrorContent(text=ex.text, code=int(ex.code)), []
        if content is None:  # answered later (queues.receive waiting for a message)
            return
        await self.reply(protocol, message_id, content)
        for push_type, push_header in pushes:
            await self.push(protocol, push_type, push_header)

    def check_invoke(self, header: dict, tail: bytes) -> dict | None:
        """The request must be what `RoomClient.invoke` would send; returns the JSON input."""
        # `caller_context` is sent only when the caller gives one.
        keys = [k for k in header.keys() if k != "caller_context"]
        if set(keys) != set(INVOKE_KEYS):
            raise Disagreement(f"invoke header keys {keys}, the Python SDK sends {INVOKE_KEYS}")
        if keys != INVOKE_KEYS:
            log(f"   note: invoke header key order {keys} (Python: {INVOKE_KEYS})")
        for key in ("toolkit", "tool"):
            if not isinstance(header[key], str):
                raise Disagreement(f"{key} is {header[key]!r}, not a string")
        for key in ("participant_id", "on_behalf_of_id"):
            if header[key] is not None and not isinstance(header[key], str):
                raise Disagreement(f"{key} is {header[key]!r}")
        if not isinstance(header["tool_call_id"], str) or not TOOL_CALL_ID.fullmatch(header["tool_call_id"]):
            raise Disagreement(f"tool_call_id {header['tool_call_id']!r} is not uuid4().hex")
        if not isinstance(header["arguments"], dict):
            raise Disagreement(f"arguments {header['arguments']!r} is not a Content header")
        try:
            content = unpack_content_parts(header=header["arguments"], payload=tail)
        except Exception as ex:  # the SDK's own Content parser refused it
            raise Disagreement(f"arguments do not parse as an SDK Content: {ex!r}") from ex
        if tail and content.get_data() is None:  # only file/binary contents carry a tail
            raise Disagreement(f"a {type(content).__name__} input with a {len(tail)}-byte tail")
        if isinstance(content, JsonContent):
            expected = TOOL_ARGUMENT_KEYS.get((header["toolkit"], header["tool"]))
            if expected is not None:
                got = list(content.json.keys()) if isinstance(content.json, dict) else content.json
                if not isinstance(content.json, dict) or set(got) != set(expected):
                    tool = f"{header['toolkit']}.{header['tool']}"
                    raise Disagreement(f"{tool} input keys {got}, the Python SDK sends {expected}")
                if got != expected:
                    log(f"   note: input key order {got} (Python: {expected})")
            return content.json
        return None

    async def run_tool(
        self, protocol: Protocol, message_id: int, toolkit: str, tool: str, args: dict | None
    ) -> tuple[Content | None, list[tuple[str, dict]]]:
        def need(key: str, kind: type | tuple[type, ...]) -> Any:
            if not isinstance(args, dict) or not isinstance(args.get(key), kind):
                got = None if args is None else args.get(key)
                raise Disagreement(f"{toolkit}.{tool}: `{key}` is {got!r}")
            return args[key]

        def maybe_bool(key: str) -> bool:
            value = args.get(key) if isinstance(args, dict) else None
            if value is not None and not isinstance(value, bool):
                raise Disagreement(f"{toolkit}.{tool}: `{key}` is {value!r}")
            return bool(value)

        if toolkit == "storage" and tool == "exists":
            return JsonContent(json={"exists": self.storage.exists(need("path", str))}), []
        if toolkit == "storage" and tool == "list":
            return JsonContent(json={"files": self.storage.list(need("path", str))}), []
        if toolkit == "storage" and tool == "delete":
            path = need("path", str)
            self.storage.delete(path, maybe_bool("recursive"))
            event = {"path": Storage.norm(path), "participant_id": PARTICIPANT_ID}
            return EmptyContent(), [("storage.file.deleted", event), ("storage.file.updated", event)]
        if toolkit == "queues" and tool == "send":
            message = need("message", dict)
            queue = self.queues.get(need("name", str), need("create", bool))
            async with self.queues.changed:
                queue.append(message)
                self.queues.changed.notify_all()
            return EmptyContent(), []
        if toolkit == "queues" and tool == "receive":
            name = need("name", str)
            queue = self.queues.get(name, need("create", bool))
            if queue:
                return JsonContent(json=queue.popleft()), []
            if not need("wait", bool):
                return EmptyContent(), []
            # Protocol runs handlers one at a time; wait in a task so other requests go on.
            task = asyncio.create_task(self._receive_later(protocol, message_id, queue))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return None, []
        raise ToolError(f"toolkit or tool not found: {toolkit}.{tool}", ErrorCode.NOT_FOUND)

    async def _receive_later(self, protocol: Protocol, message_id: int, queue: deque) -> None:
        async with self.queues.changed:
            await self.queues.changed.wait_for(lambda: bool(queue))
            message = queue.popleft()
        await self.reply(protocol, message_id, JsonContent(json=message))


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default): a free port")
    parser.add_argument("--token", default="token", help="the token clients must send")
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=None,
        help="websocket ping interval in s (default: the SDK's, MESHAGENT_WEBSOCKET_HEARTBEAT or 60)",
    )
    parser.add_argument("--once", action="store_true", help="exit after the first connection closes")
    parser.add_argument(
        "--secret",
        default=None,
        help="take any token ParticipantToken.from_jwt verifies with this secret (instead of --token)",
    )
    opts = parser.parse_args()

    room = PeerRoom(
        token=opts.token,
        heartbeat=resolve_websocket_heartbeat(opts.heartbeat),
        secret=opts.secret,
    )
    app = web.Application()
    app.router.add_get("/rooms/{room}", room.handle_ws)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, opts.host, opts.port)
    await site.start()
    port = runner.addresses[0][1]
    log(f"PORT {port}")
    log(
        f"-- python room (meshagent-api {SDK_VERSION}) on ws://{opts.host}:{port}/rooms/{ROOM_NAME}, "
        f"websocket heartbeat {room.heartbeat} s"
    )
    try:
        if opts.once:
            await room.connection_closed.wait()
        else:
            await asyncio.Event().wait()
    finally:
        await runner.cleanup()
    if room.failures:
        log(f"-- {len(room.failures)} wire disagreement(s):")
        for f in room.failures:
            log(f"   {f}")
        return 1
    log(f"-- OK: {room.handled} requests handled, no wire disagreement")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except KeyboardInterrupt:
        sys.exit(130)
