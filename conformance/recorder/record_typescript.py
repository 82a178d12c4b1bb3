"""Record what the official TypeScript SDK (@meshagent/meshagent 0.35.8) puts on the wire.

For every scenario: start the fake room (fake_room.py) on a free loopback port, run
``node ts/driver.mjs '<scenario JSON>'``, which connects the official SDK's RoomClient to it and makes
ONE SDK call, and write one YAML case file (format 1, same as the Python cases) with every message
after the handshake (both directions) and the SDK's outcome.

The SDK prints ``GOT RESPONSE ...`` to stdout for every response; the driver therefore writes its
outcome to a JSON file instead, and node's stdout is only kept to show it when a scenario fails.

Usage: python record_typescript.py [--out DIR] [--only CASE_ID ...]
       (default out: ../cases/typescript next to this file; needs `npm ci` in ts/ first)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fake_room import FakeRoom, Frame, Push, Step

SDK_NAME = "@meshagent/meshagent"
SDK_VERSION = "0.35.8"
ROOM_NAME = "test-room"
# Same token as record_python.py. Looks like a JWT; the fake room does not validate it.
TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjb25mb3JtYW5jZSIsIm5hbWUiOiJhbGljZSJ9"
    ".Y29uZm9ybWFuY2Utc2lnbmF0dXJl"
)
PROCESS_TIMEOUT = 30.0

HERE = Path(__file__).resolve().parent
TS_DIR = HERE / "ts"


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    id: str
    # "<toolkit>.<tool>" for room.invoke_tool of a built-in toolkit, the message type for other
    # requests ("room.invoke_tool" for agents.invokeTool, "room.list_toolkits", "room.call"),
    # or "events" for push-only cases.
    method: str
    # The tool input the SDK was asked to send, by wire field name, only keys the caller passed.
    # For "room.*" methods: the request header fields the caller passed (wire names).
    arguments: dict[str, Any]
    # The TypeScript call: (method path under RoomClient, positional JS arguments).
    # Special values: {"$bytes": b64} -> Uint8Array, {"$participant": id} -> RemoteParticipant.
    call: tuple[str, list[Any]] | None = None
    replies: list[dict[str, Any]] = field(default_factory=list)  # one reply Content per request
    pushes: list[Push] = field(default_factory=list)
    listen: list[tuple[str, str]] = field(default_factory=list)  # (client, event), e.g. ("storage", "file.updated")
    wait_participant: str | None = None  # wait until messaging knows this remote participant

    def expect(self) -> dict[str, Any]:
        if self.method.startswith("room."):
            if self.method == "room.invoke_tool":
                return {
                    "type": "room.invoke_tool",
                    "toolkit": self.arguments["toolkit"],
                    "tool": self.arguments["tool"],
                }
            return {"type": self.method}
        toolkit, tool = self.method.split(".", 1)
        return {"type": "room.invoke_tool", "toolkit": toolkit, "tool": tool}

    def script(self) -> list[Step]:
        if self.method == "events":
            return []
        return [Step(expect=self.expect(), reply=r) for r in self.replies]


def json_reply(value: Any) -> dict[str, Any]:
    return {"type": "json", "json": value}


def error_reply(text: str, code: int) -> dict[str, Any]:
    return {"type": "error", "text": text, "code": code}


EMPTY = {"type": "empty"}

LONG_TEXT = "".join(f"{i:04d}-abcdefghij|" for i in range(80))  # 1280 ASCII chars (as record_python.py)
assert len(LONG_TEXT) > 1100


def plain(
    id: str,
    method: str,
    arguments: dict[str, Any],
    ts_method: str,
    ts_args: list[Any],
    reply: dict[str, Any],
    **kw: Any,
) -> Scenario:
    return Scenario(
        id=id, method=method, arguments=arguments, call=(ts_method, ts_args), replies=[reply], **kw
    )


# Storage and queues: the same argument values and server replies as record_python.py, so the
# two SDKs are directly comparable (ids "ts-…" here, "py-…" there).
STORAGE_QUEUES: list[Scenario] = [
    plain("ts-storage-exists-true", "storage.exists", {"path": "docs/a.txt"},
          "storage.exists", ["docs/a.txt"], json_reply({"exists": True})),
    plain("ts-storage-exists-false", "storage.exists", {"path": "docs/missing.txt"},
          "storage.exists", ["docs/missing.txt"], json_reply({"exists": False})),
    plain("ts-storage-exists-error-not-found", "storage.exists", {"path": "nope/a.txt"},
          "storage.exists", ["nope/a.txt"], error_reply("not found", 3001)),
    plain("ts-storage-stat-exists", "storage.stat", {"path": "docs/a.txt"},
          "storage.stat", ["docs/a.txt"],
          json_reply({
              "exists": True,
              "name": "a.txt",
              "is_folder": False,
              "size": 1234,
              "created_at": "2024-01-02T03:04:05.678000+00:00",
              "updated_at": "2024-06-07T08:09:10+00:00",
          })),
    plain("ts-storage-stat-missing", "storage.stat", {"path": "docs/missing.txt"},
          "storage.stat", ["docs/missing.txt"], json_reply({"exists": False})),
    plain("ts-storage-list", "storage.list", {"path": "docs"},
          "storage.list", ["docs"],
          json_reply({
              "files": [
                  {"name": "reports", "is_folder": True, "size": None, "created_at": None, "updated_at": None},
                  {
                      "name": "résumé-日本語-✓.txt",
                      "is_folder": False,
                      "size": 42,
                      "created_at": "2024-01-02T03:04:05+00:00",
                      "updated_at": "2024-01-03T04:05:06.250000+00:00",
                  },
              ]
          })),
    plain("ts-storage-delete", "storage.delete", {"path": "docs/old.txt"},
          "storage.delete", ["docs/old.txt", {}], EMPTY),
    plain("ts-storage-delete-recursive", "storage.delete", {"path": "docs/old-folder", "recursive": True},
          "storage.delete", ["docs/old-folder", {"recursive": True}], EMPTY),
    plain("ts-storage-download-url", "storage.download_url", {"path": "docs/a.txt"},
          "storage.downloadUrl", ["docs/a.txt"],
          json_reply({"url": "https://files.example.test/rooms/test-room/docs/a.txt?sig=abc123"})),
    Scenario(
        id="ts-storage-events",
        method="events",
        arguments={},
        pushes=[
            Push(type="storage.file.updated", header={"path": "docs/a.txt", "participant_id": "p-remote"}),
            Push(type="storage.file.deleted", header={"path": "docs/ünïcödé.txt", "participant_id": "p-remote"}),
        ],
        listen=[("storage", "file.updated"), ("storage", "file.deleted")],
    ),
    # ---- queues
    plain("ts-queues-list", "queues.list", {}, "queues.list", [],
          json_reply({"queues": [{"name": "jobs", "size": 3}, {"name": "événements", "size": 0}]})),
    plain("ts-queues-open", "queues.open", {"name": "jobs"}, "queues.open", ["jobs"], EMPTY),
    plain("ts-queues-open-error-not-found", "queues.open", {"name": "missing"}, "queues.open", ["missing"],
          error_reply("queue not found", 5001)),
    plain("ts-queues-send", "queues.send", {"name": "jobs", "message": {"task": "resize", "id": 7}},
          "queues.send", ["jobs", {"task": "resize", "id": 7}, {}], EMPTY),
    plain("ts-queues-send-create-false", "queues.send",
          {"name": "jobs", "message": {"task": "resize", "id": 8}, "create": False},
          "queues.send", ["jobs", {"task": "resize", "id": 8}, {"create": False}], EMPTY),
    plain("ts-queues-send-large-unicode", "queues.send",
          {
              "name": "jobs",
              "message": {
                  "greeting": "héllo wörld — 日本語 ✓ 🚀",
                  "long": LONG_TEXT,
                  "nested": {"list": [1, 2.5, None, True, "ß"]},
              },
          },
          "queues.send",
          ["jobs", {
              "greeting": "héllo wörld — 日本語 ✓ 🚀",
              "long": LONG_TEXT,
              "nested": {"list": [1, 2.5, None, True, "ß"]},
          }, {}],
          EMPTY),
    plain("ts-queues-drain", "queues.drain", {"name": "jobs"}, "queues.drain", ["jobs"], EMPTY),
    plain("ts-queues-close", "queues.close", {"name": "jobs"}, "queues.close", ["jobs"], EMPTY),
    plain("ts-queues-receive", "queues.receive", {"name": "jobs"}, "queues.receive", ["jobs", {}],
          json_reply({"task": "resize", "id": 7})),
    plain("ts-queues-receive-empty", "queues.receive", {"name": "jobs", "create": False, "wait": False},
          "queues.receive", ["jobs", {"create": False, "wait": False}], EMPTY),
]

SCENARIOS: list[Scenario] = [*STORAGE_QUEUES]


# --------------------------------------------------------------------------- running


@dataclass
class Recording:
    scenario: Scenario
    frames: list[Frame]
    outcome: dict[str, Any]
    connect: dict[str, Any]


def node_binary() -> str:
    return os.environ.get("NODE", "node")


async def run_scenario(sc: Scenario, workdir: Path) -> Recording:
    server = FakeRoom(script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME)
    port = await server.start()
    result_path = workdir / f"{sc.id}.json"
    if result_path.exists():
        result_path.unlink()
    spec = {
        "url": f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}",
        "token": TOKEN,
        "result_path": str(result_path),
        "call": list(sc.call) if sc.call is not None else None,
        "listen": [list(x) for x in sc.listen],
        "wait_participant": sc.wait_participant,
    }
    stdout = stderr = b""
    try:
        proc = await asyncio.create_subprocess_exec(
            node_binary(),
            "driver.mjs",
            json.dumps(spec, ensure_ascii=False),
            cwd=TS_DIR,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,  # the SDK's "GOT RESPONSE ..." noise; discarded
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), PROCESS_TIMEOUT)
        except asyncio.TimeoutError:
            proc.kill()
            stdout, stderr = await proc.communicate()
            raise RuntimeError(f"node driver timed out; stderr: {stderr.decode(errors='replace')}")
        if server.connect is not None:
            await asyncio.wait_for(server.closed.wait(), PROCESS_TIMEOUT)
    finally:
        await server.stop()

    problems = list(server.errors)
    report: dict[str, Any] | None = None
    if result_path.exists():
        report = json.loads(result_path.read_text(encoding="utf-8"))
    if proc.returncode != 0:
        problems.append(f"node exited with {proc.returncode}")
    if report is None:
        problems.append("the driver wrote no result")
    elif "failure" in report:
        problems.append(f"driver: {report['failure']}")
    if server.unused_steps:
        problems.append(f"script steps never requested: {[s.expect for s in server.unused_steps]}")
    if server.connect is None:
        problems.append("the SDK never connected")
    frames = [f for f in server.frames if not f.handshake]
    if not problems:
        problems.extend(check_arguments(sc, frames))
    if problems:
        detail = ""
        if stderr.strip():
            detail += f"\n  node stderr: {stderr.decode(errors='replace').strip()}"
        if stdout.strip():
            detail += f"\n  node stdout: {stdout.decode(errors='replace').strip()[:2000]}"
        raise RuntimeError(f"{sc.id}: " + "; ".join(problems) + detail)

    assert report is not None and server.connect is not None
    return Recording(scenario=sc, frames=frames, outcome=report["outcome"], connect=server.connect)


def check_arguments(sc: Scenario, frames: list[Frame]) -> list[str]:
    """The recorded `arguments` must match what the SDK actually sent (guards typos in `call`)."""
    if sc.method == "events":
        return []
    expect = sc.expect()
    requests = [
        f for f in frames if f.dir == "send" and f.type == expect["type"]
        and all(f.header.get(k) == v for k, v in expect.items() if k != "type")
    ]
    if not requests:
        return [f"no {expect} request was sent"]
    header = requests[0].header
    if sc.method.startswith("room."):
        sent = header
    else:
        content = header.get("arguments", {})
        sent = content.get("json", {}) if content.get("type") == "json" else {}
    problems = []
    for key, value in sc.arguments.items():
        if key not in sent:
            problems.append(f"argument {key!r} not sent")
        elif json.dumps(sent[key], ensure_ascii=False) != json.dumps(value, ensure_ascii=False):
            problems.append(f"argument {key!r}: sent {sent[key]!r}, recorded {value!r}")
    return problems


# --------------------------------------------------------------------------- YAML output
# Same layout as record_python.py (format 1).


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


def _sdk() -> dict[str, Any]:
    return {"name": SDK_NAME, "language": "typescript", "version": SDK_VERSION}


def _frame_dict(f: Frame) -> dict[str, Any]:
    return {
        "dir": f.dir,
        "id": f.id,
        "type": f.type,
        "header": f.header,
        "tail": base64.b64encode(f.tail).decode("ascii"),
    }


def render_case(rec: Recording) -> str:
    sc = rec.scenario
    head = {
        "format": 1,
        "id": sc.id,
        "sdk": _Flow(_sdk()),
        "method": sc.method,
        "arguments": _Flow(sc.arguments),
    }
    out = [_dump(head), "frames:\n"]
    for f in rec.frames:
        out.append(_wire_comment(f))
        out.append("  - " + _dump(_Flow(_frame_dict(f))))
    (key, value), = rec.outcome.items()
    if key == "events":
        outcome_text = "outcome:\n  events:\n" + "".join("    - " + _dump(_Flow(e)) for e in value)
    else:
        outcome_text = "outcome:\n  " + _dump({key: _flow(value)})
    out.append(outcome_text)
    return "".join(out)


def case_document(rec: Recording) -> dict[str, Any]:
    sc = rec.scenario
    return {
        "format": 1,
        "id": sc.id,
        "sdk": _sdk(),
        "method": sc.method,
        "arguments": sc.arguments,
        "frames": [_frame_dict(f) for f in rec.frames],
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
        "sdk": _Flow(_sdk()),
        "path": connect["path"],
        "query": _Flow({k: v for k, v in connect["query"]}),
        "query_string": connect["query_string"],
    }
    return (
        "# The websocket URL the SDK connected to (ws://127.0.0.1:PORT/rooms/test-room given, token set).\n"
        + _dump(doc)
    )


def installed_sdk_version() -> str | None:
    pkg = TS_DIR / "node_modules" / "@meshagent" / "meshagent" / "package.json"
    if not pkg.exists():
        return None
    return json.loads(pkg.read_text(encoding="utf-8")).get("version")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "cases" / "typescript")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    args = parser.parse_args()

    version = installed_sdk_version()
    if version != SDK_VERSION:
        print(
            f"{SDK_NAME} {version or '(not installed)'} in {TS_DIR}/node_modules, {SDK_VERSION} required"
            " (run `npm ci` there)",
            file=sys.stderr,
        )
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "duplicate case id"
    unknown = [i for i in args.only if i not in ids]
    if unknown:
        print(f"unknown case id(s): {unknown}", file=sys.stderr)
        return 2

    selected = [s for s in SCENARIOS if not args.only or s.id in args.only]
    connect: dict[str, Any] | None = None
    written: set[str] = set()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="record-ts-") as tmp:
        for sc in selected:
            try:
                rec = await run_scenario(sc, Path(tmp))
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
        for stale in sorted(out.glob("ts-*.yaml")):
            if stale.name not in written:
                print(f"removing stale {stale.name}")
                stale.unlink()

    print(f"{len(written)} case(s) written to {out}, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
