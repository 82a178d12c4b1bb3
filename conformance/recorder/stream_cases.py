"""Shared data of the streaming-tool recordings: the payloads the callers feed in, and the fake
room's scripts (one list of steps per scenario), used by record_python.py and record_typescript.py
so that the two SDKs are recorded against the same server behaviour.

Every script is data: `open_step` answers the room.invoke_tool that opens the stream, and each
`chunk_step` acknowledges one room.tool_call_request_chunk (with `empty`) and pushes the server's
room.tool_call_response_chunk messages in `then`. The server follows each tool's flow control
(protocol-toolkits.md §1.3-1.4, §3.5-3.6, §6.2-6.4; protocol-core.md §6.2-6.3):

* storage.upload: one `pull` per data chunk until the announced size is in (then `close`), or, with
  no size, until a pull finds the source exhausted (the client closes, then the server);
* storage.download: `start` {name, mime_type, size} right after the start chunk, one `data` chunk
  per client pull, `close` right after the last byte;
* database writes: one `{"kind":"pull"}` per rows chunk; database reads: one rows chunk per client
  pull, then `close`;
* logs: chunks pushed without pulls, then `close`; exec: free-running channels.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from fake_room import Push, Step, chunk_step, close_chunk, open_step, response_chunk


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def binary(**headers: Any) -> dict[str, Any]:
    return {"type": "binary", "headers": headers}


def json_chunk(value: Any) -> dict[str, Any]:
    return {"type": "json", "json": value}


def error_chunk(text: str, code: int | None) -> dict[str, Any]:
    if code is None:
        return {"type": "error", "text": text}
    return {"type": "error", "text": text, "code": code}


CLOSE = close_chunk()  # {"type": "control", "method": "close", "status_code": 1000}
PULL = json_chunk({"kind": "pull"})


def pull(chunk_size: int | None = None) -> Push:
    if chunk_size is None:
        return response_chunk(binary(kind="pull"))
    return response_chunk(binary(kind="pull", chunk_size=chunk_size))


def server_close(status_code: int = 1000, message: str | None = None) -> Push:
    return response_chunk(close_chunk(status_code, message))


def client_close(then: list[Push] | None = None) -> Step:
    """The client's one request-side control/close (status 1000)."""
    return chunk_step(CLOSE, then=then)


# --------------------------------------------------------------------------- storage.upload

# 100 lines of 31 UTF-8 bytes: 3100 bytes, pulled 1200 at a time (1200, 1200, 700).
UPLOAD_TEXT = "".join(f"Zeile {i:03d}: grüße, 世界 ✓\n" for i in range(100)).encode("utf-8")
assert len(UPLOAD_TEXT) == 3100
UPLOAD_PULL = 1200

# Source chunks of an upload_stream with no size: 700 + 0 + 1500 + 300 bytes. The server's pulls
# carry no chunk_size, so the client uses its own default (64 KiB) and joins them into one chunk.
_BLOB = bytes(range(256)) * 10
UPLOAD_PARTS = [_BLOB[0:700], b"", _BLOB[700:2200], _BLOB[2200:2500]]

UPLOAD_ERROR_DATA = bytes((i * 7) % 256 for i in range(2000))


def upload_sized_steps(data: bytes, chunk_size: int) -> list[Step]:
    """Pull `chunk_size` until all len(data) announced bytes are in, then close."""
    steps = [open_step("storage", "upload"), chunk_step(binary(kind="start"), then=[pull(chunk_size)])]
    received = 0
    while received < len(data):
        received += min(chunk_size, len(data) - received)
        done = received >= len(data)
        steps.append(chunk_step(binary(kind="data"), then=[server_close()] if done else [pull(chunk_size)]))
    steps.append(client_close())
    return steps


def upload_unsized_steps(data_chunks: int) -> list[Step]:
    """Pull (no chunk_size) until a pull finds the source exhausted: the client closes first."""
    steps = [open_step("storage", "upload"), chunk_step(binary(kind="start"), then=[pull()])]
    for _ in range(data_chunks):
        steps.append(chunk_step(binary(kind="data"), then=[pull()]))
    steps.append(client_close(then=[server_close()]))
    return steps


UPLOAD_ERROR = error_chunk("storage quota exceeded for docs/", 1008)


def upload_error_steps() -> list[Step]:
    """An error chunk (and a normal close) after the first data chunk."""
    return [
        open_step("storage", "upload"),
        chunk_step(binary(kind="start"), then=[pull(1024)]),
        chunk_step(binary(kind="data"), then=[response_chunk(UPLOAD_ERROR), server_close()]),
        client_close(),
    ]


# --------------------------------------------------------------------------- storage.download

DOWNLOAD_TEXT = ("# Rapport ✓\n\n" + "".join(f"- ligne {i:03d} : café, naïve, 東京\n" for i in range(80))).encode(
    "utf-8"
)
DOWNLOAD_PIECE = 1100


def download_steps(name: str, mime_type: str, data: bytes, piece: int) -> list[Step]:
    """start {name, mime_type, size} right after the start chunk, then one data chunk per pull,
    close right after the last byte (straight after start when size is 0)."""
    start = response_chunk(binary(kind="start", name=name, mime_type=mime_type, size=len(data)))
    if not data:
        return [
            open_step("storage", "download"),
            chunk_step(binary(kind="start"), then=[start, server_close()]),
            client_close(),
        ]
    steps = [open_step("storage", "download"), chunk_step(binary(kind="start"), then=[start])]
    for offset in range(0, len(data), piece):
        part = data[offset : offset + piece]
        then = [response_chunk(binary(kind="data"), part)]
        if offset + piece >= len(data):
            then.append(server_close())
        steps.append(chunk_step(binary(kind="pull"), then=then))
    steps.append(client_close())
    return steps


DOWNLOAD_ABNORMAL_SIZE = 3000
DOWNLOAD_ABNORMAL_FIRST = bytes((i * 13) % 256 for i in range(1024))


def download_abnormal_close_steps(after_close: list[Step]) -> list[Step]:
    """size 3000, one data chunk of 1024 bytes, then a close with status 1011 instead of data.
    `after_close`: what the SDK then sends (it differs between the SDKs)."""
    return [
        open_step("storage", "download"),
        chunk_step(
            binary(kind="start"),
            then=[
                response_chunk(
                    binary(kind="start", name="dump.bin", mime_type="application/octet-stream", size=DOWNLOAD_ABNORMAL_SIZE)
                )
            ],
        ),
        chunk_step(binary(kind="pull"), then=[response_chunk(binary(kind="data"), DOWNLOAD_ABNORMAL_FIRST)]),
        chunk_step(binary(kind="pull"), then=[server_close(1011, "storage backend unavailable")]),
        *after_close,
    ]


# --------------------------------------------------------------------------- database

PEOPLE_ROWS = [
    {"id": 1, "name": "Zoë Ågren", "score": 9.5, "active": True, "tags": ["admin", "ops"],
     "address": {"city": "Zürich", "zip": "8001"}},
    {"id": 2, "name": "李雷", "score": 7.25, "active": False, "tags": [],
     "address": {"city": "北京", "zip": "100000"}},
    {"id": 3, "name": "O'Brien \"Ob\"", "score": None, "active": True, "tags": ["new"],
     "address": {"city": "Dublin", "zip": "D02"}},
]

# 130 rows: the SDKs split a records list into chunks of 128 rows (128 + 2).
EVENT_ROWS = [{"id": i, "kind": "click" if i % 3 else "view", "label": f"événement n°{i}"} for i in range(1, 131)]

MERGE_ROWS = [
    {"id": 2, "name": "Li Lei", "score": 8.0},
    {"id": 4, "name": "Ana María", "score": 6.5},
]


def db_write_steps(tool: str, batches: int) -> list[Step]:
    """start -> pull; each rows chunk -> pull; the pull that finds the source exhausted makes the
    client close; then the server closes."""
    steps = [open_step("database", tool), chunk_step(json_chunk({"kind": "start"}), then=[response_chunk(PULL)])]
    for _ in range(batches):
        steps.append(chunk_step(json_chunk({"kind": "rows"}), then=[response_chunk(PULL)]))
    steps.append(client_close(then=[server_close()]))
    return steps


DB_OPEN_ERRORS = {
    "create_table": error_chunk("table already exists: people", 1004),
    "search": error_chunk("table not found: people", 1003),
}


def db_open_error_steps(tool: str, client_closes: bool = True) -> list[Step]:
    """The open invoke itself is answered with an error. The start chunk (already sent) and the
    client's close are still acknowledged. The TypeScript SDK never sends that close: its request
    stream stays open, waiting for a pull (`client_closes=False`)."""
    steps = [open_step("database", tool, reply=DB_OPEN_ERRORS[tool]), chunk_step(json_chunk({"kind": "start"}))]
    if client_closes:
        steps.append(client_close())
    return steps


DB_WRITE_ERROR = error_chunk("column 'score' expects float, got text", 1002)


def db_write_error_steps(tool: str) -> list[Step]:
    """An error chunk instead of the pull after the first rows chunk (then a normal close)."""
    return [
        open_step("database", tool),
        chunk_step(json_chunk({"kind": "start"}), then=[response_chunk(PULL)]),
        chunk_step(json_chunk({"kind": "rows"}), then=[response_chunk(DB_WRITE_ERROR), server_close()]),
        client_close(),
    ]


def typed_row(**columns: dict[str, Any]) -> dict[str, Any]:
    return {"columns": [{"name": k, "value": v} for k, v in columns.items()]}


def rows_chunk(*rows: dict[str, Any]) -> dict[str, Any]:
    return json_chunk({"kind": "rows", "rows": list(rows)})


# sql results: two rows chunks. The first one is over 1024 bytes (several data packets).
SQL_CHUNKS = [
    rows_chunk(
        *[
            typed_row(
                id={"type": "int", "value": i},
                name={"type": "text", "value": f"Zoë n°{i} — 東京"},
                score={"type": "float", "value": i + 0.5},
                active={"type": "bool", "value": i % 2 == 0},
                joined={"type": "date", "value": f"2024-01-{i:02d}"},
                seen={"type": "timestamp", "value": f"2025-03-0{1 + i % 9}T12:00:00Z"},
            )
            for i in range(1, 9)
        ]
    ),
    rows_chunk(
        typed_row(
            id={"type": "int", "value": 9},
            name={"type": "null"},
            score={"type": "null"},
            active={"type": "bool", "value": True},
            joined={"type": "null"},
            seen={"type": "null"},
        )
    ),
]

SEARCH_CHUNKS = [
    rows_chunk(
        typed_row(
            id={"type": "int", "value": 1},
            text={"type": "text", "value": "héllo wörld"},
            blob={"type": "binary", "data": b64(b"\x00\x01\xfe\xff")},
            tags={"type": "list", "items": [{"type": "text", "value": "a"}, {"type": "text", "value": "ü"}]},
            meta={"type": "struct", "fields": [{"name": "lang", "value": {"type": "text", "value": "de"}}]},
        )
    ),
    rows_chunk(),  # an empty rows chunk
    rows_chunk(
        typed_row(
            id={"type": "int", "value": 7},
            text={"type": "text", "value": "hello again"},
            blob={"type": "null"},
            tags={"type": "list", "items": []},
            meta={"type": "struct", "fields": []},
        )
    ),
]


def db_read_steps(tool: str, chunks: list[dict[str, Any]]) -> list[Step]:
    """start (no push); each client pull -> one rows chunk; the pull after the last -> close."""
    steps = [open_step("database", tool), chunk_step(json_chunk({"kind": "start"}))]
    for chunk in chunks:
        steps.append(chunk_step(PULL, then=[response_chunk(chunk)]))
    steps.append(chunk_step(PULL, then=[server_close()]))
    steps.append(client_close())
    return steps


DB_READ_ERROR = error_chunk("syntax error at or near \"FROM\"", 1002)


def db_read_error_steps(tool: str) -> list[Step]:
    """The first pull is answered with an error chunk (and a normal close)."""
    return [
        open_step("database", tool),
        chunk_step(json_chunk({"kind": "start"})),
        chunk_step(PULL, then=[response_chunk(DB_READ_ERROR), server_close()]),
        client_close(),
    ]


# --------------------------------------------------------------------------- developer.logs

DEV_LOGS = [
    ("info", {"message": "agent started ✓", "pid": 4242}),
    ("custom", {"hello": "world", "nested": {"list": [1, 2.5, None, True]}}),
    ("warning", {}),  # empty tail: {}
    ("trace", {"payload": "x" * 1200}),  # over 1024 bytes
]


def dev_log_chunk(kind: str, data: dict[str, Any]) -> Push:
    tail = b"" if not data else json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return response_chunk(binary(type=kind), tail)


def developer_logs_steps() -> list[Step]:
    """developer.logs sends no start chunk: the log chunks and the close follow the open reply;
    the client then closes its (empty) request stream."""
    return [
        open_step("developer", "logs", then=[*(dev_log_chunk(k, d) for k, d in DEV_LOGS), server_close()]),
        client_close(),
    ]


DEV_LOGS_ERROR = error_chunk("log subscription revoked", 1001)


def developer_logs_error_steps() -> list[Step]:
    return [
        open_step("developer", "logs", then=[dev_log_chunk(*DEV_LOGS[0]), response_chunk(DEV_LOGS_ERROR), server_close()]),
        client_close(),
    ]


# --------------------------------------------------------------------------- containers logs

CONTAINER_LOG_LINES = [
    "2025-01-01T00:00:00Z starting server…\n",
    "listening on :8080 ✓\n",
    "GET /héllo 200\nGET /favicon.ico 404\n",
    "x" * 1100 + "\n",  # over 1024 bytes
]


def container_logs_steps() -> list[Step]:
    """After the start chunk: channel 1 text chunks (one channel 2 chunk, which the SDKs ignore),
    then close."""
    pushes = [response_chunk(binary(channel=1), line.encode("utf-8")) for line in CONTAINER_LOG_LINES]
    pushes.insert(2, response_chunk(binary(channel=2), b"ignored stderr\n"))
    return [
        open_step("containers", "logs"),
        chunk_step(binary(kind="start"), then=[*pushes, server_close()]),
        client_close(),
    ]


CONTAINER_LOGS_ERROR = error_chunk("container not found: c-missing", 6001)


def container_logs_error_steps() -> list[Step]:
    return [
        open_step("containers", "logs"),
        chunk_step(binary(kind="start"), then=[response_chunk(CONTAINER_LOGS_ERROR), server_close()]),
        client_close(),
    ]


BUILD_LOG_LINES = [
    "Step 1/3 : FROM python:3.13-slim\n",
    "Step 2/3 : RUN pip install -r requirements.txt ✓\n",
    "Step 3/3 : CMD [\"python\", \"app.py\"]\n",
]


def build_logs_steps(status: int | None, *, channel_2: bool = False) -> list[Step]:
    """channel 1 lines, then (if `status` is not None) channel 3 {"status": N}, then close.
    `channel_2` (0.56): one channel 2 (stderr) line after the first channel 1 line (Python 0.56
    delivers channel 2 too; TS 0.39.9 does not)."""
    pushes = [response_chunk(binary(channel=1), line.encode("utf-8")) for line in BUILD_LOG_LINES]
    if channel_2:
        pushes.insert(1, response_chunk(binary(channel=2), "warning: pip is old ✗\n".encode("utf-8")))
    if status is not None:
        pushes.append(response_chunk(binary(channel=3), json.dumps({"status": status}).encode("utf-8")))
    return [
        open_step("containers", "get_build_logs"),
        chunk_step(binary(kind="start"), then=[*pushes, server_close()]),
        client_close(),
    ]


# --------------------------------------------------------------------------- containers.build (0.56)

BUILD_CONTEXT = [bytes(range(256)) * 5, "tail of the archive ✓".encode("utf-8")]


def build_steps(open_reply: dict[str, Any], chunks: int, final: list[Push] | None = None) -> list[Step]:
    """containers.build (a request stream since 0.56): the invoke (control/open) is answered with
    `open_reply`; the start chunk and `chunks` data chunks come without pulls; after the client's
    close, `final` is pushed."""
    steps = [open_step("containers", "build", reply=open_reply), chunk_step(binary(kind="start"))]
    steps += [chunk_step(binary(kind="data")) for _ in range(chunks)]
    steps.append(client_close(then=list(final or [])))
    return steps


# --------------------------------------------------------------------------- containers.exec

EXEC_PROMPT = "ready ✓\n".encode("utf-8")
EXEC_STDIN = "ping héllo\n".encode("utf-8")
EXEC_STDERR = "warning: café\n".encode("utf-8")


def exec_steps(ops: list[dict[str, Any]], status: int) -> list[Step]:
    """start -> channel 1 prompt; stdin -> channel 1 echo of it; resize -> nothing (a resize to the
    size already set sends no chunk); the last input that goes on the wire -> channel 2 text,
    channel 3 {"status": N} and close."""
    steps = [
        open_step("containers", "exec"),
        chunk_step(binary(kind="start"), then=[response_chunk(binary(channel=1), EXEC_PROMPT)]),
    ]
    sent = []  # the ops that put a chunk on the wire
    last_size = None
    for op in ops:
        ((kind, value),) = op.items()
        if kind == "resize":
            if (value["width"], value["height"]) == last_size:
                continue  # both SDKs suppress a resize that repeats the previous size
            last_size = (value["width"], value["height"])
        sent.append(op)
    for i, op in enumerate(sent):
        ((kind, value),) = op.items()
        last = i == len(sent) - 1
        then: list[Push] = []
        if kind == "stdin":
            chunk = binary(kind="input", channel=1)
            then.append(response_chunk(binary(channel=1), base64.b64decode(value)))
        elif kind == "resize":
            chunk = binary(kind="input", channel=4, width=value["width"], height=value["height"])
        elif kind == "close_stdin":
            chunk = binary(kind="input", channel=255)
        elif kind == "kill":
            chunk = binary(kind="input", channel=5)
        else:
            raise ValueError(kind)
        if last:
            then += [
                response_chunk(binary(channel=2), EXEC_STDERR),
                response_chunk(binary(channel=3), json.dumps({"status": status}).encode("utf-8")),
                server_close(),
            ]
        steps.append(chunk_step(chunk, then=then))
    steps.append(client_close())
    return steps


EXEC_ERROR = error_chunk("container not running: c-1234", 1006)


def exec_error_steps() -> list[Step]:
    """An error chunk (and a normal close) right after the start chunk."""
    return [
        open_step("containers", "exec"),
        chunk_step(binary(kind="start"), then=[response_chunk(EXEC_ERROR), server_close()]),
        client_close(),
    ]


# --------------------------------------------------------------------------- sync.open

SYNC_PATH = "/docs/todo ✓.list"
SYNC_WIRE_PATH = "docs/todo ✓.list"
# MeshSchema JSON (as MeshSchema.to_json() writes it) of: root <todo> whose `items` children are
# <item text=string> elements. record_python.py checks it against its MeshSchema.
SYNC_SCHEMA_JSON = {'$root_tag_ref': '#/$defs/todo', 'type': 'object', 'additionalProperties': False, 'required': ['todo'], 'properties': {'todo': {'type': 'object', 'additionalProperties': False, 'required': ['items'], 'properties': {'items': {'type': 'array', 'items': {'anyOf': [{'$ref': '#/$defs/item'}]}}}}}, '$defs': {'todo': {'type': 'object', 'additionalProperties': False, 'required': ['todo'], 'properties': {'todo': {'type': 'object', 'additionalProperties': False, 'required': ['items'], 'properties': {'items': {'type': 'array', 'items': {'anyOf': [{'$ref': '#/$defs/item'}]}}}}}}, 'item': {'type': 'object', 'additionalProperties': False, 'required': ['item'], 'properties': {'item': {'type': 'object', 'additionalProperties': False, 'required': ['text'], 'properties': {'text': {'type': ['string', 'null']}}}}}}}
SYNC_REMOTE_ID = "00000000-0000-4000-8000-000000000777"


def sync_remote_update() -> str:
    """A Yjs v1 update (base64, as it travels) from another participant (pycrdt, client id 777):
    an <item> appended to the shared "xml" fragment."""
    import pycrdt

    doc = pycrdt.Doc(client_id=777)
    doc["xml"] = frag = pycrdt.XmlFragment()
    updates: list[bytes] = []
    doc.observe(lambda event: updates.append(event.update))
    with doc.transaction():
        item = frag.children.append(pycrdt.XmlElement("item"))
        item.attributes["$id"] = SYNC_REMOTE_ID
        item.attributes["text"] = "remote: café ☕"
    assert len(updates) == 1
    return b64(updates[0])


def sync_steps(schema_json: dict[str, Any], remote_update: str, local_chunks: int) -> list[Step]:
    """start -> state (empty tail: a new document); each local sync chunk -> ack, and after the
    first one a remote sync chunk; the client's echo of the remote update -> ack; the client's
    close -> the server's close. `local_chunks`: how many sync chunks the SDK sends for the local
    changes (one per document transaction: Python's append_child makes two)."""
    state = response_chunk(binary(kind="state", path=SYNC_WIRE_PATH, schema=schema_json), b"")
    remote = response_chunk(binary(kind="sync", path=SYNC_WIRE_PATH), remote_update.encode("ascii"))
    steps = [open_step("sync", "open"), chunk_step(binary(kind="start"), then=[state])]
    for i in range(local_chunks):
        steps.append(chunk_step(binary(kind="sync"), then=[remote] if i == 0 else []))
    steps.append(chunk_step(binary(kind="sync")))  # the echo of the remote update
    steps.append(client_close(then=[server_close()]))
    return steps
