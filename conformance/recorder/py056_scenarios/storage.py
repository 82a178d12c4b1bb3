"""storage.* in 0.56: the unchanged calls reused from 0.35.8, plus move, download_url (the SDK now
sends `download: null`), the storage.file.moved push and the upload/download streams (request
chunks are one-way in 0.56: the fake room does not answer them)."""

from __future__ import annotations

from fake_room import Push
from py_scenarios.common import EMPTY, Scenario, json_reply
from py_scenarios.storage import STORAGE_SCENARIOS as STORAGE_035
from py_scenarios.streaming import STORAGE_STREAM_SCENARIOS as STORAGE_STREAMS_035

from .common import derive


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
    # upload / download streams: the 0.35.8 calls (without the abnormal close)
    *derive(STORAGE_STREAMS_035, skip=["py-storage-download-abnormal-close"]),
]
