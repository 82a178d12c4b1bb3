"""storage.* scenarios: the same argument values and server replies as the Python
scenarios, so the two SDKs are directly comparable (ids "ts-…" here, "py-…" there)."""

from __future__ import annotations

from fake_room import Push

from .common import EMPTY, Scenario, error_reply, json_reply, plain


STORAGE: list[Scenario] = [
    plain("ts-storage-exists-true", "storage.exists", {"path": "docs/a.txt"},
          "storage.exists", ["docs/a.txt"], json_reply({"exists": True})),
    plain("ts-storage-exists-false", "storage.exists", {"path": "docs/missing.txt"},
          "storage.exists", ["docs/missing.txt"], json_reply({"exists": False})),
    plain("ts-storage-exists-error-not-found", "storage.exists", {"path": "nope/a.txt"},
          "storage.exists", ["nope/a.txt"], error_reply("not found", 3001)),
    plain("ts-storage-stat-exists", "storage.stat", {"path": "docs/a.txt"},
          "storage.stat", ["docs/a.txt"],
          json_reply({
              "exists": True,
              "name": "a.txt",
              "is_folder": False,
              "size": 1234,
              "created_at": "2024-01-02T03:04:05.678000+00:00",
              "updated_at": "2024-06-07T08:09:10+00:00",
          })),
    plain("ts-storage-stat-missing", "storage.stat", {"path": "docs/missing.txt"},
          "storage.stat", ["docs/missing.txt"], json_reply({"exists": False})),
    plain("ts-storage-list", "storage.list", {"path": "docs"},
          "storage.list", ["docs"],
          json_reply({
              "files": [
                  {"name": "reports", "is_folder": True, "size": None, "created_at": None, "updated_at": None},
                  {
                      "name": "résumé-日本語-✓.txt",
                      "is_folder": False,
                      "size": 42,
                      "created_at": "2024-01-02T03:04:05+00:00",
                      "updated_at": "2024-01-03T04:05:06.250000+00:00",
                  },
              ]
          })),
    plain("ts-storage-delete", "storage.delete", {"path": "docs/old.txt"},
          "storage.delete", ["docs/old.txt", {}], EMPTY),
    plain("ts-storage-delete-recursive", "storage.delete", {"path": "docs/old-folder", "recursive": True},
          "storage.delete", ["docs/old-folder", {"recursive": True}], EMPTY),
    plain("ts-storage-download-url", "storage.download_url", {"path": "docs/a.txt"},
          "storage.downloadUrl", ["docs/a.txt"],
          json_reply({"url": "https://files.example.test/rooms/test-room/docs/a.txt?sig=abc123"})),
    Scenario(
        id="ts-storage-events",
        method="events",
        arguments={},
        pushes=[
            Push(type="storage.file.updated", header={"path": "docs/a.txt", "participant_id": "p-remote"}),
            Push(type="storage.file.deleted", header={"path": "docs/ünïcödé.txt", "participant_id": "p-remote"}),
        ],
        listen=[("storage", "file.updated"), ("storage", "file.deleted")],
    ),
]
