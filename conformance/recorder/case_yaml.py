"""Case files (format 1, README.md): YAML rendering and the round-trip check, shared by
record_python.py and record_typescript.py.

`rec` is a Recording; its scenario needs `id`, `method`, `arguments` and `input` (None when the
case has none). `sdk` is the case file's `sdk` mapping, e.g.
{"name": "meshagent-api", "language": "python", "version": "0.35.8"}.
"""

from __future__ import annotations

import base64
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from fake_room import Frame


@dataclass
class Recording:
    scenario: Any
    frames: list[Frame]
    outcome: dict[str, Any]
    connect: dict[str, Any]


class _Flow(dict):
    """A mapping emitted in YAML flow style ({...}); everything inside it is flow style too."""


class _FlowList(list):
    """A sequence emitted in YAML flow style ([...])."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # Strings with line breaks are written double-quoted with "\n" escapes, so that every frame
    # and every outcome item stays on one line.
    if "\n" in data or "\r" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


_Dumper.add_representer(str, _represent_str)
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


def _frame_dict(f: Frame) -> dict[str, Any]:
    return {
        "dir": f.dir,
        "id": f.id,
        "type": f.type,
        "header": f.header,
        "tail": base64.b64encode(f.tail).decode("ascii"),
    }


def _render_input(items: list[Any]) -> str:
    """`input:` with one line per item (every item in flow style)."""
    if not items:
        return "input: []\n"
    lines = _dump([_flow(item) for item in items])
    return "input:\n" + "".join("  " + line + "\n" for line in lines.splitlines())


def render_case(rec: Recording, sdk: dict[str, Any]) -> str:
    sc = rec.scenario
    head = {
        "format": 1,
        "id": sc.id,
        "sdk": _Flow(sdk),
        "method": sc.method,
        "arguments": _Flow(sc.arguments),
    }
    out = [_dump(head)]
    if sc.input is not None:
        out.append(_render_input(sc.input))
    out.append("frames:\n" if rec.frames else "frames: []\n")
    for f in rec.frames:
        out.append(_wire_comment(f))
        out.append("  - " + _dump(_Flow(_frame_dict(f))))
    (key, value), = rec.outcome.items()
    if key == "events" and not value:
        outcome_text = "outcome:\n  events: []\n"
    elif key == "events":
        outcome_text = "outcome:\n  events:\n" + "".join("    - " + _dump(_Flow(e)) for e in value)
    else:
        outcome_text = "outcome:\n  " + _dump({key: _flow(value)})
    out.append(outcome_text)
    return "".join(out)


def case_document(rec: Recording, sdk: dict[str, Any]) -> dict[str, Any]:
    """The plain data a case file must load back as (used to check the YAML round trip)."""
    sc = rec.scenario
    return {
        "format": 1,
        "id": sc.id,
        "sdk": dict(sdk),
        "method": sc.method,
        "arguments": sc.arguments,
        **({"input": sc.input} if sc.input is not None else {}),
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


def render_connect(connect: dict[str, Any], sdk: dict[str, Any]) -> str:
    doc = {
        "format": 1,
        "sdk": _Flow(sdk),
        "path": connect["path"],
        "query": _Flow({k: v for k, v in connect["query"]}),
        "query_string": connect["query_string"],
    }
    return (
        "# The websocket URL the SDK connected to (ws://127.0.0.1:PORT/rooms/test-room given, token set).\n"
        + _dump(doc)
    )


def render_connect_auth(connect_auth: dict[str, Any], sdk: dict[str, Any]) -> str:
    """`_connect.yaml` of the 0.56 recordings (cases-0.56/): path, query and the Authorization
    header, the token replaced by <token>; plus the websocket extensions the client offered."""
    doc = {
        "format": 1,
        "sdk": _Flow(sdk),
        "path": connect_auth["path"],
        "query": _Flow({k: v for k, v in connect_auth["query"]}),
        "headers": _Flow(connect_auth["headers"]),
        "extensions": connect_auth["extensions"],
    }
    return (
        "# The websocket request the SDK connected with (ws://127.0.0.1:PORT/rooms/test-room given,\n"
        "# token set): where the token travelled (replaced by <token>) and the extensions offered.\n"
        + _dump(doc)
    )


def write_cases(
    results: list[tuple[Any, Recording | Exception]],
    out: Path,
    sdk: dict[str, Any],
    *,
    prefix: str,
    connect_auth: bool,
    full_run: bool,
) -> int:
    """Write one case file per recorded scenario (in scenario order) and `_connect.yaml`; report
    failures on stderr. After a full run with no failure, remove `<prefix>*.yaml` files no scenario
    wrote. `connect_auth`: `_connect.yaml` with the auth placement (render_connect_auth).
    Returns the number of failures."""
    connect: dict[str, Any] | None = None
    written: set[str] = set()
    failures = 0
    for sc, rec in results:
        if isinstance(rec, Exception):
            failures += 1
            print(f"FAIL {sc.id}: {type(rec).__name__}: {rec}", file=sys.stderr)
            continue
        if connect is None:
            connect = rec.connect
        elif connect != rec.connect:
            print(f"FAIL {sc.id}: connect request differs between scenarios", file=sys.stderr)
            failures += 1
        name = f"{sc.id}.yaml"
        text = render_case(rec, sdk)
        try:
            check_round_trip(text, case_document(rec, sdk))
        except RuntimeError as ex:
            failures += 1
            print(f"FAIL {sc.id}: {ex}", file=sys.stderr)
            continue
        (out / name).write_text(text, encoding="utf-8")
        written.add(name)
        print(f"ok   {sc.id}  ({len(rec.frames)} frames, outcome: {next(iter(rec.outcome))})")

    if connect is not None:
        render = render_connect_auth if connect_auth else render_connect
        (out / "_connect.yaml").write_text(render(connect, sdk), encoding="utf-8")

    if full_run and failures == 0:
        for stale in sorted(out.glob(f"{prefix}*.yaml")):
            if stale.name not in written:
                print(f"removing stale {stale.name}")
                stale.unlink()

    print(f"{len(written)} case(s) written to {out}, {failures} failure(s)")
    return failures
