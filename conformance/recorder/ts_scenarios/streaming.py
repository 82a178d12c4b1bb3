"""The streaming tools: the same server scripts and payloads as the Python scenarios
(stream_cases.py). ts/driver.mjs reads the outcome from the call's return value as `collect` says."""

from __future__ import annotations

from typing import Any

import stream_cases as streams
from fake_room import Step

from .common import Scenario, b64, js_json


# Fixed uuid v4 draws for the containers exec/logs/get_build_logs request ids.
EXEC_REQUEST_ID = "5b1f0c9e-7a3d-4c2b-9e8f-0a1b2c3d4e5f"
LOGS_REQUEST_ID = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b"


def _bytes(data: bytes) -> dict[str, str]:
    return {"$bytes": b64(data)}


def stream(
    id: str,
    method: str,
    arguments: dict[str, Any],
    ts_method: str,
    ts_args: list[Any],
    steps: list[Step],
    collect: str | None = None,
    **kw: Any,
) -> Scenario:
    return Scenario(id=id, method=method, arguments=arguments, call=(ts_method, ts_args), steps=steps,
                    collect=collect, **kw)


TS_PEOPLE_SCHEMA = {"id": {"$datatype": {"type": "int"}}, "name": {"$datatype": {"type": "text"}},
                    "score": {"$datatype": {"type": "float"}}}
TS_PEOPLE_FIELDS = [
    {"name": "id", "data_type": {"type": "int", "nullable": None, "metadata": None}},
    {"name": "name", "data_type": {"type": "text", "nullable": None, "metadata": None}},
    {"name": "score", "data_type": {"type": "float", "nullable": None, "metadata": None}},
]
SQL_QUERY = "SELECT p.id, p.name, p.score, p.active, p.joined, p.seen FROM people p WHERE p.score >= $min_score AND p.city = $city ORDER BY p.id"
SQL_PARAMS = {"min_score": 5, "city": "Zürich"}
SQL_TABLES = ["people", {"name": "orders", "namespace": ["shop", "eu"], "alias": "o"}]
SQL_TABLES_WIRE = [{"name": "people"}, {"name": "orders", "namespace": ["shop", "eu"], "alias": "o"}]
# No close_stdin in the TypeScript SDK: the last input is the (repeated, suppressed) resize.
EXEC_OPS = [
    {"stdin": b64(streams.EXEC_STDIN)},
    {"resize": {"width": 120, "height": 40}},
    {"resize": {"width": 120, "height": 40}},
]
EXEC_KILL_OPS = [{"stdin": b64(streams.EXEC_STDIN)}, {"kill": True}]
# The same MeshSchema as record_python.py's SYNC_SCHEMA, as JSON (MeshSchema.fromJson in the driver).
SYNC_SCHEMA_JSON = streams.SYNC_SCHEMA_JSON
# The TS MeshSchema.toJson() puts `$defs` second (same content).
SYNC_SCHEMA_WIRE = {k: SYNC_SCHEMA_JSON[k] for k in ["$root_tag_ref", "$defs", "type", "additionalProperties", "required", "properties"]}
assert SYNC_SCHEMA_WIRE == SYNC_SCHEMA_JSON
SYNC_OPS = [{"append_child": {"tag": "item", "attributes": {"text": "local: grüße ✓"}}}]
# Every uuid v4 the SDK draws in the sync case (document id, element `$id`s) is fixed.
SYNC_ELEMENT_IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, 9)]

STREAMS: list[Scenario] = [
    # ---- storage.upload
    stream("ts-storage-upload-multi-chunk", "storage.upload", {"path": "docs/notes ✓.txt", "overwrite": True},
           "storage.upload", ["docs/notes ✓.txt", _bytes(streams.UPLOAD_TEXT), {"overwrite": True}],
           streams.upload_sized_steps(streams.UPLOAD_TEXT, streams.UPLOAD_PULL),
           input=[b64(streams.UPLOAD_TEXT)]),
    stream("ts-storage-upload-stream-unsized", "storage.upload",
           {"path": "media/clip.bin", "name": "clip (1).bin", "mime_type": "video/mp2t"},
           "storage.uploadStream",
           ["media/clip.bin", {"$async": [_bytes(p) for p in streams.UPLOAD_PARTS]},
            {"name": "clip (1).bin", "mimeType": "video/mp2t"}],
           streams.upload_unsized_steps(1),
           input=[b64(p) for p in streams.UPLOAD_PARTS]),
    stream("ts-storage-upload-error-chunk", "storage.upload", {"path": "docs/big.bin"},
           "storage.upload", ["docs/big.bin", _bytes(streams.UPLOAD_ERROR_DATA)],
           streams.upload_error_steps(), input=[b64(streams.UPLOAD_ERROR_DATA)]),
    # ---- storage.download
    stream("ts-storage-download-multi-chunk", "storage.download", {"path": "reports/rapport ✓.md"},
           "storage.download", ["reports/rapport ✓.md"],
           streams.download_steps("rapport ✓.md", "text/markdown", streams.DOWNLOAD_TEXT, streams.DOWNLOAD_PIECE),
           "file"),
    stream("ts-storage-download-empty", "storage.download", {"path": "docs/empty.txt"},
           "storage.download", ["docs/empty.txt"], streams.download_steps("empty.txt", "text/plain", b"", 1), "file"),
    stream("ts-storage-download-abnormal-close", "storage.download", {"path": "dumps/dump.bin"},
           "storage.download", ["dumps/dump.bin"],
           streams.download_abnormal_close_steps([streams.client_close()]), "file"),
    # ---- database writes
    stream("ts-database-create-table-with-data", "database.create_table",
           {"name": "people", "fields": TS_PEOPLE_FIELDS, "mode": "overwrite"},
           "database.createTableWithSchema",
           [{"name": "people", "schema": TS_PEOPLE_SCHEMA, "data": streams.PEOPLE_ROWS, "mode": "overwrite"}],
           streams.db_write_steps("create_table", 1), input=[streams.PEOPLE_ROWS]),
    stream("ts-database-create-table-open-error", "database.create_table", {"name": "people"},
           "database.createTableFromData", [{"name": "people", "data": streams.PEOPLE_ROWS[:1]}],
           streams.db_open_error_steps("create_table", client_closes=False), input=[streams.PEOPLE_ROWS[:1]],
           client_closes=False),
    stream("ts-database-insert-130-rows", "database.insert", {"table": "events"},
           "database.insert", [{"table": "events", "records": streams.EVENT_ROWS}],
           streams.db_write_steps("insert", 2), input=[streams.EVENT_ROWS]),
    stream("ts-database-insert-stream", "database.insert", {"table": "people", "namespace": ["team", "ops"]},
           "database.insertStream",
           [{"table": "people", "chunks": {"$async": [streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]]},
             "namespace": ["team", "ops"]}],
           streams.db_write_steps("insert", 2), input=[streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]]),
    stream("ts-database-insert-error-chunk", "database.insert", {"table": "people"},
           "database.insert", [{"table": "people", "records": streams.PEOPLE_ROWS}],
           streams.db_write_error_steps("insert"), input=[streams.PEOPLE_ROWS]),
    stream("ts-database-merge", "database.merge", {"table": "people", "on": "id"},
           "database.merge", [{"table": "people", "on": "id", "records": streams.MERGE_ROWS}],
           streams.db_write_steps("merge", 1), input=[streams.MERGE_ROWS]),
    stream("ts-database-merge-error-chunk", "database.merge", {"table": "people", "on": "id"},
           "database.merge", [{"table": "people", "on": "id", "records": streams.MERGE_ROWS}],
           streams.db_write_error_steps("merge"), input=[streams.MERGE_ROWS]),
    # ---- database reads (the *Stream variants: one result entry per rows chunk)
    stream("ts-database-sql-stream", "database.sql",
           {"query": SQL_QUERY, "tables": SQL_TABLES_WIRE, "params_json": js_json(SQL_PARAMS)},
           "database.sqlStream", [{"query": SQL_QUERY, "tables": SQL_TABLES, "params": SQL_PARAMS}],
           streams.db_read_steps("sql", streams.SQL_CHUNKS), "iterate"),
    stream("ts-database-sql-error-chunk", "database.sql",
           {"query": "SELECT FROM people", "tables": SQL_TABLES_WIRE[:1]},
           "database.sqlStream", [{"query": "SELECT FROM people", "tables": ["people"]}],
           streams.db_read_error_steps("sql"), "iterate"),
    stream("ts-database-search-stream", "database.search",
           {"table": "docs", "text": "héllo", "where": "lang = 'de'", "limit": 10,
            "select": ["id", "text", "blob", "tags", "meta"]},
           "database.searchStream",
           [{"table": "docs", "text": "héllo", "where": "lang = 'de'", "limit": 10,
             "select": ["id", "text", "blob", "tags", "meta"]}],
           streams.db_read_steps("search", streams.SEARCH_CHUNKS), "iterate"),
    stream("ts-database-search-open-error", "database.search", {"table": "people", "vector": [0.25, -1.5, 3]},
           "database.searchStream", [{"table": "people", "vector": [0.25, -1.5, 3.0]}],
           streams.db_open_error_steps("search", client_closes=False), "iterate", client_closes=False),
    # ---- developer.logs
    stream("ts-developer-logs", "developer.logs", {}, "developer.logs", [],
           streams.developer_logs_steps(), "log_events"),
    stream("ts-developer-logs-error-chunk", "developer.logs", {}, "developer.logs", [],
           streams.developer_logs_error_steps(), "log_events"),
    # ---- containers.logs / get_build_logs
    stream("ts-containers-logs", "containers.logs", {"container_id": "c-1234", "follow": True},
           "containers.logs", [{"containerId": "c-1234", "follow": True}],
           streams.container_logs_steps(), "log_stream", uuids=[LOGS_REQUEST_ID]),
    stream("ts-containers-logs-error-chunk", "containers.logs", {"container_id": "c-missing"},
           "containers.logs", [{"containerId": "c-missing"}],
           streams.container_logs_error_steps(), "log_stream", uuids=[LOGS_REQUEST_ID]),
    stream("ts-containers-get-build-logs", "containers.get_build_logs", {"build_id": "b-42"},
           "containers.getBuildLogs", [{"buildId": "b-42"}],
           streams.build_logs_steps(0), "log_stream", uuids=[LOGS_REQUEST_ID]),
    stream("ts-containers-get-build-logs-no-status", "containers.get_build_logs", {"build_id": "b-43", "follow": False},
           "containers.getBuildLogs", [{"buildId": "b-43", "follow": False}],
           streams.build_logs_steps(None), "log_stream", uuids=[LOGS_REQUEST_ID]),
    # ---- containers.exec
    stream("ts-containers-exec", "containers.exec",
           {"container_id": "c-1234", "command": "sh -c cat", "tty": True},
           "containers.exec", [{"containerId": "c-1234", "command": "sh -c cat", "tty": True}],
           streams.exec_steps(EXEC_OPS, 0), "exec", input=EXEC_OPS, ops=EXEC_OPS, uuids=[EXEC_REQUEST_ID]),
    stream("ts-containers-exec-kill", "containers.exec", {"container_id": "c-1234", "command": "sleep 100"},
           "containers.exec", [{"containerId": "c-1234", "command": "sleep 100"}],
           streams.exec_steps(EXEC_KILL_OPS, 137), "exec", input=EXEC_KILL_OPS, ops=EXEC_KILL_OPS,
           uuids=[EXEC_REQUEST_ID]),
    stream("ts-containers-exec-error-chunk", "containers.exec", {"container_id": "c-1234", "command": "true"},
           "containers.exec", [{"containerId": "c-1234", "command": "true"}],
           streams.exec_error_steps(), "exec", input=[], ops=[], uuids=[EXEC_REQUEST_ID]),
    # ---- sync.open
    stream("ts-sync-open", "sync.open", {"path": streams.SYNC_WIRE_PATH, "schema": SYNC_SCHEMA_WIRE},
           "sync.open", [streams.SYNC_PATH, {"schema": SYNC_SCHEMA_JSON}],
           streams.sync_steps(SYNC_SCHEMA_JSON, streams.sync_remote_update(), 1), "sync",
           input=SYNC_OPS, ops=SYNC_OPS, uuids=SYNC_ELEMENT_IDS, seed_random=True, sync_children=2),
]
