"""mounts.list (new in 0.48, Python only)."""

from __future__ import annotations

from py_scenarios.common import Scenario, case, error_reply, json_reply

MOUNTS_SCENARIOS: list[Scenario] = [
    case(
        "py056-mounts-list",
        "mounts.list",
        {},
        json_reply({"volumes": [
            {"id": "vol-1", "name": "project ✓", "required": True, "description": "shared project files",
             "metadata": {"team": "core", "n": 2}, "annotations": {"meshagent.dev/backup": "daily"},
             "storage_class": "juice", "max_size_mb": 10240,
             "consumers": [{"kind": "room"}, {"kind": "container", "container_id": "c-1234"}]},
            {"id": "vol-2", "name": "scratch", "required": False},
        ]}),
    ),
    case("py056-mounts-list-empty", "mounts.list", {}, json_reply({"volumes": []})),
    case("py056-mounts-list-error-permission-denied", "mounts.list", {}, error_reply(1001, "mounts are not allowed")),
]
