"""containers.* in 0.56: the 0.35.8 cases (py_scenarios/containers.py) where the call is the same,
and the 0.56 additions. start_build is gone and build is a request stream (see streaming.py);
ProjectStorageMountSpec became VolumeStorageMountSpec (py_scenarios/containers.py builds MOUNTS with
it under 0.56); run sends `annotations` and `template`; Image/RoomContainer/BuildJob replies have
new fields; wait_for_exit is validated as {exit_code, reason?, message?, oom_killed?};
inspect_image is new."""

from __future__ import annotations

from py_scenarios.common import Scenario, case, error_reply, json_reply
from replies_056 import IMAGE_056, INSPECT_IMAGE_REPLY, PUBLISHED_BUILDS_REPLY
from py_scenarios.containers import CONTAINER, CONTAINERS_SCENARIOS as CONTAINERS_035

from .common import derive

CONTAINERS_SCENARIOS: list[Scenario] = derive(
    CONTAINERS_035,
    skip=[
        "py-containers-build",
        "py-containers-build-options",
        "py-containers-start-build-minimal",
        "py-containers-start-build",
    ],
)

CONTAINERS_SCENARIOS += [
    case(
        "py056-containers-list-images-056-fields",
        "containers.list_images",
        {},
        json_reply({"images": [IMAGE_056, {"id": "sha256:def"}]}),
    ),
    case(
        "py056-containers-inspect-image",
        "containers.inspect_image",
        {"image_id": "sha256:abc"},
        json_reply(INSPECT_IMAGE_REPLY),
    ),
    case(
        "py056-containers-inspect-image-error-not-found",
        "containers.inspect_image",
        {"image_id": "sha256:missing"},
        error_reply(1003, "image not found"),
    ),
    case(
        "py056-containers-run-template-annotations",
        "containers.run",
        {"image": "python:3.13-slim", "annotations": {"meshagent.dev/owner": "alice ✓"}, "template": "agent"},
        json_reply({"container_id": "c-run-3"}),
        run=lambda r: r.containers.run(image="python:3.13-slim", annotations={"meshagent.dev/owner": "alice ✓"},
                                       template="agent"),
    ),
    case(
        "py056-containers-wait-for-exit-status",
        "containers.wait_for_exit",
        {"container_id": "c-1234"},
        json_reply({"exit_code": 137, "reason": "OOMKilled", "message": "out of memory ✗", "oom_killed": True}),
        run=lambda r: r.containers.wait_for_exit_status(container_id="c-1234"),
    ),
    case(
        "py056-containers-wait-for-exit-bad-reply",
        "containers.wait_for_exit",
        {"container_id": "c-1234"},
        json_reply({"exit_code": True}),
    ),
    case(
        "py056-containers-list-builds-published",
        "containers.list_builds",
        {},
        json_reply(PUBLISHED_BUILDS_REPLY),
    ),
    case(
        "py056-containers-list-containers-056-fields",
        "containers.list_containers",
        {},
        json_reply({"containers": [{
            **CONTAINER,
            "image_id": "sha256:abc",
            "ports": [{"container_port": 8080, "host_port": 18080}],
            "mounts": {"room": [{"path": "/data", "read_only": False}]},
            "stats": {"cpu_usage_nano_cores": 1500000, "memory_usage_bytes": 104857600,
                      "memory_working_set_bytes": 52428800, "timestamp_ns": 1717171717000000000},
            "exit_status": {"exit_code": 0},
        }]}),
        run=lambda r: r.containers.list(),
    ),
]
