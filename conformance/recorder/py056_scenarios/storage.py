"""storage.* in 0.56: the unchanged calls reused from 0.35.8, plus move, download_url (the SDK now
sends `download: null`), the storage.file.moved push and the upload/download streams (request
chunks are one-way in 0.56: the fake room does not answer them)."""

from __future__ import annotations

from typing import Any

from meshagent.api import RoomClient

import stream_cases as streams
from fake_room import Push
from py_scenarios.common import EMPTY, Scenario, b64, json_reply
from py_scenarios.storage import STORAGE_SCENARIOS as STORAGE_035

from .common import derive


async def _aiter(items: list[Any]):
    for item in items:
        yield item


async def _download(room: RoomClient, path: str) -> dict[str, Any]:
    f = await room.storage.download(path=path)
    return {"name": f.name, "mime_type": f.mime_type, "size": len(f.data), "data": b64(f.data)}


STORAGE_SCENARIOS: list[Scenario] = [
    *derive(STORAGE_035),
    Scenario(
        id="py056-storage-move",
        method="storage.move",
        arguments={"source_path": "docs/a.txt", "destination_path": "archive/a ✓.txt"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py056-storage-move-overwrite",
        method="storage.move",
        arguments={"source_path": "docs/a.txt", "destination_path": "docs/b.txt", "overwrite": True},
        replies=[EMPTY],
    ),
    Scenario(
        id="py056-storage-move-error-already-exists",
        method="storage.move",
        arguments={"source_path": "docs/a.txt", "destination_path": "docs/b.txt"},
        replies=[{"type": "error", "text": "destination exists", "code": 3005}],
    ),
    Scenario(
        id="py056-storage-download-url-extra-key",
        method="storage.download_url",
        arguments={"path": "docs/a.txt"},
        # 0.56 validates the reply with extra="forbid": an unknown key is an unexpected response.
        replies=[json_reply({"url": "https://files.example.test/a.txt", "expires_at": "2024-01-01T00:00:00Z"})],
    ),
    Scenario(
        id="py056-storage-exists-extra-key",
        method="storage.exists",
        arguments={"path": "docs/a.txt"},
        replies=[json_reply({"exists": True, "is_folder": False})],
    ),
    Scenario(
        id="py056-storage-list-extra-key",
        method="storage.list",
        arguments={"path": "docs"},
        replies=[json_reply({"files": [], "cursor": None})],
    ),
    # Event headers are validated with extra="forbid" too: the push with an extra key is dropped
    # (the handler raises inside the SDK), the next one is delivered.
    Scenario(
        id="py056-storage-events-extra-key",
        method="events",
        arguments={},
        pushes=[
            Push(type="storage.file.updated", header={"path": "docs/a.txt", "participant_id": "p-remote", "size": 3}),
            Push(type="storage.file.deleted", header={"path": "docs/b.txt", "participant_id": "p-remote"}),
        ],
        listen=["file.updated", "file.deleted"],
        expect_events=1,
    ),
    Scenario(
        id="py056-storage-events-moved",
        method="events",
        arguments={},
        pushes=[
            Push(
                type="storage.file.moved",
                header={"source_path": "docs/a.txt", "destination_path": "archive/ä.txt", "participant_id": "p-remote"},
            ),
            Push(type="storage.file.updated", header={"path": "archive/ä.txt", "participant_id": "p-remote"}),
        ],
        listen=["file.moved", "file.updated"],
    ),
    Scenario(
        id="py056-storage-upload-multi-chunk",
        method="storage.upload",
        arguments={"path": "docs/notes ✓.txt", "overwrite": True},
        input=[b64(streams.UPLOAD_TEXT)],
        steps=streams.upload_sized_steps(streams.UPLOAD_TEXT, streams.UPLOAD_PULL),
        run=lambda room: room.storage.upload(path="docs/notes ✓.txt", data=streams.UPLOAD_TEXT, overwrite=True),
    ),
    Scenario(
        id="py056-storage-upload-stream-unsized",
        method="storage.upload",
        arguments={"path": "media/clip.bin", "name": "clip (1).bin", "mime_type": "video/mp2t"},
        input=[b64(p) for p in streams.UPLOAD_PARTS],
        steps=streams.upload_unsized_steps(1),
        run=lambda room: room.storage.upload_stream(
            path="media/clip.bin", chunks=_aiter(streams.UPLOAD_PARTS), name="clip (1).bin", mime_type="video/mp2t"
        ),
    ),
    Scenario(
        id="py056-storage-upload-error-chunk",
        method="storage.upload",
        arguments={"path": "docs/big.bin"},
        input=[b64(streams.UPLOAD_ERROR_DATA)],
        steps=streams.upload_error_steps(),
        run=lambda room: room.storage.upload(path="docs/big.bin", data=streams.UPLOAD_ERROR_DATA),
    ),
    Scenario(
        id="py056-storage-download-multi-chunk",
        method="storage.download",
        arguments={"path": "reports/rapport ✓.md"},
        steps=streams.download_steps("rapport ✓.md", "text/markdown", streams.DOWNLOAD_TEXT, streams.DOWNLOAD_PIECE),
        run=lambda room: _download(room, "reports/rapport ✓.md"),
    ),
    Scenario(
        id="py056-storage-download-empty",
        method="storage.download",
        arguments={"path": "docs/empty.txt"},
        steps=streams.download_steps("empty.txt", "text/plain", b"", 1),
        run=lambda room: _download(room, "docs/empty.txt"),
    ),
]
