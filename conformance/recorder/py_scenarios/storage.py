"""storage.* scenarios, including the storage.file.* pushes."""

from __future__ import annotations

from fake_room import Push

from .common import EMPTY, Scenario, json_reply


STORAGE_SCENARIOS: list[Scenario] = [
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
]
