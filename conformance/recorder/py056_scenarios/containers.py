"""containers.* in 0.56 (a copy of py_scenarios/containers.py, adapted): start_build is gone and
build is a request stream (see streaming.py); ProjectStorageMountSpec became VolumeStorageMountSpec;
run sends `annotations` and `template`; Image/RoomContainer/BuildJob replies have new fields;
wait_for_exit is validated as {exit_code, reason?, message?, oom_killed?}; inspect_image is new."""

from __future__ import annotations

from typing import Any

from meshagent.api.room_server_client import DockerSecret
from meshagent.api.specs.service import (
    ContainerMountSpec,
    EmptyDirMountSpec,
    FileStorageMountSpec,
    ImageStorageMountSpec,
    VolumeStorageMountSpec,
    RoomStorageMountSpec,
)

from py_scenarios.common import LONG_TEXT, Scenario, case, error_reply, json_reply


MOUNTS = ContainerMountSpec(
    room=[RoomStorageMountSpec(path="/data", subpath="projects/ünï")],
    volumes=[VolumeStorageMountSpec(name="project", path="/project")],
    images=[ImageStorageMountSpec(image="ghcr.io/example/tools:1", path="/tools")],
    files=[FileStorageMountSpec(path="/etc/app/config.toml", text='name = "démo ✓"\n' + LONG_TEXT)],
    empty_dirs=[EmptyDirMountSpec(path="/tmp/scratch")],
)
MOUNTS_SMALL = ContainerMountSpec(room=[RoomStorageMountSpec(path="/data", read_only=True)])
CREDENTIALS = [
    DockerSecret(registry="ghcr.io", username="bot", password="p@ss-✓"),
    DockerSecret(username="anon", password=""),
]


def _mounts(*specs: ContainerMountSpec) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json", exclude_none=True) for m in specs]


def _creds(creds: list[DockerSecret]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in creds]


CONTAINER = {
    "id": "c-1234",
    "image": "ghcr.io/example/chatbot:1.2.3",
    "status": "Up 5 minutes",
    "name": "chatbot ✓",
    "started_by": {"id": "p-local", "name": "alice"},
    "state": "RUNNING",
    "private": False,
    "service_id": "svc-chatbot",
    "created_at": "2025-01-02T03:04:05Z",
}

CONTAINERS_SCENARIOS: list[Scenario] = [
    case(
        "py056-containers-list-images",
        "containers.list_images",
        {},
        json_reply(
            {
                "images": [
                    {"id": "sha256:abc", "tags": ["ghcr.io/example/chatbot:1.2.3", "latest"], "size": 123456789, "labels": {"org.opencontainers.image.title": "chatbot ✓"}},
                    {"id": "sha256:def", "tags": [], "size": 0, "labels": [{"key": "a", "value": "b"}, {"key": "c", "value": ""}]},
                ]
            }
        ),
    ),
    case("py056-containers-delete-image", "containers.delete_image", {"image": "ghcr.io/example/chatbot:1.2.3"}),
    case("py056-containers-pull-image", "containers.pull_image", {"tag": "python:3.13-slim"}),
    case(
        "py056-containers-pull-image-credentials",
        "containers.pull_image",
        {"tag": "ghcr.io/example/private:1", "credentials": _creds(CREDENTIALS)},
        run=lambda r: r.containers.pull_image(tag="ghcr.io/example/private:1", credentials=CREDENTIALS),
    ),
    case(
        "py056-containers-push-image",
        "containers.push_image",
        {"tag": "ghcr.io/example/chatbot:1.2.4"},
        json_reply({"container_id": "c-push-1"}),
    ),
    case(
        "py056-containers-push-image-private-credentials",
        "containers.push_image",
        {"tag": "ghcr.io/example/chatbot:1.2.4", "credentials": _creds(CREDENTIALS[:1]), "private": True},
        json_reply({"container_id": "c-push-2"}),
        run=lambda r: r.containers.push_image(tag="ghcr.io/example/chatbot:1.2.4", credentials=CREDENTIALS[:1], private=True),
    ),
    case(
        "py056-containers-load",
        "containers.load",
        {"archive_path": "images/chatbot ✓.tar"},
        json_reply({"resolved_ref": "ghcr.io/example/chatbot:1.2.3", "refs": ["ghcr.io/example/chatbot:1.2.3", "chatbot:latest"]}),
    ),
    case(
        "py056-containers-load-image",
        "containers.load_image",
        {"mounts": _mounts(MOUNTS_SMALL), "archive_path": "/data/images/chatbot.tar"},
        json_reply({"container_id": "c-load-1"}),
        run=lambda r: r.containers.load_image(mounts=[MOUNTS_SMALL], archive_path="/data/images/chatbot.tar"),
    ),
    case(
        "py056-containers-load-image-private",
        "containers.load_image",
        {"mounts": _mounts(MOUNTS_SMALL, ContainerMountSpec(empty_dirs=[EmptyDirMountSpec(path="/scratch")])), "archive_path": "/data/images/ünï.tar", "private": True},
        json_reply({"container_id": "c-load-2"}),
        run=lambda r: r.containers.load_image(
            mounts=[MOUNTS_SMALL, ContainerMountSpec(empty_dirs=[EmptyDirMountSpec(path="/scratch")])],
            archive_path="/data/images/ünï.tar",
            private=True,
        ),
    ),
    case(
        "py056-containers-save-image-default-private",
        "containers.save_image",
        {"tag": "chatbot:1.2.3", "mounts": [], "archive_path": "/data/out.tar"},
        json_reply({"container_id": "c-save-2"}),
        run=lambda r: r.containers.save_image(tag="chatbot:1.2.3", mounts=[], archive_path="/data/out.tar"),
    ),
    case(
        "py056-containers-save-image",
        "containers.save_image",
        {"tag": "chatbot:1.2.3", "mounts": _mounts(MOUNTS_SMALL), "archive_path": "/data/out.tar", "private": True},
        json_reply({"container_id": "c-save-1"}),
        run=lambda r: r.containers.save_image(
            tag="chatbot:1.2.3", mounts=[MOUNTS_SMALL], archive_path="/data/out.tar", private=True
        ),
    ),
    case(
        "py056-containers-run",
        "containers.run",
        {"image": "python:3.13-slim"},
        json_reply({"container_id": "c-run-1"}),
        run=lambda r: r.containers.run(image="python:3.13-slim"),
    ),
    # Every option, with a > 1024 byte file mount.
    case(
        "py056-containers-run-options",
        "containers.run",
        {
            "image": "ghcr.io/example/chatbot:1.2.3",
            "command": "python -m chatbot --name 'démo ✓'",
            "working_dir": "/app",
            "env": [{"key": "LOG_LEVEL", "value": "debug"}, {"key": "EMPTY", "value": ""}],
            "mount_path": "/data",
            "mount_subpath": "projects",
            "role": "agent",
            "participant_name": "chatbot ✓",
            "ports": [{"container_port": 8080, "host_port": 18080}],
            "credentials": _creds(CREDENTIALS[:1]),
            "name": "chatbot-1",
            "mounts": MOUNTS.model_dump(mode="json", exclude_none=True),
            "writable_root_fs": False,
            "private": True,
        },
        json_reply({"container_id": "c-run-2"}),
        run=lambda r: r.containers.run(
            image="ghcr.io/example/chatbot:1.2.3",
            command="python -m chatbot --name 'démo ✓'",
            working_dir="/app",
            env={"LOG_LEVEL": "debug", "EMPTY": ""},
            mount_path="/data",
            mount_subpath="projects",
            role="agent",
            participant_name="chatbot ✓",
            ports={8080: 18080},
            credentials=CREDENTIALS[:1],
            name="chatbot-1",
            mounts=MOUNTS,
            writable_root_fs=False,
            private=True,
        ),
    ),
    case(
        "py056-containers-list-builds",
        "containers.list_builds",
        {},
        json_reply(
            {
                "builds": [
                    {"id": "b-1", "tag": "chatbot:dev", "status": "succeeded", "exit_code": 0},
                    {"id": "b-2", "tag": "chatbot:dev", "status": "running", "exit_code": None},
                    {"id": "b-3", "tag": "broken ✗", "status": "failed", "exit_code": 2},
                    {"id": "b-4", "tag": "x", "status": "queued"},
                ]
            }
        ),
    ),
    case("py056-containers-cancel-build", "containers.cancel_build", {"build_id": "b-2"}),
    case("py056-containers-delete-build", "containers.delete_build", {"build_id": "b-1"}),
    case(
        "py056-containers-run-service",
        "containers.run_service",
        {"service_id": "svc-chatbot"},
        json_reply({"container_id": "c-svc-1"}),
    ),
    case(
        "py056-containers-run-service-env",
        "containers.run_service",
        {"service_id": "svc-chatbot", "env": [{"key": "MODE", "value": "démo"}]},
        json_reply({"container_id": "c-svc-2"}),
        run=lambda r: r.containers.run_service(service_id="svc-chatbot", env={"MODE": "démo"}),
    ),
    case(
        "py056-containers-stop-container",
        "containers.stop_container",
        {"container_id": "c-1234"},
        run=lambda r: r.containers.stop(container_id="c-1234"),
    ),
    case(
        "py056-containers-stop-container-force",
        "containers.stop_container",
        {"container_id": "c-1234", "force": True},
        run=lambda r: r.containers.stop(container_id="c-1234", force=True),
    ),
    case(
        "py056-containers-stop-container-error-not-found",
        "containers.stop_container",
        {"container_id": "c-missing"},
        error_reply(6001, "container not found: c-missing"),
        run=lambda r: r.containers.stop(container_id="c-missing"),
    ),
    case(
        "py056-containers-wait-for-exit",
        "containers.wait_for_exit",
        {"container_id": "c-1234"},
        json_reply({"exit_code": 137}),
    ),
    case(
        "py056-containers-wait-for-exit-error-not-found",
        "containers.wait_for_exit",
        {"container_id": "c-missing"},
        error_reply(6001, "container not found: c-missing"),
    ),
    case(
        "py056-containers-delete-container",
        "containers.delete_container",
        {"container_id": "c-1234"},
        run=lambda r: r.containers.delete(container_id="c-1234"),
    ),
    case(
        "py056-containers-list-containers",
        "containers.list_containers",
        {},
        json_reply(
            {
                "containers": [
                    CONTAINER,
                    {"id": "c-5678", "started_by": {"id": "p-agent", "name": ""}, "state": "EXITED", "private": True},
                ]
            }
        ),
        run=lambda r: r.containers.list(),
    ),
    case(
        "py056-containers-list-containers-all",
        "containers.list_containers",
        {"all": True},
        json_reply({"containers": []}),
        run=lambda r: r.containers.list(all=True),
    ),
]

IMAGE_056 = {
    "id": "sha256:abc",
    "preferred_ref": "ghcr.io/example/chatbot:1.2.3",
    "references": ["ghcr.io/example/chatbot:1.2.3", "chatbot:latest"],
    "labels": {"org.opencontainers.image.title": "chatbot ✓"},
    "created_at": "2025-01-02T03:04:05Z",
    "updated_at": "2025-01-03T04:05:06.250000+00:00",
    "target_media_type": "application/vnd.oci.image.index.v1+json",
}

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
        json_reply({
            "image": IMAGE_056,
            "target": {"digest": "sha256:idx", "media_type": "application/vnd.oci.image.index.v1+json", "size": 1024,
                       "annotations": {}},
            "selected_manifest": {"digest": "sha256:man", "media_type": "application/vnd.oci.image.manifest.v1+json",
                                  "size": 512},
            "manifests": [
                {"descriptor": {"digest": "sha256:man", "size": 512}, "platform_os": "linux",
                 "platform_architecture": "amd64"},
                {"descriptor": {"digest": "sha256:man2"}, "platform_os": "linux", "platform_architecture": "arm64",
                 "platform_variant": "v8"},
            ],
            "config": {"digest": "sha256:cfg", "size": 2048},
            "layers": [{"digest": "sha256:l1", "size": 1000000, "annotations": {"org.opencontainers.image.title": "ä"}}],
            "content_size": 1003584,
        }),
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
        json_reply({"builds": [{
            "id": "b-7", "tag": "chatbot:dev", "status": "succeeded", "exit_code": 0,
            "published_images": [{"tag": "chatbot:dev", "digest": "sha256:pub", "resolved_ref": "ghcr.io/x/chatbot@sha256:pub",
                                  "optimized": True}],
        }]}),
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
