"""Record what the official Python SDK (meshagent-api 0.35.8) puts on the wire.

For every scenario: start the fake room (fake_room.py) on a free loopback port, connect the
official SDK's RoomClient to it, make ONE SDK call, and write one YAML case file with every
message after the handshake (both directions) and the SDK's outcome.

Usage: python record_python.py [--out DIR]    (default: ../cases/python next to this file)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

import yaml
from pydantic import BaseModel

import meshagent.api
from meshagent.api import RoomClient, RoomException, WebSocketClientProtocol
from meshagent.api.room_server_client import Queue

from fake_room import FakeRoom, Frame, Push, Step

SDK_VERSION = "0.35.8"
ROOM_NAME = "test-room"
# Looks like a JWT (header.payload.signature); the fake room does not validate it.
TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjb25mb3JtYW5jZSIsIm5hbWUiOiJhbGljZSJ9"
    ".Y29uZm9ybWFuY2Utc2lnbmF0dXJl"
)
CALL_TIMEOUT = 15.0

HERE = Path(__file__).resolve().parent


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    id: str
    method: str  # "<toolkit>.<tool>" or "events"
    arguments: dict[str, Any]  # the SDK call's keyword arguments, by wire field name
    replies: list[dict[str, Any]] = field(default_factory=list)  # one reply Content per request
    pushes: list[Push] = field(default_factory=list)
    listen: list[str] = field(default_factory=list)  # storage events to register, e.g. "file.updated"

    def script(self) -> list[Step]:
        if self.method == "events":
            return []
        toolkit, tool = self.method.split(".", 1)
        return [
            Step(expect={"type": "room.invoke_tool", "toolkit": toolkit, "tool": tool}, reply=r)
            for r in self.replies
        ]

    def call(self, room: RoomClient) -> Awaitable[Any]:
        toolkit, tool = self.method.split(".", 1)
        client = getattr(room, toolkit)
        return getattr(client, tool)(**self.arguments)


def json_reply(value: Any) -> dict[str, Any]:
    return {"type": "json", "json": value}


EMPTY = {"type": "empty"}

LONG_TEXT = "".join(f"{i:04d}-abcdefghij|" for i in range(80))  # 1280 ASCII chars
assert len(LONG_TEXT) > 1100

SCENARIOS: list[Scenario] = [
    # ---- storage
    Scenario(
        id="py-storage-exists-true",
        method="storage.exists",
        arguments={"path": "docs/a.txt"},
        replies=[json_reply({"exists": True})],
    ),
    Scenario(
        id="py-storage-exists-false",
        method="storage.exists",
        arguments={"path": "docs/missing.txt"},
        replies=[json_reply({"exists": False})],
    ),
    Scenario(
        id="py-storage-exists-error-not-found",
        method="storage.exists",
        arguments={"path": "nope/a.txt"},
        replies=[{"type": "error", "text": "not found", "code": 3001}],
    ),
    Scenario(
        id="py-storage-stat-exists",
        method="storage.stat",
        arguments={"path": "docs/a.txt"},
        replies=[
            json_reply(
                {
                    "exists": True,
                    "name": "a.txt",
                    "is_folder": False,
                    "size": 1234,
                    "created_at": "2024-01-02T03:04:05.678000+00:00",
                    "updated_at": "2024-06-07T08:09:10+00:00",
                }
            )
        ],
    ),
    Scenario(
        id="py-storage-stat-missing",
        method="storage.stat",
        arguments={"path": "docs/missing.txt"},
        replies=[json_reply({"exists": False})],
    ),
    Scenario(
        id="py-storage-list",
        method="storage.list",
        arguments={"path": "docs"},
        replies=[
            json_reply(
                {
                    "files": [
                        {
                            "name": "reports",
                            "is_folder": True,
                            "size": None,
                            "created_at": None,
                            "updated_at": None,
                        },
                        {
                            "name": "résumé-日本語-✓.txt",
                            "is_folder": False,
                            "size": 42,
                            "created_at": "2024-01-02T03:04:05+00:00",
                            "updated_at": "2024-01-03T04:05:06.250000+00:00",
                        },
                    ]
                }
            )
        ],
    ),
    Scenario(
        id="py-storage-delete",
        method="storage.delete",
        arguments={"path": "docs/old.txt"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-storage-delete-recursive",
        method="storage.delete",
        arguments={"path": "docs/old-folder", "recursive": True},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-storage-download-url",
        method="storage.download_url",
        arguments={"path": "docs/a.txt"},
        replies=[json_reply({"url": "https://files.example.test/rooms/test-room/docs/a.txt?sig=abc123"})],
    ),
    Scenario(
        id="py-storage-events",
        method="events",
        arguments={},
        pushes=[
            Push(
                type="storage.file.updated",
                header={"path": "docs/a.txt", "participant_id": "p-remote"},
            ),
            Push(
                type="storage.file.deleted",
                header={"path": "docs/ünïcödé.txt", "participant_id": "p-remote"},
            ),
        ],
        listen=["file.updated", "file.deleted"],
    ),
    # ---- queues
    Scenario(
        id="py-queues-list",
        method="queues.list",
        arguments={},
        replies=[json_reply({"queues": [{"name": "jobs", "size": 3}, {"name": "événements", "size": 0}]})],
    ),
    Scenario(
        id="py-queues-open",
        method="queues.open",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-open-error-not-found",
        method="queues.open",
        arguments={"name": "missing"},
        replies=[{"type": "error", "text": "queue not found", "code": 5001}],
    ),
    Scenario(
        id="py-queues-send",
        method="queues.send",
        arguments={"name": "jobs", "message": {"task": "resize", "id": 7}},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-send-create-false",
        method="queues.send",
        arguments={"name": "jobs", "message": {"task": "resize", "id": 8}, "create": False},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-send-large-unicode",
        method="queues.send",
        arguments={
            "name": "jobs",
            "message": {
                "greeting": "héllo wörld — 日本語 ✓ 🚀",
                "long": LONG_TEXT,
                "nested": {"list": [1, 2.5, None, True, "ß"]},
            },
        },
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-drain",
        method="queues.drain",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-close",
        method="queues.close",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-receive",
        method="queues.receive",
        arguments={"name": "jobs"},
        replies=[json_reply({"task": "resize", "id": 7})],
    ),
    Scenario(
        id="py-queues-receive-empty",
        method="queues.receive",
        arguments={"name": "jobs", "create": False, "wait": False},
        replies=[EMPTY],
    ),
]


# --------------------------------------------------------------------------- outcome conversion


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, BaseModel):
        return {k: to_jsonable(getattr(value, k)) for k in type(value).model_fields}
    if isinstance(value, Queue):
        return {"name": value.name, "size": value.size}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    raise TypeError(f"cannot convert {type(value).__name__} to JSON")


# --------------------------------------------------------------------------- running


@dataclass
class Recording:
    scenario: Scenario
    frames: list[Frame]
    outcome: dict[str, Any]
    connect: dict[str, Any]


async def run_scenario(sc: Scenario) -> Recording:
    server = FakeRoom(script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME)
    port = await server.start()
    try:
        protocol = WebSocketClientProtocol(url=f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}", token=TOKEN)
        room = RoomClient(protocol=protocol)

        events: list[dict[str, Any]] = []
        got_all_events = asyncio.Event()

        def make_handler(event_name: str) -> Callable[..., None]:
            def handler(**kwargs: Any) -> None:
                events.append({"type": f"storage.{event_name}", "fields": to_jsonable(kwargs)})
                if len(events) >= len(sc.listen):
                    got_all_events.set()

            return handler

        # Registered before connecting: the fake room pushes right after the handshake.
        for name in sc.listen:
            room.storage.on(name, make_handler(name))

        async with room:
            if sc.method == "events":
                await asyncio.wait_for(got_all_events.wait(), CALL_TIMEOUT)
                outcome = {"events": events}
            else:
                try:
                    result = await asyncio.wait_for(sc.call(room), CALL_TIMEOUT)
                    outcome = {"result": to_jsonable(result)}
                except RoomException as ex:
                    outcome = {"error": {"code": ex.code, "text": str(ex)}}

        await asyncio.wait_for(server.closed.wait(), CALL_TIMEOUT)
    finally:
        await server.stop()

    problems = list(server.errors)
    if server.unused_steps:
        problems.append(f"script steps never requested: {[s.expect for s in server.unused_steps]}")
    if server.connect is None:
        problems.append("the SDK never connected")
    if problems:
        raise RuntimeError(f"{sc.id}: " + "; ".join(problems))

    frames = [f for f in server.frames if not f.handshake]
    return Recording(scenario=sc, frames=frames, outcome=outcome, connect=server.connect)


# --------------------------------------------------------------------------- YAML output


class _Flow(dict):
    """A mapping emitted in YAML flow style ({...}); everything inside it is flow style too."""


class _FlowList(list):
    """A sequence emitted in YAML flow style ([...])."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 30,
        default_flow_style=False,
    )


def _flow(value: Any) -> Any:
    """Wrap the outermost collection so the whole value is written on one line."""
    if isinstance(value, dict):
        return _Flow(value)
    if isinstance(value, list):
        return _FlowList(value)
    return value


def _wire_comment(frame: Frame) -> str:
    data_packets = frame.packets[1:]
    return (
        f"  # wire: header packet {frame.packets[0]} B + {len(data_packets)} data packet(s)"
        f" {data_packets} B\n"
    )


def render_case(rec: Recording) -> str:
    sc = rec.scenario
    head = {
        "format": 1,
        "id": sc.id,
        "sdk": _Flow({"name": "meshagent-api", "language": "python", "version": SDK_VERSION}),
        "method": sc.method,
        "arguments": _Flow(sc.arguments),
    }
    out = [_dump(head), "frames:\n"]
    for f in rec.frames:
        frame = _Flow(
            {
                "dir": f.dir,
                "id": f.id,
                "type": f.type,
                "header": f.header,
                "tail": base64.b64encode(f.tail).decode("ascii"),
            }
        )
        out.append(_wire_comment(f))
        out.append("  - " + _dump(frame))
    (key, value), = rec.outcome.items()
    if key == "events":
        outcome_text = "outcome:\n  events:\n" + "".join(
            "    - " + _dump(_Flow(e)) for e in value
        )
    else:
        outcome_text = "outcome:\n  " + _dump({key: _flow(value)})
    out.append(outcome_text)
    return "".join(out)


def case_document(rec: Recording) -> dict[str, Any]:
    """The plain data a case file must load back as (used to check the YAML round trip)."""
    sc = rec.scenario
    return {
        "format": 1,
        "id": sc.id,
        "sdk": {"name": "meshagent-api", "language": "python", "version": SDK_VERSION},
        "method": sc.method,
        "arguments": sc.arguments,
        "frames": [
            {
                "dir": f.dir,
                "id": f.id,
                "type": f.type,
                "header": f.header,
                "tail": base64.b64encode(f.tail).decode("ascii"),
            }
            for f in rec.frames
        ],
        "outcome": rec.outcome,
    }


def check_round_trip(text: str, expected: dict[str, Any]) -> None:
    """The YAML must load back to exactly the recorded data, key order and number types included."""
    loaded = yaml.safe_load(text)
    a = json.dumps(loaded, ensure_ascii=False)
    b = json.dumps(expected, ensure_ascii=False)
    if a != b:
        raise RuntimeError(f"YAML round trip differs:\n  loaded:   {a}\n  recorded: {b}")


def render_connect(connect: dict[str, Any]) -> str:
    doc = {
        "format": 1,
        "sdk": _Flow({"name": "meshagent-api", "language": "python", "version": SDK_VERSION}),
        "path": connect["path"],
        "query": _Flow({k: v for k, v in connect["query"]}),
        "query_string": connect["query_string"],
    }
    return (
        "# The websocket URL the SDK connected to (ws://127.0.0.1:PORT/rooms/test-room given, token set).\n"
        + _dump(doc)
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "cases" / "python")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    args = parser.parse_args()

    if meshagent.api.__version__ != SDK_VERSION:
        print(f"meshagent-api {meshagent.api.__version__} installed, {SDK_VERSION} required", file=sys.stderr)
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

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
        text = render_case(rec)
        try:
            check_round_trip(text, case_document(rec))
        except RuntimeError as ex:
            failures += 1
            print(f"FAIL {sc.id}: {ex}", file=sys.stderr)
            continue
        (out / name).write_text(text, encoding="utf-8")
        written.add(name)
        print(f"ok   {sc.id}  ({len(rec.frames)} frames, outcome: {next(iter(rec.outcome))})")

    if connect is not None:
        (out / "_connect.yaml").write_text(render_connect(connect), encoding="utf-8")

    if not args.only and failures == 0:
        for stale in sorted(out.glob("py-*.yaml")):
            if stale.name not in written:
                print(f"removing stale {stale.name}")
                stale.unlink()

    print(f"{len(written)} case(s) written to {out}, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
