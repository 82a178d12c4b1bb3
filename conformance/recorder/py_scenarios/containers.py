"""containers.* scenarios (the non-streaming tools; see streaming.py for the others).

py056_scenarios/containers.py derives its cases from these, so this module also imports under
meshagent-api 0.56.0, where ProjectStorageMountSpec became a named VolumeStorageMountSpec (the
`volumes` mount list): MOUNTS then holds the 0.56 equivalent, and the cases record what 0.56 sends.
"""

from __future__ import annotations

from typing import Any

from meshagent.api.room_server_client import DockerSecret
from meshagent.api.specs.service import (
    ContainerMountSpec,
    EmptyDirMountSpec,
    FileStorageMountSpec,
    ImageStorageMountSpec,
    RoomStorageMountSpec,
)

try:
    from meshagent.api.specs.service import ProjectStorageMountSpec

    PROJECT_MOUNT: dict[str, Any] = {"project": [ProjectStorageMountSpec(path="/project")]}
except ImportError:  # meshagent-api 0.56.0
    from meshagent.api.specs.service import VolumeStorageMountSpec

    PROJECT_MOUNT = {"volumes": [VolumeStorageMountSpec(name="project", path="/project")]}

from .common import LONG_TEXT, Scenario, case, error_reply, json_reply


MOUNTS = ContainerMountSpec(
    room=[RoomStorageMountSpec(path="/data", subpath="projects/ünï")],
    **PROJECT_MOUNT,
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
        "py-containers-list-images",
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
    case("py-containers-delete-image", "containers.delete_image", {"image": "ghcr.io/example/chatbot:1.2.3"}),
    case("py-containers-pull-image", "containers.pull_image", {"tag": "python:3.13-slim"}),
    case(
        "py-containers-pull-image-credentials",
        "containers.pull_image",
        {"tag": "ghcr.io/example/private:1", "credentials": _creds(CREDENTIALS)},
        run=lambda r: r.containers.pull_image(tag="ghcr.io/example/private:1", credentials=CREDENTIALS),
    ),
    case(
        "py-containers-push-image",
        "containers.push_image",
        {"tag": "ghcr.io/example/chatbot:1.2.4"},
        json_reply({"container_id": "c-push-1"}),
    ),
    case(
        "py-containers-push-image-private-credentials",
        "containers.push_image",
        {"tag": "ghcr.io/example/chatbot:1.2.4", "credentials": _creds(CREDENTIALS[:1]), "private": True},
        json_reply({"container_id": "c-push-2"}),
        run=lambda r: r.containers.push_image(tag="ghcr.io/example/chatbot:1.2.4", credentials=CREDENTIALS[:1], private=True),
    ),
    case(
        "py-containers-load",
        "containers.load",
        {"archive_path": "images/chatbot ✓.tar"},
        json_reply({"resolved_ref": "ghcr.io/example/chatbot:1.2.3", "refs": ["ghcr.io/example/chatbot:1.2.3", "chatbot:latest"]}),
    ),
    case(
        "py-containers-load-image",
        "containers.load_image",
        {"mounts": _mounts(MOUNTS_SMALL), "archive_path": "/data/images/chatbot.tar"},
        json_reply({"container_id": "c-load-1"}),
        run=lambda r: r.containers.load_image(mounts=[MOUNTS_SMALL], archive_path="/data/images/chatbot.tar"),
    ),
    case(
        "py-containers-load-image-private",
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
        "py-containers-save-image-default-private",
        "containers.save_image",
        {"tag": "chatbot:1.2.3", "mounts": [], "archive_path": "/data/out.tar"},
        json_reply({"container_id": "c-save-2"}),
        run=lambda r: r.containers.save_image(tag="chatbot:1.2.3", mounts=[], archive_path="/data/out.tar"),
    ),
    case(
        "py-containers-save-image",
        "containers.save_image",
        {"tag": "chatbot:1.2.3", "mounts": _mounts(MOUNTS_SMALL), "archive_path": "/data/out.tar", "private": True},
        json_reply({"container_id": "c-save-1"}),
        run=lambda r: r.containers.save_image(
            tag="chatbot:1.2.3", mounts=[MOUNTS_SMALL], archive_path="/data/out.tar", private=True
        ),
    ),
    case(
        "py-containers-run",
        "containers.run",
        {"image": "python:3.13-slim"},
        json_reply({"container_id": "c-run-1"}),
        run=lambda r: r.containers.run(image="python:3.13-slim"),
    ),
    # Every option, with a > 1024 byte file mount.
    case(
        "py-containers-run-options",
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
        "py-containers-build",
        "containers.build",
        {"tag": "chatbot:dev", "mounts": _mounts(MOUNTS_SMALL), "context_path": "/data/src"},
        json_reply({"build_id": "b-1"}),
        run=lambda r: r.containers.build(tag="chatbot:dev", mounts=[MOUNTS_SMALL], context_path="/data/src"),
    ),
    case(
        "py-containers-build-options",
        "containers.build",
        {
            "tag": "chatbot:dev",
            "mounts": _mounts(MOUNTS_SMALL),
            "context_path": "/data/src ✓",
            "dockerfile_path": "Dockerfile.dev",
            "private": True,
            "credentials": _creds(CREDENTIALS[1:]),
            "context_archive_arch": "linux/amd64",
        },
        json_reply({"build_id": "b-5"}),
        run=lambda r: r.containers.build(
            tag="chatbot:dev",
            mounts=[MOUNTS_SMALL],
            context_path="/data/src ✓",
            dockerfile_path="Dockerfile.dev",
            private=True,
            credentials=CREDENTIALS[1:],
            context_archive_arch="linux/amd64",
        ),
    ),
    case(
        "py-containers-start-build-minimal",
        "containers.start_build",
        {"tag": "chatbot:dev", "mounts": [], "context_path": "/data/src"},
        json_reply({"build_id": "b-6"}),
        run=lambda r: r.containers.start_build(tag="chatbot:dev", mounts=[], context_path="/data/src"),
    ),
    case(
        "py-containers-start-build",
        "containers.start_build",
        {
            "tag": "chatbot:dev",
            "mounts": _mounts(MOUNTS_SMALL),
            "context_path": "",
            "dockerfile_path": "docker/Dockerfile ✓",
            "private": True,
            "credentials": _creds(CREDENTIALS),
            "context_archive_path": "src.tar.gz",
            "context_archive_ref": "ghcr.io/example/src:1",
            "context_archive_mount_path": "/ctx",
            "context_archive_arch": "linux/arm64",
        },
        json_reply({"build_id": "b-2"}),
        run=lambda r: r.containers.start_build(
            tag="chatbot:dev",
            mounts=[MOUNTS_SMALL],
            context_path="",
            dockerfile_path="docker/Dockerfile ✓",
            private=True,
            credentials=CREDENTIALS,
            context_archive_path="src.tar.gz",
            context_archive_ref="ghcr.io/example/src:1",
            context_archive_mount_path="/ctx",
            context_archive_arch="linux/arm64",
        ),
    ),
    case(
        "py-containers-list-builds",
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
    case("py-containers-cancel-build", "containers.cancel_build", {"build_id": "b-2"}),
    case("py-containers-delete-build", "containers.delete_build", {"build_id": "b-1"}),
    case(
        "py-containers-run-service",
        "containers.run_service",
        {"service_id": "svc-chatbot"},
        json_reply({"container_id": "c-svc-1"}),
    ),
    case(
        "py-containers-run-service-env",
        "containers.run_service",
        {"service_id": "svc-chatbot", "env": [{"key": "MODE", "value": "démo"}]},
        json_reply({"container_id": "c-svc-2"}),
        run=lambda r: r.containers.run_service(service_id="svc-chatbot", env={"MODE": "démo"}),
    ),
    case(
        "py-containers-stop-container",
        "containers.stop_container",
        {"container_id": "c-1234"},
        run=lambda r: r.containers.stop(container_id="c-1234"),
    ),
    case(
        "py-containers-stop-container-force",
        "containers.stop_container",
        {"container_id": "c-1234", "force": True},
        run=lambda r: r.containers.stop(container_id="c-1234", force=True),
    ),
    case(
        "py-containers-stop-container-error-not-found",
        "containers.stop_container",
        {"container_id": "c-missing"},
        error_reply(6001, "container not found: c-missing"),
        run=lambda r: r.containers.stop(container_id="c-missing"),
    ),
    case(
        "py-containers-wait-for-exit",
        "containers.wait_for_exit",
        {"container_id": "c-1234"},
        json_reply({"exit_code": 137}),
    ),
    case(
        "py-containers-wait-for-exit-error-not-found",
        "containers.wait_for_exit",
        {"container_id": "c-missing"},
        error_reply(6001, "container not found: c-missing"),
    ),
    case(
        "py-containers-delete-container",
        "containers.delete_container",
        {"container_id": "c-1234"},
        run=lambda r: r.containers.delete(container_id="c-1234"),
    ),
    case(
        "py-containers-list-containers",
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
        "py-containers-list-containers-all",
        "containers.list_containers",
        {"all": True},
        json_reply({"containers": []}),
        run=lambda r: r.containers.list(all=True),
    ),
]
