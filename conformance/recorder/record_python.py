"""Record what the official Python SDK (meshagent-api 0.35.8 or 0.56.0) puts on the wire.

For every scenario: start the fake room (fake_room.py) on a free loopback port, connect the
official SDK's RoomClient to it, make ONE SDK call (or none, for push-only cases), and write one
YAML case file with every message after the handshake (both directions) and the SDK's outcome.

Both SDK versions share this runner (each runs in the venv that has it installed: .venv for
0.35.8, .venv-0.56 for 0.56.0); what differs is data (VERSIONS):

* the scenario package (py_scenarios/, py056_scenarios/), the case id prefix and the output folder;
* 0.56.0's RoomClient takes a protocol factory (it reconnects); reconnects are turned off
  (``reconnect_timeout=0``) so that one scenario is one connection;
* 0.56.0 sends the token in an ``Authorization: Bearer`` header; its ``_connect.yaml`` records the
  header and the query with the token replaced by ``<token>``;
* 0.56.0 sends request chunks one-way: the fake room does not answer them (``ack_chunks=False``).

The case file YAML is in case_yaml.py.

Usage: python record_python.py [--sdk 0.35.8|0.56.0] [--out DIR] [--only CASE_ID ...] [--sdk-logs]
       (default out: ../cases/python or ../cases-0.56/python)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import meshagent.api
from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol

from case_yaml import Recording, write_cases
from fake_room import FakeRoom, Frame
from py_scenarios.common import EventLog, Running, Scenario
from py_scenarios.outcome import to_jsonable

ROOM_NAME = "test-room"
# Looks like a JWT (header.payload.signature); the fake room does not validate it.
TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjb25mb3JtYW5jZSIsIm5hbWUiOiJhbGljZSJ9"
    ".Y29uZm9ybWFuY2Utc2lnbmF0dXJl"
)
CALL_TIMEOUT = 15.0
# How long an events scenario keeps listening after the expected events, to catch extra ones.
EVENT_SETTLE = 0.1

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Version:
    """What differs between the recorded SDK versions."""

    sdk_version: str
    scenarios: str  # the scenario package
    prefix: str  # every case id starts with it
    out: Path  # default output folder
    # 0.56 transport: RoomClient(protocol_factory=..., reconnect_timeout=0) instead of
    # RoomClient(protocol=...); `_connect.yaml` with the auth placement (render_connect_auth).
    protocol_factory: bool
    # Whether the fake room answers room.tool_call_request_chunk (0.56.0 sends them one-way).
    ack_chunks: bool
    # How long to wait after the last reply of a streaming / fire-and-forget call.
    settle: float
    # Loggers silenced unless --sdk-logs (the root logger too when `quiet_root`).
    loggers: tuple[str, ...]
    quiet_root: bool


VERSIONS = {
    "0.35.8": Version(
        "0.35.8", "py_scenarios", "py-", HERE.parent / "cases" / "python",
        protocol_factory=False, ack_chunks=True, settle=0.01,
        loggers=("room_server_client", "protocol"), quiet_root=False,
    ),
    "0.56.0": Version(
        "0.56.0", "py056_scenarios", "py056-", HERE.parent / "cases-0.56" / "python",
        protocol_factory=True, ack_chunks=False, settle=0.02,
        loggers=("room_server_client", "protocol", "meshagent", "websocket_protocol"), quiet_root=True,
    ),
}


# --------------------------------------------------------------------------- running


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def check_arguments(sc: Scenario, frames: list[Frame]) -> list[str]:
    """`arguments` must match what went on the wire: every key equals the wire input's value
    (`data` equals the tail, base64)."""
    if sc.method == "events" or not sc.arguments:
        return []
    packet = sc.packet_type()
    sent = [f for f in frames if f.dir == "send" and f.type == packet]
    if not sent:
        return [f"no {packet} request was sent"]
    frame = sent[0]
    if sc.method.startswith("agents."):
        wire = {k: v for k, v in frame.header.items() if k not in ("tool_call_id", "__meshagent__")}
    else:
        content = frame.header.get("arguments", {})
        if content == {"type": "control", "method": "open"}:
            # A streaming tool: the input travels in the first request chunk (the start chunk).
            chunks = [f for f in frames if f.dir == "send" and f.type == "room.tool_call_request_chunk"]
            if not chunks:
                return ["no start chunk was sent"]
            frame = chunks[0]
            content = frame.header.get("chunk", {})
        if content.get("type") == "json":
            wire = content["json"]
        elif content.get("type") == "binary":
            wire = content["headers"]
        else:
            return [f"unexpected request content {content.get('type')!r}"]
    problems = []
    for key, value in sc.arguments.items():
        if key == "data" and key not in wire:
            actual: Any = base64.b64encode(frame.tail).decode("ascii")
        elif key not in wire:
            problems.append(f"argument {key!r} is not in the wire input {sorted(wire)}")
            continue
        else:
            actual = wire[key]
        if not _same(actual, value):
            problems.append(f"argument {key!r} = {value!r}, wire has {actual!r}")
    return problems


def _legacy_storage_handler(log: EventLog, event_name: str) -> Callable[..., None]:
    def handler(**kwargs: Any) -> None:
        log.add(f"storage.{event_name}", to_jsonable(kwargs))

    return handler


async def run_scenario(sc: Scenario, version: Version) -> Recording:
    server = FakeRoom(
        script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME, ack_chunks=version.ack_chunks, token=TOKEN
    )
    Running.server = server
    port = await server.start()
    problems: list[str] = []
    try:
        url = f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}"
        log = EventLog()
        room_kwargs = sc.room_kwargs(log) if sc.room_kwargs is not None else {}
        if version.protocol_factory:
            room = RoomClient(
                protocol_factory=lambda: WebSocketClientProtocol(url=url, token=TOKEN),
                reconnect_timeout=0,
                **room_kwargs,
            )
        else:
            room = RoomClient(protocol=WebSocketClientProtocol(url=url, token=TOKEN), **room_kwargs)

        # Registered before connecting: the fake room pushes right after the handshake.
        for name in sc.listen:
            room.storage.on(name, _legacy_storage_handler(log, name))
        if sc.setup is not None:
            sc.setup(room, log)

        async with room:
            if sc.events_outcome:
                if sc.method != "events":
                    await asyncio.wait_for(sc.call(room), CALL_TIMEOUT)
                expected = sc.expect_events if sc.expect_events is not None else len(sc.listen)
                await asyncio.wait_for(log.wait_for(expected), CALL_TIMEOUT)
                await asyncio.wait_for(server.script_done.wait(), CALL_TIMEOUT)
                await asyncio.sleep(EVENT_SETTLE)  # extra events would show up here
                if len(log.events) != expected:
                    problems.append(f"expected {expected} events, got {len(log.events)}: {log.events}")
                outcome = {"events": list(log.events)}
            else:
                try:
                    result = await asyncio.wait_for(sc.call(room), CALL_TIMEOUT)
                    outcome = {"result": to_jsonable(result)}
                except RoomException as ex:
                    code = None if ex.code is None else int(ex.code)
                    outcome = {"error": {"code": code, "text": str(ex)}}
                if sc.fire_and_forget or sc.steps is not None:
                    await asyncio.wait_for(server.script_done.wait(), CALL_TIMEOUT)
                    while room._pending_requests:
                        await asyncio.sleep(0.01)
                    await asyncio.sleep(version.settle)
                if log.events:
                    problems.append(f"unexpected events: {log.events}")

        await asyncio.wait_for(server.closed.wait(), CALL_TIMEOUT)
    finally:
        await server.stop()

    problems = list(server.errors) + problems
    if server.unused_steps:
        problems.append(f"script steps never requested: {[s.expect for s in server.unused_steps]}")
    if server.connect is None:
        problems.append("the SDK never connected")
    frames = [f for f in server.frames if not f.handshake]
    problems.extend(check_arguments(sc, frames))
    if problems:
        raise RuntimeError(f"{sc.id}: " + "; ".join(problems))

    connect = server.connect_auth if version.protocol_factory else server.connect
    return Recording(scenario=sc, frames=frames, outcome=outcome, connect=connect)



async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sdk", choices=sorted(VERSIONS), default="0.35.8", help="the SDK version to record")
    parser.add_argument("--out", type=Path, help="default: cases/python (0.35.8), cases-0.56/python (0.56.0)")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    parser.add_argument(
        "--sdk-logs",
        action="store_true",
        help="show the SDK's own log output (some scenarios make it log expected errors)",
    )
    args = parser.parse_args()
    version = VERSIONS[args.sdk]
    sdk = {"name": "meshagent-api", "language": "python", "version": version.sdk_version}

    if not args.sdk_logs:
        # e.g. "No secret handler registered", "unable to write developer log": expected in
        # some scenarios, and not part of the recording.
        for name in version.loggers:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        if version.quiet_root:
            logging.getLogger().setLevel(logging.CRITICAL)

    if meshagent.api.__version__ != version.sdk_version:
        print(f"meshagent-api {meshagent.api.__version__} installed, {version.sdk_version} required", file=sys.stderr)
        return 2

    out: Path = args.out or version.out
    out.mkdir(parents=True, exist_ok=True)

    SCENARIOS = importlib.import_module(version.scenarios).SCENARIOS
    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "duplicate case id"
    assert all(i.startswith(version.prefix) for i in ids), f"every {version.sdk_version} case id starts with {version.prefix}"

    selected = [s for s in SCENARIOS if not args.only or s.id in args.only]
    results: list[tuple[Scenario, Recording | Exception]] = []
    for sc in selected:
        try:
            results.append((sc, await run_scenario(sc, version)))
        except Exception as ex:  # noqa: BLE001 - reported by write_cases; go on with the other scenarios
            results.append((sc, ex))
    failures = write_cases(
        results, out, sdk, prefix=version.prefix, connect_auth=version.protocol_factory, full_run=not args.only
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
