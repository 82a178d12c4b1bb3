"""storage.* for TS 0.39.9: the 0.35.8 scenarios reused, plus move, downloadUrl (TS sends {path}
only) and the storage.file.moved push."""

from __future__ import annotations

from fake_room import Push
from ts_scenarios.common import EMPTY, Scenario, error_reply, plain
from ts_scenarios.storage import STORAGE as STORAGE_035

from .common import derive

STORAGE: list[Scenario] = [
    *derive(STORAGE_035),
    plain("ts039-storage-move", "storage.move", {"source_path": "docs/a.txt", "destination_path": "archive/a ✓.txt"},
          "storage.move", ["docs/a.txt", "archive/a ✓.txt"], EMPTY),
    plain("ts039-storage-move-overwrite", "storage.move",
          {"source_path": "docs/a.txt", "destination_path": "docs/b.txt", "overwrite": True},
          "storage.move", ["docs/a.txt", "docs/b.txt", {"overwrite": True}], EMPTY),
    plain("ts039-storage-move-error-already-exists", "storage.move",
          {"source_path": "docs/a.txt", "destination_path": "docs/b.txt"},
          "storage.move", ["docs/a.txt", "docs/b.txt"], error_reply("destination exists", 3005)),
    Scenario(
        id="ts039-storage-events-moved",
        method="events",
        arguments={},
        pushes=[
            Push(type="storage.file.moved",
                 header={"source_path": "docs/a.txt", "destination_path": "archive/ä.txt", "participant_id": "p-remote"}),
            Push(type="storage.file.updated", header={"path": "archive/ä.txt", "participant_id": "p-remote"}),
        ],
        listen=[("storage", "file.moved"), ("storage", "file.updated")],
    ),
]
