"""A small scripted fake MeshAgent room server, used to record what an SDK puts on the wire.

It implements the room framing itself (nothing from the meshagent package is imported):

* every protocol packet is one binary websocket message;
* a message ``(id: u64, type: str, data: bytes)`` is one header packet
  ``[u64 BE id][u32 BE index=0][u32 BE packet_count N][UTF-8 type]`` followed by N data packets
  ``[u64 BE id][u32 BE index i][<=1024 bytes of data]`` with ``N = ceil(len(data) / 1024)``;
* ``data`` is a packed message ``[u64 BE json_len][JSON header][binary tail]``.

On connect the server sends ``room_ready`` and ``connected``, then any scripted pushes. Every
client message (except ``set_attributes``, which takes no reply) is answered with ``__response__``
(same message id) from the script: each script step names the request it expects (message type,
plus header fields such as ``toolkit``/``tool``) and the Content it replies with, and may list
pushes to send right after that reply (``Step.then``). A request that does not match the next step
gets an error reply and is noted in ``errors``. ``script_done`` is set once every step was answered.

Streaming tools are scripted the same way, as data: the ``room.invoke_tool`` that opens a stream
(``arguments`` ``control/open``) is one step, and every ``room.tool_call_request_chunk`` the client
sends is one more step (matched on its ``chunk``, answered with ``empty``), whose ``then`` pushes the
server's ``room.tool_call_response_chunk`` messages (pulls, data, log lines, ``control/close``…).
The SDK draws the ``tool_call_id`` at run time, so expectations and pushes use the placeholder
``CALL_ID``: it matches / is replaced by the ``tool_call_id`` of the stream the client opened.

Every message in both directions is recorded (direction from the SDK's point of view: ``send`` is
client -> server, ``recv`` is server -> client), with the decoded JSON header (key order as sent,
nothing stripped), the binary tail and the size of every websocket packet it travelled in.

The framing is checked strictly: a packet count that is not ``ceil(len/1024)``, a data packet of the
wrong index/id/size, a text frame, or a packed message whose length prefix does not fit is recorded
in ``errors`` (so the recorder fails instead of writing a doubtful case).
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

CHUNK_SIZE = 1024

# Placeholder for the tool_call_id of the stream the client opened (see Step / Push).
CALL_ID = "$tool_call_id"

# Replies to messages of these types are not expected by the client. room.tool_call_response_chunk
# is sent by the client only by Python 0.56 (the receiving side of messaging.stream).
NO_REPLY_TYPES = {"set_attributes", "room.tool_call_response", "room.tool_call_response_chunk"}


class FramingError(Exception):
    pass


# --------------------------------------------------------------------------- framing


def packet_count(data: bytes) -> int:
    return math.ceil(len(data) / CHUNK_SIZE)


def encode_message(message_id: int, type_: str, data: bytes) -> list[bytes]:
    """One message -> the list of websocket binary messages (header packet + data packets)."""
    count = packet_count(data)
    packets = [
        message_id.to_bytes(8, "big")
        + (0).to_bytes(4, "big")
        + count.to_bytes(4, "big")
        + type_.encode("utf-8")
    ]
    for i in range(count):
        packets.append(
            message_id.to_bytes(8, "big")
            + (i + 1).to_bytes(4, "big")
            + data[i * CHUNK_SIZE : (i + 1) * CHUNK_SIZE]
        )
    return packets


def pack(header: dict, tail: bytes = b"") -> bytes:
    body = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return len(body).to_bytes(8, "big") + body + tail


def unpack(data: bytes) -> tuple[dict, bytes]:
    if len(data) < 8:
        raise FramingError(f"packed message shorter than 8 bytes ({len(data)})")
    size = int.from_bytes(data[0:8], "big")
    if 8 + size > len(data):
        raise FramingError(f"packed header length {size} exceeds message data ({len(data)} bytes)")
    header = json.loads(data[8 : 8 + size].decode("utf-8"))
    if not isinstance(header, dict):
        raise FramingError("packed header is not a JSON object")
    return header, data[8 + size :]


@dataclass
class RawMessage:
    id: int
    type: str
    data: bytes
    packets: list[int]  # size in bytes of every websocket message it came in


class Reassembler:
    """Strict reassembly of client packets into messages."""

    def __init__(self) -> None:
        self._current: RawMessage | None = None
        self._expected_total = 0
        self._next_index = 0

    def feed(self, packet: bytes) -> RawMessage | None:
        if len(packet) < 12:
            self._reset()
            raise FramingError(f"packet shorter than 12 bytes ({len(packet)})")
        message_id = int.from_bytes(packet[0:8], "big")
        index = int.from_bytes(packet[8:12], "big")

        if index == 0:
            if self._current is not None:
                self._reset()
                raise FramingError("header packet arrived while a message was incomplete")
            if len(packet) < 16:
                raise FramingError("header packet shorter than 16 bytes")
            total = int.from_bytes(packet[12:16], "big")
            msg = RawMessage(
                id=message_id,
                type=packet[16:].decode("utf-8"),
                data=b"",
                packets=[len(packet)],
            )
            if total == 0:
                return msg
            self._current = msg
            self._expected_total = total
            self._next_index = 1
            return None

        cur = self._current
        if cur is None:
            raise FramingError(f"data packet {index} without a header packet")
        if message_id != cur.id:
            self._reset()
            raise FramingError(f"data packet for message {message_id} inside message {cur.id}")
        if index != self._next_index:
            self._reset()
            raise FramingError(f"data packet {index}, expected {self._next_index}")
        chunk = packet[12:]
        is_last = index == self._expected_total
        if len(chunk) > CHUNK_SIZE or (not is_last and len(chunk) != CHUNK_SIZE) or len(chunk) == 0:
            self._reset()
            raise FramingError(f"data packet {index} of {self._expected_total} carries {len(chunk)} bytes")
        cur.data += chunk
        cur.packets.append(len(packet))
        if is_last:
            self._reset()
            if cur.packets and packet_count(cur.data) != len(cur.packets) - 1:
                raise FramingError("packet count does not match ceil(len/1024)")
            return cur
        self._next_index += 1
        return None

    def _reset(self) -> None:
        self._current = None
        self._expected_total = 0
        self._next_index = 0


# --------------------------------------------------------------------------- script


@dataclass
class Step:
    """Expect one request, answer it with a Content (header + optional tail)."""

    expect: dict[str, Any]  # {"type": "room.invoke_tool", "toolkit": "storage", "tool": "exists"}
    reply: dict[str, Any]  # Content header, e.g. {"type": "json", "json": {"exists": True}}
    reply_tail: bytes = b""
    # Messages the server pushes right after this reply (e.g. messaging.send after messaging.enable).
    then: list["Push"] = field(default_factory=list)

    def matches(self, msg_type: str, header: dict, call_id: str | None = None) -> bool:
        for key, value in self.expect.items():
            if key == "type":
                if msg_type != value:
                    return False
            elif not _subset(value, header.get(key), call_id):
                return False
        return True


def _subset(expected: Any, actual: Any, call_id: str | None) -> bool:
    """`expected` matches `actual`: equal values; a dict matches a dict that has at least its keys
    (recursively); CALL_ID matches the open stream's tool_call_id."""
    if expected == CALL_ID:
        return call_id is not None and actual == call_id
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(
            k in actual and _subset(v, actual[k], call_id) for k, v in expected.items()
        )
    return type(expected) is type(actual) and expected == actual


def _fill(value: Any, call_id: str | None) -> Any:
    """`value` with every CALL_ID replaced by the open stream's tool_call_id."""
    if value == CALL_ID:
        if call_id is None:
            raise FramingError("a push needs the tool_call_id, but no stream was opened")
        return call_id
    if isinstance(value, dict):
        return {k: _fill(v, call_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, call_id) for v in value]
    return value


# --------------------------------------------------------------------------- stream helpers

OPEN = {"type": "control", "method": "open"}
EMPTY_REPLY = {"type": "empty"}


def close_chunk(status_code: int = 1000, message: str | None = None) -> dict[str, Any]:
    chunk: dict[str, Any] = {"type": "control", "method": "close", "status_code": status_code}
    if message is not None:
        chunk["message"] = message
    return chunk


def response_chunk(chunk: dict[str, Any], tail: bytes = b"") -> "Push":
    """A server -> client chunk of the open stream (room.tool_call_response_chunk)."""
    return Push("room.tool_call_response_chunk", {"tool_call_id": CALL_ID, "chunk": chunk}, tail)


def open_step(toolkit: str, tool: str, *, reply: dict[str, Any] = OPEN, then: list["Push"] | None = None) -> Step:
    """The room.invoke_tool that opens a stream (arguments control/open), answered with `reply`."""
    return Step(
        expect={"type": "room.invoke_tool", "toolkit": toolkit, "tool": tool, "arguments": OPEN},
        reply=reply,
        then=list(then or []),
    )


def chunk_step(
    chunk: dict[str, Any], *, reply: dict[str, Any] = EMPTY_REPLY, then: list["Push"] | None = None
) -> Step:
    """One client -> server chunk of the open stream (room.tool_call_request_chunk), matched on a
    subset of its `chunk` header, acknowledged with `reply` (empty), then `then` pushed."""
    return Step(
        expect={"type": "room.tool_call_request_chunk", "tool_call_id": CALL_ID, "chunk": chunk},
        reply=reply,
        then=list(then or []),
    )


@dataclass
class Push:
    """A message the server sends on its own right after the handshake (no reply expected)."""

    type: str
    header: dict[str, Any]
    tail: bytes = b""


@dataclass
class Frame:
    dir: str  # "send" (client -> server) or "recv" (server -> client)
    id: int
    type: str
    header: dict[str, Any]
    tail: bytes
    packets: list[int]
    handshake: bool = False


@dataclass
class FakeRoom:
    script: list[Step]
    pushes: list[Push] = field(default_factory=list)
    room_name: str = "test-room"
    session_id: str = "sess-1"
    participant_id: str = "p-local"
    attributes: dict[str, Any] = field(default_factory=lambda: {"name": "alice"})
    first_server_id: int = 1001
    # False: room.tool_call_request_chunk steps are not answered with `__response__` (Python 0.56
    # sends request chunks one-way, since 0.47); their `then` pushes are still sent.
    ack_chunks: bool = True
    # The token the driver gave the SDK: replaced by "<token>" in the recorded auth header and query
    # (connect_auth). None: nothing is redacted.
    token: str | None = None

    def __post_init__(self) -> None:
        self.frames: list[Frame] = []
        self.errors: list[str] = []
        self.connect: dict[str, Any] | None = None
        self.connect_auth: dict[str, Any] | None = None
        self.connections = 0
        self.closed = asyncio.Event()
        self._server_id = self.first_server_id - 1
        # tool_call_id of the last stream the client opened (room.invoke_tool with control/open).
        self.tool_call_id: str | None = None
        self._steps = list(self.script)
        # Set once every script step has been requested and answered (its `then` pushes sent too).
        self.script_done = asyncio.Event()
        if not self._steps:
            self.script_done.set()
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    # ---- lifecycle

    async def start(self, host: str = "127.0.0.1") -> int:
        app = web.Application()
        app.router.add_get("/rooms/{room}", self._handle_ws)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, 0)  # port 0: a free loopback port
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self.port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def unused_steps(self) -> list[Step]:
        return list(self._steps)

    # ---- websocket handling

    async def _handle_ws(self, request: web.Request) -> web.StreamResponse:
        self.connections += 1
        if self.connections > 1:
            self.errors.append("more than one websocket connection")
        self.connect = {
            "path": request.path,
            "query_string": request.query_string,
            "query": [[k, v] for k, v in parse_qsl(request.query_string, keep_blank_values=True)],
        }
        # Where the token travelled (0.56 transport): the Authorization header and/or the query,
        # with the token itself replaced by "<token>"; and the websocket extensions offered.
        def redact(value: str) -> str:
            return value.replace(self.token, "<token>") if self.token else value

        auth = request.headers.get("Authorization")
        self.connect_auth = {
            "path": request.path,
            "query": [[k, redact(v)] for k, v in parse_qsl(request.query_string, keep_blank_values=True)],
            "headers": {"Authorization": redact(auth)} if auth is not None else {},
            "extensions": request.headers.get("Sec-WebSocket-Extensions"),
        }
        if request.match_info["room"] != self.room_name:
            self.errors.append(f"connected to room {request.match_info['room']!r}")

        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        try:
            await self._send(
                ws,
                "room_ready",
                {
                    "room_name": self.room_name,
                    "room_url": f"ws://127.0.0.1/rooms/{self.room_name}",
                    "session_id": self.session_id,
                },
                handshake=True,
            )
            await self._send(
                ws,
                "connected",
                {"type": "init", "participantId": self.participant_id, "attributes": self.attributes},
                handshake=True,
            )
            for push in self.pushes:
                await self._send(ws, push.type, push.header, push.tail)

            reassembler = Reassembler()
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    try:
                        raw = reassembler.feed(msg.data)
                    except FramingError as ex:
                        self.errors.append(f"framing: {ex}")
                        continue
                    if raw is not None:
                        await self._on_message(ws, raw)
                elif msg.type == WSMsgType.TEXT:
                    self.errors.append("client sent a text websocket frame")
                elif msg.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                    break
        finally:
            self.closed.set()
        return ws

    async def _on_message(self, ws: web.WebSocketResponse, raw: RawMessage) -> None:
        try:
            header, tail = unpack(raw.data)
        except (FramingError, ValueError) as ex:
            self.errors.append(f"message {raw.id} ({raw.type}): {ex}")
            header, tail = {"__undecodable__": raw.data.hex()}, b""
        self.frames.append(
            Frame(dir="send", id=raw.id, type=raw.type, header=header, tail=tail, packets=raw.packets)
        )
        if raw.type in NO_REPLY_TYPES:
            return
        if raw.type == "room.invoke_tool" and header.get("arguments") == OPEN:
            # A stream opens: its tool_call_id fills CALL_ID from now on.
            self.tool_call_id = header.get("tool_call_id")

        step = self._steps[0] if self._steps else None
        if step is not None and step.matches(raw.type, header, self.tool_call_id):
            self._steps.pop(0)
            if self.ack_chunks or raw.type != "room.tool_call_request_chunk":
                await self._send(ws, "__response__", step.reply, step.reply_tail, message_id=raw.id)
            for push in step.then:
                try:
                    push_header = _fill(push.header, self.tool_call_id)
                except FramingError as ex:
                    self.errors.append(str(ex))
                    continue
                await self._send(ws, push.type, push_header, push.tail)
            if not self._steps:
                self.script_done.set()
            return

        what = f"{raw.type} {header.get('toolkit')}.{header.get('tool')}"
        if "chunk" in header:
            what = f"{raw.type} {header['chunk']}"
        expected = step.expect if step is not None else "nothing"
        self.errors.append(f"unexpected request {what} (id {raw.id}); expected {expected}")
        await self._send(
            ws,
            "__response__",
            {"type": "error", "text": f"fake room: unexpected request {what}", "code": 1002},
            message_id=raw.id,
        )

    async def _send(
        self,
        ws: web.WebSocketResponse,
        type_: str,
        header: dict[str, Any],
        tail: bytes = b"",
        *,
        message_id: int | None = None,
        handshake: bool = False,
    ) -> None:
        if message_id is None:
            self._server_id += 1
            message_id = self._server_id
        packets = encode_message(message_id, type_, pack(header, tail))
        self.frames.append(
            Frame(
                dir="recv",
                id=message_id,
                type=type_,
                header=header,
                tail=tail,
                packets=[len(p) for p in packets],
                handshake=handshake,
            )
        )
        for p in packets:
            await ws.send_bytes(p)
