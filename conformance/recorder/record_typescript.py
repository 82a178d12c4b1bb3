"""Record what the official TypeScript SDK (@meshagent/meshagent 0.35.8 or 0.39.9) puts on the wire.

For every scenario: start the fake room (fake_room.py) on a free loopback port, run
``node ts/driver.mjs '<scenario JSON>'``, which connects the official SDK's RoomClient to it and makes
ONE SDK call, and write one YAML case file (format 1, same as the Python cases) with every message
after the handshake (both directions) and the SDK's outcome.

Both SDK versions share this runner and ts/driver.mjs; what differs per version is data (VERSIONS):
the folder with the SDK's node_modules, the scenario package, the case id prefix, the output
folder and how `_connect.yaml` is written (0.39.9: with the auth placement, cases-0.56/).

The SDK prints ``GOT RESPONSE ...`` to stdout for every response; the driver therefore writes its
outcome to a JSON file instead, and node's stdout is only kept to show it when a scenario fails.

The scenarios are in ts_scenarios/ (0.35.8) and ts039_scenarios/ (0.39.9), one module per toolkit
or group; the case file YAML in case_yaml.py.

Usage: python record_typescript.py [--sdk 0.35.8|0.39.9] [--out DIR] [--only CASE_ID ...] [--jobs N]
       (default out: ../cases/typescript or ../cases-0.56/typescript; needs `npm ci` in ts/ or
       ts-0.39/ first; record.sh typescript / typescript-0.39 does both)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import importlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from dataclasses import dataclass

from case_yaml import Recording, write_cases
from fake_room import FakeRoom, Frame
from ts_scenarios.common import Scenario

SDK_NAME = "@meshagent/meshagent"
ROOM_NAME = "test-room"
# Same token as record_python.py. Looks like a JWT; the fake room does not validate it.
TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjb25mb3JtYW5jZSIsIm5hbWUiOiJhbGljZSJ9"
    ".Y29uZm9ybWFuY2Utc2lnbmF0dXJl"
)
PROCESS_TIMEOUT = 30.0

HERE = Path(__file__).resolve().parent
DRIVER = HERE / "ts" / "driver.mjs"


@dataclass(frozen=True)
class Version:
    """What differs between the recorded SDK versions."""

    sdk_version: str
    sdk_dir: Path  # its package.json and node_modules
    scenarios: str  # the scenario package
    prefix: str  # every case id starts with it
    out: Path  # default output folder
    # True: `_connect.yaml` also records the Authorization header and the extensions offered
    # (render_connect_auth, the fake room redacts the token); False: path and query only.
    connect_auth: bool


VERSIONS = {
    "0.35.8": Version("0.35.8", HERE / "ts", "ts_scenarios", "ts-", HERE.parent / "cases" / "typescript", False),
    "0.39.9": Version(
        "0.39.9", HERE / "ts-0.39", "ts039_scenarios", "ts039-", HERE.parent / "cases-0.56" / "typescript", True
    ),
}


# --------------------------------------------------------------------------- running


def node_binary() -> str:
    return os.environ.get("NODE", "node")


async def run_scenario(sc: Scenario, workdir: Path, version: Version) -> Recording:
    # Both TS versions await a reply to every request chunk (ack_chunks=True, the default).
    server = FakeRoom(script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME, token=TOKEN)
    port = await server.start()
    result_path = workdir / f"{sc.id}.json"
    if result_path.exists():
        result_path.unlink()
    spec = {
        "sdk_dir": str(version.sdk_dir),
        "url": f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}",
        "token": TOKEN,
        "result_path": str(result_path),
        "call": list(sc.call) if sc.call is not None else None,
        "listen": [list(x) for x in sc.listen],
        "wait_participant": sc.wait_participant,
        "result_keys": sc.result_keys,
        "events_setup": sc.events_setup,
        "expect_events": sc.expect_events,
        "expect_unhandled": sc.expect_unhandled,
        "pre_calls": getattr(sc, "pre_calls", None),
        "take": getattr(sc, "take", None),
    }
    if sc.steps is not None:
        spec.update(
            collect=sc.collect, ops=sc.ops, uuids=sc.uuids, wait_requests="close" if sc.client_closes else "pending",
            seed_random=sc.seed_random, sync_children=sc.sync_children,
            sync_path=sc.call[1][0] if sc.collect == "sync" else None,
        )
    stdout = stderr = b""
    try:
        proc = await asyncio.create_subprocess_exec(
            node_binary(),
            str(DRIVER),
            json.dumps(spec, ensure_ascii=False),
            cwd=version.sdk_dir,
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
    connect = server.connect_auth if version.connect_auth else server.connect
    return Recording(scenario=sc, frames=frames, outcome=report["outcome"], connect=connect)


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
    tail_b64 = base64.b64encode(requests[0].tail).decode("ascii")
    content = header.get("arguments")
    if not isinstance(content, dict):
        content = {}
    if content == {"type": "control", "method": "open"}:
        # A streaming tool: the input travels in the first request chunk (the start chunk).
        chunks = [f for f in frames if f.dir == "send" and f.type == "room.tool_call_request_chunk"]
        if not chunks:
            return [] if not sc.arguments else ["no start chunk was sent"]
        tail_b64 = base64.b64encode(chunks[0].tail).decode("ascii")
        content = chunks[0].header.get("chunk", {})
        requests = chunks
    # `data` stands for the tail when the input is a file/binary Content; otherwise it is an
    # ordinary wire field (e.g. developer.log's `data`).
    data_is_tail = content.get("type") in ("file", "binary")
    if sc.method.startswith("agents."):
        sent = header
    elif content.get("type") == "json":
        sent = content.get("json", {})
    elif content.get("type") == "binary":
        sent = content.get("headers", {})
    else:
        sent = {}
    problems = []
    if requests[0].tail and not (data_is_tail and "data" in sc.arguments):
        problems.append("the request has a tail but the arguments have no `data`")
    for key, value in sc.arguments.items():
        if key == "data" and data_is_tail:
            if value != tail_b64:
                problems.append(f"argument data: tail {tail_b64!r}, recorded {value!r}")
        elif key not in sent:
            problems.append(f"argument {key!r} not sent")
        elif json.dumps(sent[key], ensure_ascii=False) != json.dumps(value, ensure_ascii=False):
            problems.append(f"argument {key!r}: sent {sent[key]!r}, recorded {value!r}")
    return problems


def installed_sdk_version(sdk_dir: Path) -> str | None:
    pkg = sdk_dir / "node_modules" / "@meshagent" / "meshagent" / "package.json"
    if not pkg.exists():
        return None
    return json.loads(pkg.read_text(encoding="utf-8")).get("version")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sdk", choices=sorted(VERSIONS), default="0.35.8", help="the SDK version to record")
    parser.add_argument("--out", type=Path, help="default: cases/typescript (0.35.8), cases-0.56/typescript (0.39.9)")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    parser.add_argument(
        "--jobs", type=int, default=4, help="scenarios run at once (each has its own fake room and node process)"
    )
    args = parser.parse_args()
    version = VERSIONS[args.sdk]
    sdk = {"name": SDK_NAME, "language": "typescript", "version": version.sdk_version}

    installed = installed_sdk_version(version.sdk_dir)
    if installed != version.sdk_version:
        print(
            f"{SDK_NAME} {installed or '(not installed)'} in {version.sdk_dir}/node_modules,"
            f" {version.sdk_version} required (run `npm ci` there)",
            file=sys.stderr,
        )
        return 2

    out: Path = args.out or version.out
    out.mkdir(parents=True, exist_ok=True)

    SCENARIOS = importlib.import_module(version.scenarios).SCENARIOS
    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "duplicate case id"
    assert all(i.startswith(version.prefix) for i in ids), f"every {version.sdk_version} case id starts with {version.prefix}"
    unknown = [i for i in args.only if i not in ids]
    if unknown:
        print(f"unknown case id(s): {unknown}", file=sys.stderr)
        return 2

    selected = [s for s in SCENARIOS if not args.only or s.id in args.only]
    with tempfile.TemporaryDirectory(prefix="record-ts-") as tmp:
        limit = asyncio.Semaphore(max(1, args.jobs))

        async def guarded(sc: Scenario) -> Recording | Exception:
            async with limit:
                try:
                    return await run_scenario(sc, Path(tmp), version)
                except Exception as ex:  # noqa: BLE001 - reported below, in scenario order
                    return ex

        results = await asyncio.gather(*(guarded(sc) for sc in selected))

    failures = write_cases(
        list(zip(selected, results)), out, sdk,
        prefix=version.prefix, connect_auth=version.connect_auth, full_run=not args.only,
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
