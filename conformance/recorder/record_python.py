"""Record what the official Python SDK (meshagent-api 0.35.8) puts on the wire.

For every scenario: start the fake room (fake_room.py) on a free loopback port, connect the
official SDK's RoomClient to it, make ONE SDK call (or none, for push-only cases), and write one
YAML case file with every message after the handshake (both directions) and the SDK's outcome.

The scenarios are in py_scenarios/ (one module per toolkit), the case file YAML in case_yaml.py.

Usage: python record_python.py [--out DIR] [--only CASE_ID ...]   (default: ../cases/python)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import sys
from pathlib import Path
from typing import Any, Callable

import meshagent.api
from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol

from case_yaml import Recording, case_document, check_round_trip, render_case, render_connect
from fake_room import FakeRoom, Frame
import py_scenarios  # SCENARIOS is built on first use (record_python_056.py imports this module)
from py_scenarios.common import EventLog, Running, Scenario
from py_scenarios.outcome import to_jsonable

SDK_VERSION = "0.35.8"
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

SDK = {"name": "meshagent-api", "language": "python", "version": SDK_VERSION}


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


async def run_scenario(sc: Scenario) -> Recording:
    server = FakeRoom(script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME)
    Running.server = server
    port = await server.start()
    problems: list[str] = []
    try:
        protocol = WebSocketClientProtocol(url=f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}", token=TOKEN)
        log = EventLog()
        room_kwargs = sc.room_kwargs(log) if sc.room_kwargs is not None else {}
        room = RoomClient(protocol=protocol, **room_kwargs)

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
                    await asyncio.sleep(0.01)
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

    return Recording(scenario=sc, frames=frames, outcome=outcome, connect=server.connect)



async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "cases" / "python")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    parser.add_argument(
        "--sdk-logs",
        action="store_true",
        help="show the SDK's own log output (some scenarios make it log expected errors)",
    )
    args = parser.parse_args()

    if not args.sdk_logs:
        # e.g. "No secret handler registered", "unable to write developer log": expected in
        # some scenarios, and not part of the recording.
        for name in ("room_server_client", "protocol"):
            logging.getLogger(name).setLevel(logging.CRITICAL)

    if meshagent.api.__version__ != SDK_VERSION:
        print(f"meshagent-api {meshagent.api.__version__} installed, {SDK_VERSION} required", file=sys.stderr)
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    SCENARIOS = py_scenarios.SCENARIOS
    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "duplicate case id"

    selected = [s for s in SCENARIOS if not args.only or s.id in args.only]
    connect: dict[str, Any] | None = None
    written: set[str] = set()
    failures = 0
    for sc in selected:
        try:
            rec = await run_scenario(sc)
        except Exception as ex:  # noqa: BLE001 - report and go on with the other scenarios
            failures += 1
            print(f"FAIL {sc.id}: {type(ex).__name__}: {ex}", file=sys.stderr)
            continue
        if connect is None:
            connect = rec.connect
        elif connect != rec.connect:
            print(f"FAIL {sc.id}: connect URL differs between scenarios", file=sys.stderr)
            failures += 1
        name = f"{sc.id}.yaml"
        text = render_case(rec, SDK)
        try:
            check_round_trip(text, case_document(rec, SDK))
        except RuntimeError as ex:
            failures += 1
            print(f"FAIL {sc.id}: {ex}", file=sys.stderr)
            continue
        (out / name).write_text(text, encoding="utf-8")
        written.add(name)
        print(f"ok   {sc.id}  ({len(rec.frames)} frames, outcome: {next(iter(rec.outcome))})")

    if connect is not None:
        (out / "_connect.yaml").write_text(render_connect(connect, SDK), encoding="utf-8")

    if not args.only and failures == 0:
        for stale in sorted(out.glob("py-*.yaml")):
            if stale.name not in written:
                print(f"removing stale {stale.name}")
                stale.unlink()

    print(f"{len(written)} case(s) written to {out}, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
