"""Record what the official Python SDK meshagent-api 0.56.0 puts on the wire (cases-0.56/python/).

The 0.56 counterpart of record_python.py: same fake room, same case format 1, same outcome rules.
What differs:

* the SDK: meshagent-api 0.56.0 from .venv-0.56 (record.sh python-0.56 makes it);
* RoomClient takes a protocol factory (it reconnects); reconnects are turned off
  (``reconnect_timeout=0``) so that one scenario is one connection;
* the token travels in an ``Authorization: Bearer`` header; ``_connect.yaml`` records the header
  and the query with the token replaced by ``<token>``;
* request chunks are sent one-way: the fake room does not answer them (``ack_chunks=False``);
* case ids start with ``py056-``, and the scenarios live in py056_scenarios/.

Usage: python record_python_056.py [--out DIR] [--only CASE_ID ...] [--sdk-logs]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import Any

import meshagent.api
from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol

from case_yaml import Recording, case_document, check_round_trip, render_case, render_connect_auth
from fake_room import FakeRoom
from py_scenarios.common import EventLog, Running, Scenario
from py_scenarios.outcome import to_jsonable
from record_python import TOKEN, ROOM_NAME, CALL_TIMEOUT, EVENT_SETTLE, check_arguments, _legacy_storage_handler
from py056_scenarios import SCENARIOS

SDK_VERSION = "0.56.0"
HERE = Path(__file__).resolve().parent
SDK = {"name": "meshagent-api", "language": "python", "version": SDK_VERSION}
PREFIX = "py056-"


async def run_scenario(sc: Scenario) -> Recording:
    server = FakeRoom(script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME, ack_chunks=False, token=TOKEN)
    Running.server = server
    port = await server.start()
    problems: list[str] = []
    try:
        url = f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}"
        log = EventLog()
        room_kwargs = sc.room_kwargs(log) if sc.room_kwargs is not None else {}
        room = RoomClient(
            protocol_factory=lambda: WebSocketClientProtocol(url=url, token=TOKEN),
            reconnect_timeout=0,
            **room_kwargs,
        )
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
                await asyncio.sleep(EVENT_SETTLE)
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
                    await asyncio.sleep(0.02)
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
    return Recording(scenario=sc, frames=frames, outcome=outcome, connect=server.connect_auth)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "cases-0.56" / "python")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    parser.add_argument("--sdk-logs", action="store_true", help="show the SDK's own log output")
    args = parser.parse_args()

    if not args.sdk_logs:
        for name in ("room_server_client", "protocol", "meshagent", "websocket_protocol"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        logging.getLogger().setLevel(logging.CRITICAL)

    if meshagent.api.__version__ != SDK_VERSION:
        print(f"meshagent-api {meshagent.api.__version__} installed, {SDK_VERSION} required", file=sys.stderr)
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "duplicate case id"
    assert all(i.startswith(PREFIX) for i in ids), "every 0.56 case id starts with py056-"

    selected = [s for s in SCENARIOS if not args.only or s.id in args.only]
    connect: dict[str, Any] | None = None
    written: set[str] = set()
    failures = 0
    for sc in selected:
        try:
            rec = await run_scenario(sc)
        except Exception as ex:  # noqa: BLE001
            failures += 1
            print(f"FAIL {sc.id}: {type(ex).__name__}: {ex}", file=sys.stderr)
            continue
        if connect is None:
            connect = rec.connect
        elif connect != rec.connect:
            print(f"FAIL {sc.id}: connect request differs between scenarios", file=sys.stderr)
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
        (out / "_connect.yaml").write_text(render_connect_auth(connect, SDK), encoding="utf-8")
    if not args.only and failures == 0:
        for stale in sorted(out.glob(f"{PREFIX}*.yaml")):
            if stale.name not in written:
                print(f"removing stale {stale.name}")
                stale.unlink()
    print(f"{len(written)} case(s) written to {out}, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
