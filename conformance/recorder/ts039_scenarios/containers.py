"""containers.* additions for TS 0.39.9: build is a request stream (start `tag`, data chunks
without pulls, each acked; the invoke must be answered with json {build_id}), inspectImage, the
0.39 Image fields, waitForExit's 0.56 reply and start_build gone. The rest is reused from 0.35.8."""

from __future__ import annotations

from replies_056 import IMAGE_056, INSPECT_IMAGE_REPLY, PUBLISHED_BUILDS_REPLY
from stream_cases import BUILD_CONTEXT, build_steps
from ts_scenarios.common import Scenario, b64, error_reply, json_reply, plain

from .common import Scenario039


CONTAINERS_039: list[Scenario] = [
    Scenario039(
        id="ts039-containers-build",
        method="containers.build",
        arguments={"tag": "chatbot:dev", "mount_path": "/data", "context_path": "src ✓",
                   "size": sum(len(c) for c in BUILD_CONTEXT)},
        input=[b64(c) for c in BUILD_CONTEXT],
        call=("containers.build", [{"tag": "chatbot:dev", "mountPath": "/data", "contextPath": "src ✓",
                                    "size": sum(len(c) for c in BUILD_CONTEXT),
                                    "chunks": {"$async": [{"$bytes": b64(c)} for c in BUILD_CONTEXT]}}]),
        steps=build_steps(json_reply({"build_id": "b-50"}), len(BUILD_CONTEXT)),
    ),
    Scenario039(
        id="ts039-containers-build-options",
        method="containers.build",
        arguments={"tag": "app:2", "mount_path": "/data", "context_path": "/src", "dockerfile_path": "Dockerfile.dev",
                   "optimize_image": False, "private": True, "builder_name": "fast ✓"},
        input=[b64(c) for c in BUILD_CONTEXT],
        call=("containers.build", [{"tag": "app:2", "mountPath": "/data", "contextPath": "/src",
                                    "dockerfilePath": "Dockerfile.dev", "optimizeImage": False, "private": True,
                                    "builderName": "fast ✓",
                                    "chunks": {"$async": [{"$bytes": b64(c)} for c in BUILD_CONTEXT]}}]),
        steps=build_steps(json_reply({"build_id": "b-51"}), len(BUILD_CONTEXT)),
    ),
    # The control/open reply form (Python accepts it): TS rejects it.
    Scenario039(
        id="ts039-containers-build-open-reply",
        method="containers.build",
        arguments={"tag": "app:3", "mount_path": "/data", "context_path": "."},
        input=[b64(c) for c in BUILD_CONTEXT],
        call=("containers.build", [{"tag": "app:3", "mountPath": "/data", "contextPath": ".",
                                    "chunks": {"$async": [{"$bytes": b64(c)} for c in BUILD_CONTEXT]}}]),
        steps=build_steps({"type": "control", "method": "open"}, len(BUILD_CONTEXT)),
    ),
    plain("ts039-containers-list-images-039-fields", "containers.list_images", {}, "containers.listImages", [],
          json_reply({"images": [IMAGE_056, {"id": "sha256:def"}]}), result_keys="wire"),
    plain("ts039-containers-inspect-image", "containers.inspect_image", {"image_id": "sha256:abc"},
          "containers.inspectImage", [{"imageId": "sha256:abc"}],
          json_reply(INSPECT_IMAGE_REPLY), result_keys="wire"),
    plain("ts039-containers-inspect-image-error-not-found", "containers.inspect_image", {"image_id": "sha256:missing"},
          "containers.inspectImage", [{"imageId": "sha256:missing"}], error_reply("image not found", 1003)),
    plain("ts039-containers-wait-for-exit-status", "containers.wait_for_exit", {"container_id": "c-1234"},
          "containers.waitForExit", [{"containerId": "c-1234"}],
          json_reply({"exit_code": 137, "reason": "OOMKilled", "message": "out of memory ✗", "oom_killed": True})),
    plain("ts039-containers-list-builds-published", "containers.list_builds", {}, "containers.listBuilds", [],
          json_reply(PUBLISHED_BUILDS_REPLY), result_keys="wire"),
]


# ---- secrets.exists (new in 0.39.9) and the agents additions
from fake_room import Step  # noqa: E402
from ts_scenarios.common import EMPTY  # noqa: E402
from ts_scenarios.core import CORE  # noqa: E402

_LIST = next(s for s in CORE if s.id == "ts-agents-list-toolkits")
_TOOLKITS = _LIST.replies[0]["json"]
_TOOLKITS_039 = {"tools": {
    "demo": {**_TOOLKITS["tools"]["demo"], "annotations": {"meshagent.toolkit.kind": "helpers", "owner": "équipe ✓"}},
}}

SECRETS_039: list[Scenario] = [
    plain("ts039-secrets-exists", "secrets.exists", {"secret_id": "sec-1"},
          "secrets.exists", [{"secretId": "sec-1"}], json_reply({"exists": True})),
    plain("ts039-secrets-exists-delegated", "secrets.exists",
          {"secret_id": "sec-2", "delegated_to": "p-remote", "for_identity": "bob"},
          "secrets.exists", [{"secretId": "sec-2", "delegatedTo": "p-remote", "forIdentity": "bob"}],
          json_reply({"exists": False})),
]

AGENTS_039: list[Scenario] = [
    Scenario039(
        id="ts039-agents-invoke-nowait",
        method="agents.invoke_nowait",
        arguments={"toolkit": "demo", "tool": "notify", "arguments": {"type": "json", "json": {"text": "ping ✓"}},
                   "participant_id": "p-remote"},
        call=("invokeNowait", [{"toolkit": "demo", "tool": "notify", "input": {"$json": {"text": "ping ✓"}},
                                "participantId": "p-remote"}]),
        steps=[Step(expect={"type": "room.invoke_tool", "toolkit": "demo", "tool": "notify"},
                    reply=json_reply({"ok": True}))],
        client_closes=False,
    ),
    Scenario039(
        id="ts039-agents-invoke-nowait-error-ignored",
        method="agents.invoke_nowait",
        arguments={"toolkit": "demo", "tool": "notify"},
        call=("invokeNowait", [{"toolkit": "demo", "tool": "notify"}]),
        steps=[Step(expect={"type": "room.invoke_tool", "toolkit": "demo", "tool": "notify"},
                    reply=error_reply("no such tool", 1003))],
        client_closes=False,
    ),
    plain("ts039-agents-list-toolkits-annotations", "agents.list_toolkits", {}, "agents.listToolkits", [],
          json_reply(_TOOLKITS_039)),
]


# ---- 0.39 reply shapes for calls that are otherwise unchanged
import stream_cases as _streams  # noqa: E402
from ts_scenarios.common import js_json  # noqa: E402
from ts_scenarios.streaming import LOGS_REQUEST_ID, stream as _stream  # noqa: E402

EXTRA_039: list[Scenario] = [
    # TS 0.39.9 drops channel 2 (Python 0.56 delivers it).
    _stream("ts039-containers-get-build-logs-channel-2", "containers.get_build_logs", {"build_id": "b-44"},
            "containers.getBuildLogs", [{"buildId": "b-44"}],
            _streams.build_logs_steps(0, channel_2=True), "log_stream", uuids=[LOGS_REQUEST_ID]),
    plain("ts039-containers-list-containers-039-fields", "containers.list_containers", {}, "containers.list", [],
          json_reply({"containers": [{
              "id": "c-1234", "image": "ghcr.io/example/chatbot:1.2.3", "image_id": "sha256:abc",
              "status": "Up 5 minutes", "name": "chatbot ✓", "ports": [8080, 9090],
              "started_by": {"id": "p-local", "name": "alice"}, "state": "RUNNING", "private": False,
              "service_id": "svc-chatbot", "mounts": {"room": [{"path": "/data", "read_only": False}]},
              "stats": {"cpu_usage_nano_cores": 1500000, "memory_usage_bytes": 104857600},
              "exit_status": {"exit_code": 0},
          }]}), result_keys="wire"),
    plain("ts039-services-list-with-state-runtime", "services.list", {}, "services.listWithState", [],
          json_reply({
              "services_json": [js_json({"version": "v1", "kind": "Service", "id": "svc-web",
                                         "metadata": {"name": "web"}, "container": {"image": "nginx:1.27"}})],
              "service_states": [{
                  "service_id": "svc-web", "state": "running", "container_id": "c-123", "restart_count": 2,
                  "last_start_error": "image pull backoff ✗", "last_start_error_at": 1717171600.5,
                  "status": {"ports": [{"num": 8080, "liveness": "/healthz", "liveness_status": "ready",
                                        "last_checked_at": 1717171720.0, "last_error": None},
                                       {"num": "*", "liveness_status": "not_configured"}]},
                  "events": [{"type": "Warning", "reason": "BackOff", "message": "restarting failed container",
                              "count": 3, "first_timestamp": 1717171000.0, "last_timestamp": 1717171500.0}],
              }],
          }), result_keys="wire"),
    # memory values as typed wrappers (0.37+): TS hands them back undecoded.
    plain("ts039-memory-query-wrappers", "memory.query", {"name": "kb", "statement": "MATCH (p:person) RETURN p"},
          "memory.query", [{"name": "kb", "statement": "MATCH (p:person) RETURN p"}],
          json_reply({"results": [{"name": "Zoë ✓", "photo": {"binary": "iVBORw=="},
                                   "seen": {"timestamp": "2025-01-02T03:04:05Z"}, "tags": {"list": ["a", "b"]}}]})),
]
