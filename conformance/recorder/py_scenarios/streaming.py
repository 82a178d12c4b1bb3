"""The streaming tools (README.md, Streaming tools), but the database ones (database_streams.py).

The server scripts and payloads are shared with the TypeScript recorder (stream_cases.py). Each
case has `input` (what the caller fed into the stream) and its own result shape (README.md).

This module also imports under meshagent-api 0.56.0: py056_scenarios derives its storage,
developer.logs, containers and sync.open streaming cases from these."""

from __future__ import annotations

import asyncio
import base64
import types
import uuid
from typing import Any, Awaitable, Callable

import meshagent.api.room_server_client as _rsc
from meshagent.api import RoomClient
from meshagent.api.schema import ChildProperty, ElementType, MeshSchema, ValueProperty

import stream_cases as streams

from .common import Running, Scenario, b64


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
    server = Running.server
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


STORAGE_STREAM_SCENARIOS: list[Scenario] = [
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
]

# developer.logs, containers.logs / get_build_logs / exec and sync.open
TOOL_STREAM_SCENARIOS: list[Scenario] = [
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
