"""The streaming tools in 0.56 that keep their 0.35.8 shape (developer.logs, containers.logs /
get_build_logs / exec and sync.open: derived from py_scenarios/streaming.py), and the 0.56
additions: get_build_logs also delivers channel 2; containers.build is a new request stream.
Request chunks are one-way in 0.56, so the fake room sends no acks (record_python.py --sdk 0.56.0)."""

from __future__ import annotations

from typing import Any, Awaitable, Callable

from meshagent.api import RoomClient

import stream_cases as streams
from stream_cases import BUILD_CONTEXT, build_steps

from py_scenarios.common import Scenario, b64
from py_scenarios.streaming import TOOL_STREAM_SCENARIOS as TOOL_STREAMS_035, _aiter, _build_logs

from .common import derive


# ---- 0.56 additions

def _build(**kwargs: Any) -> Callable[[RoomClient], Awaitable[Any]]:
    return lambda room: room.containers.build(chunks=_aiter(BUILD_CONTEXT), **kwargs)


BUILD_ARGS = {"tags": ["chatbot:dev", "ghcr.io/example/chatbot:dev"], "mount_path": "/data", "context_path": "src ✓"}

STREAM_SCENARIOS: list[Scenario] = [
    *derive(TOOL_STREAMS_035),
    Scenario(
        id="py056-containers-get-build-logs-channel-2",
        method="containers.get_build_logs",
        arguments={"build_id": "b-44"},
        steps=streams.build_logs_steps(0, channel_2=True),
        run=lambda room: _build_logs(room, build_id="b-44"),
    ),
    Scenario(
        id="py056-containers-build",
        method="containers.build",
        arguments={**BUILD_ARGS, "size": sum(len(c) for c in BUILD_CONTEXT)},
        input=[b64(c) for c in BUILD_CONTEXT],
        steps=build_steps(
            open_reply={"type": "control", "method": "open"},
            chunks=len(BUILD_CONTEXT),
            final=[streams.response_chunk(streams.json_chunk({"build_id": "b-50"})), streams.server_close()],
        ),
        run=_build(**BUILD_ARGS, size=sum(len(c) for c in BUILD_CONTEXT)),
    ),
    Scenario(
        id="py056-containers-build-options",
        method="containers.build",
        arguments={"tags": ["app:2"], "mount_path": "/data", "context_path": "/src", "dockerfile_path": "Dockerfile.dev",
                   "optimize_image": False, "private": True, "builder_name": "fast ✓"},
        input=[b64(c) for c in BUILD_CONTEXT],
        steps=build_steps(
            open_reply={"type": "control", "method": "open"},
            chunks=len(BUILD_CONTEXT),
            final=[streams.response_chunk(streams.json_chunk({"build_id": "b-51"})), streams.server_close()],
        ),
        run=_build(tags=["app:2"], mount_path="/data", context_path="/src", dockerfile_path="Dockerfile.dev",
                   optimize_image=False, private=True, builder_name="fast ✓"),
    ),
    # The other reply form: the invoke itself answered with json {build_id}.
    Scenario(
        id="py056-containers-build-json-reply",
        method="containers.build",
        arguments={"tags": ["app:3"], "mount_path": "/data", "context_path": "."},
        input=[b64(c) for c in BUILD_CONTEXT],
        steps=build_steps(open_reply={"type": "json", "json": {"build_id": "b-52"}}, chunks=len(BUILD_CONTEXT)),
        run=_build(tags=["app:3"], mount_path="/data", context_path="."),
    ),
]
