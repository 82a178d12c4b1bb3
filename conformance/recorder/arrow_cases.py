"""Arrow IPC payloads and fake-room scripts for the 0.56 `dataset` (and `sqlite`) tools, shared by
py056_scenarios/dataset.py and ts039_scenarios/dataset.py (imports nothing from meshagent).

Arrow IPC stream bytes are deterministic for a given schema/table and pyarrow version; the Python
0.56 recorder runs with pyarrow 22 (.venv-0.56), the TS one builds the server payloads with the
0.35.8 venv's pyarrow 26."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from fake_room import Push, Step, chunk_step, open_step, response_chunk
from stream_cases import binary, client_close, json_chunk, server_close

ARROW = "application/vnd.apache.arrow.stream"

PEOPLE_SCHEMA = pa.schema([
    pa.field("id", pa.int64(), nullable=False),
    pa.field("name", pa.string()),
    pa.field("score", pa.float64()),
])
PEOPLE_ROWS = [
    {"id": 1, "name": "Zoë Ågren", "score": 9.5},
    {"id": 2, "name": "李雷", "score": 7.25},
    {"id": 3, "name": "O'Brien \"Ob\"", "score": None},
]
MERGE_ROWS = [{"id": 2, "name": "Li Lei", "score": 8.0}, {"id": 4, "name": "Ana María", "score": 6.5}]
PARAMS_SCHEMA = pa.schema([pa.field("min_score", pa.float64()), pa.field("city", pa.string())])
PARAMS_ROWS = [{"min_score": 5.0, "city": "Zürich"}]


def schema_ipc(schema: pa.Schema) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema):
        pass
    return sink.getvalue().to_pybytes()


def table_ipc(rows: list[dict[str, Any]], schema: pa.Schema = PEOPLE_SCHEMA) -> bytes:
    table = pa.Table.from_pylist(rows, schema=schema)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue().to_pybytes()


def schema_json(schema: pa.Schema) -> list[dict[str, Any]]:
    """The outcome form of a pyarrow.Schema: one {name, type, nullable} per field."""
    return [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in schema]


PULL = binary(kind="pull")


def data_chunk(rows: list[dict[str, Any]], schema: pa.Schema = PEOPLE_SCHEMA, **headers: Any) -> Push:
    return response_chunk(binary(kind="data", content_type=ARROW, **headers), table_ipc(rows, schema))


def write_steps(toolkit: str, tool: str, batches: int, *, start: dict[str, Any] | None = None,
                data: dict[str, Any] | None = None) -> list[Step]:
    """A write stream: start -> pull; each data chunk -> pull; the client finds its source
    exhausted and closes; then the server closes."""
    steps = [open_step(toolkit, tool),
             chunk_step(start or binary(kind="start"), then=[response_chunk(PULL)])]
    for _ in range(batches):
        steps.append(chunk_step(data or binary(kind="data"), then=[response_chunk(PULL)]))
    steps.append(client_close(then=[server_close()]))
    return steps


def write_error_steps(toolkit: str, tool: str, error: dict[str, Any]) -> list[Step]:
    return [
        open_step(toolkit, tool),
        chunk_step(binary(kind="start"), then=[response_chunk(PULL)]),
        chunk_step(binary(kind="data"), then=[response_chunk(error), server_close()]),
        client_close(),
    ]


def read_steps(toolkit: str, tool: str, batches: list[Push], *, pull: dict[str, Any] | None = None) -> list[Step]:
    """A read stream: start (no answer); each pull -> the next batch; the pull after the last one
    -> close; the client then closes its side."""
    pull = pull or binary(kind="pull")
    steps = [open_step(toolkit, tool), chunk_step(binary(kind="start"))]
    for batch in batches:
        steps.append(chunk_step(pull, then=[batch]))
    steps.append(chunk_step(pull, then=[server_close()]))
    steps.append(client_close())
    return steps


def read_error_steps(toolkit: str, tool: str, error: dict[str, Any]) -> list[Step]:
    return [
        open_step(toolkit, tool),
        chunk_step(binary(kind="start")),
        chunk_step(binary(kind="pull"), then=[response_chunk(error), server_close()]),
        client_close(),
    ]


def ready_event(**fields: Any) -> Push:
    return response_chunk(json_chunk({"kind": "ready", **fields}))
