"""dataset.* for TS 0.39.9 (31 tools: no rename_table; import_storage and export_storage are TS
only). Same payloads and stream scripts as the Python 0.56 cases (arrow_cases.py); request chunks
are acknowledged (TS 0.39.9 awaits each). Arrow values cross into the driver as
{"$arrow_table": <IPC base64>} / {"$arrow_schema": ...}; results: an arrow-js Table as its rows, a
Schema as [{name, type, nullable}] with arrow-js type names."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

import arrow_cases as ac
from fake_room import Step, chunk_step, open_step
from stream_cases import binary, client_close, error_chunk, json_chunk, server_close
from ts_scenarios.common import EMPTY, Scenario, b64, error_reply, json_reply, plain

from .common import Scenario039


def _arrow_js(*items: tuple[str, bytes]) -> list[str]:
    """What the TS SDK sends for these Arrow values: arrow-js's re-encoding (ts-0.39/arrow_ipc.mjs)."""
    import json
    import os
    import subprocess
    from pathlib import Path

    here = Path(__file__).resolve().parent.parent / "ts-0.39"
    out = subprocess.run([os.environ.get("NODE", "node"), "arrow_ipc.mjs", json.dumps([[k, b64(v)] for k, v in items])],
                         cwd=here, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


CITY_SCHEMA = pa.schema([pa.field("city", pa.string())])
JS_CITY_SCHEMA, JS_PARAMS, JS_PEOPLE_SCHEMA = _arrow_js(
    ("schema", ac.schema_ipc(CITY_SCHEMA)),
    ("table", ac.table_ipc(ac.PARAMS_ROWS, ac.PARAMS_SCHEMA)),
    ("schema", ac.schema_ipc(ac.PEOPLE_SCHEMA)),
)

SCHEMA_REPLY = ({"type": "binary", "headers": {"kind": "schema", "content_type": ac.ARROW}},
                ac.schema_ipc(ac.PEOPLE_SCHEMA))
QUERY_SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())])
QUERY_REPLY = ({"type": "binary", "headers": {"kind": "query", "query_id": "q-1", "content_type": ac.ARROW}},
               ac.schema_ipc(QUERY_SCHEMA))
QUERY = "SELECT p.id, p.name FROM people p WHERE p.score >= $min_score"
PEOPLE = {"$arrow_table": b64(ac.table_ipc(ac.PEOPLE_ROWS))}
MERGE = {"$arrow_table": b64(ac.table_ipc(ac.MERGE_ROWS))}
PARAMS = {"$arrow_table": b64(ac.table_ipc(ac.PARAMS_ROWS, ac.PARAMS_SCHEMA))}


def _d(tool: str, arguments: dict[str, Any], ts_method: str, ts_args: list[Any], reply: Any = EMPTY,
       suffix: str = "", **kw: Any) -> Scenario:
    return plain(f"ts039-dataset-{tool.replace('_', '-')}{suffix}", f"dataset.{tool}", arguments,
                 f"datasets.{ts_method}", ts_args, reply, **kw)


def _stream(id: str, tool: str, arguments: dict[str, Any], ts_method: str, ts_args: list[Any], steps: list[Step],
            collect: str | None = None, **kw: Any) -> Scenario039:
    return Scenario039(id=id, method=f"dataset.{tool}", arguments=arguments, call=(f"datasets.{ts_method}", ts_args),
                       steps=steps, collect=collect, **kw)


DATASET: list[Scenario] = [
    _d("list_tables", {}, "listTables", [], json_reply({"tables": ["people", "événements"]})),
    _d("list_tables", {"namespace": ["team"], "branch": "dev"}, "listTables", [{"namespace": ["team"], "branch": "dev"}],
       json_reply({"tables": []}), "-branch"),
    _d("inspect", {"table": "people"}, "inspect", [{"table": "people"}], SCHEMA_REPLY),
    _d("inspect", {"table": "people", "namespace": ["team"], "branch": "dev", "version": 7}, "inspect",
       [{"table": "people", "namespace": ["team"], "branch": "dev", "version": 7}], SCHEMA_REPLY, "-version"),
    _d("drop_table", {"name": "people"}, "dropTable", [{"name": "people"}]),
    _d("drop_index", {"table": "people", "name": "name_idx"}, "dropIndex", [{"table": "people", "name": "name_idx"}]),
    _d("add_columns", {"table": "people", "columns": [{"name": "city", "value_sql": "'Zürich'"}]}, "addColumns",
       [{"table": "people", "newColumns": {"city": "'Zürich'"}}]),
    _d("add_columns", {"table": "people", "content_type": ac.ARROW, "data": JS_CITY_SCHEMA}, "addColumns",
       [{"table": "people", "newColumns": {"$arrow_schema": b64(ac.schema_ipc(CITY_SCHEMA))}}],
       EMPTY, "-arrow"),
    _d("drop_columns", {"table": "people", "columns": ["city", "zip"]}, "dropColumns",
       [{"table": "people", "columns": ["city", "zip"]}]),
    _d("update", {"table": "people", "where": "id = 1",
                  "values": [{"column": "name", "value_json": '"Zoë"'}, {"column": "score", "value_json": "8.5"}]},
       "update",
       [{"table": "people", "where": "id = 1", "values": {"name": "Zoë", "score": 8.5}}]),
    _d("delete", {"table": "people", "where": "score IS NULL", "branch": "dev"}, "delete",
       [{"table": "people", "where": "score IS NULL", "branch": "dev"}]),
    _d("count", {"table": "people"}, "count", [{"table": "people"}], json_reply({"count": 3})),
    _d("optimize", {"table": "people"}, "optimize", ["people"],
       json_reply({"compaction": {"fragments_removed": 2}, "optimized_indices": True})),
    _d("optimize", {"table": "people", "config": {"optimize_indices": False, "num_threads": 2}}, "optimize",
       [{"table": "people", "config": {"optimize_indices": False, "num_threads": 2}}],
       json_reply({"compaction_json": '{"files_added": 1}', "cleanup_json": '{"bytes_removed": 10}'}), "-config"),
    _d("stats", {"table": "people"}, "stats", [{"table": "people"}],
       json_reply({"dataset": {"num_rows": 3, "num_fragments": 1}, "data_json": '{"fields": []}'})),
    _d("restore", {"table": "people", "version": 3}, "restore", [{"table": "people", "version": 3}]),
    _d("list_versions", {"table": "people"}, "listVersions", [{"table": "people"}],
       json_reply({"versions": [{"version": 1, "timestamp": "2025-01-02T03:04:05Z", "metadata_json": "{}"},
                                {"version": 2, "timestamp": "2025-01-03T00:00:00+00:00",
                                 "metadata_json": '{"note": "import \\u2713"}'}]}), result_keys="wire"),
    _d("create_index", {"table": "people", "config": {"column": "name", "index_type": "BTREE"}}, "createIndex",
       [{"table": "people", "config": {"column": "name", "index_type": "BTREE"}}]),
    _d("list_indexes", {"table": "people"}, "listIndexes", [{"table": "people"}],
       json_reply({"indexes": [{"name": "name_idx", "columns": ["name"], "type": "BTree", "fields": [1],
                                "num_rows_indexed": 3, "details_json": "{}", "statistics_json": '{"n": 3}'}]}),
       result_keys="wire"),
    _d("list_branches", {}, "listBranches", [], json_reply({"branches": [
        {"name": "main"}, {"name": "dev", "parent_branch": "main", "parent_version": 4,
                           "created_at": "2025-01-02T03:04:05Z", "manifest_size": 2048}]}), result_keys="wire"),
    _d("create_branch", {"branch": "dev", "from_branch": "main"}, "createBranch", [{"branch": "dev", "fromBranch": "main"}]),
    _d("delete_branch", {"branch": "dev", "namespace": ["team"]}, "deleteBranch", [{"branch": "dev", "namespace": ["team"]}]),
    _d("import_storage", {"table": "people", "path": "imports/people ✓.csv"}, "importFromStorage",
       [{"table": "people", "path": "imports/people ✓.csv"}]),
    _d("import_storage", {"table": "people", "path": "imports/people.xlsx", "mode": "merge", "format": "excel",
                          "on": "id", "sheet": "Feuil1", "batch_size": 500, "branch": "dev"}, "importFromStorage",
       [{"table": "people", "path": "imports/people.xlsx", "mode": "merge", "format": "excel", "on": "id",
         "sheet": "Feuil1", "batchSize": 500, "branch": "dev"}], EMPTY, "-options"),
    _d("export_storage", {"table": "people", "path": "exports/people.parquet", "format": "parquet", "version": 7},
       "exportToStorage", [{"table": "people", "path": "exports/people.parquet", "format": "parquet", "version": 7}]),
    _d("open_sql_query", {"query": QUERY, "tables": [{"name": "people"}], "data": JS_PARAMS}, "openSqlQuery",
       [{"query": QUERY, "tables": ["people"], "params": PARAMS}], QUERY_REPLY, result_keys="wire"),
    _d("execute_sql", {"query": QUERY}, "executeSql", [{"query": QUERY}], QUERY_REPLY, result_keys="wire"),
    _d("execute_sql", {"query": "DELETE FROM people WHERE id = 3"}, "executeSql",
       [{"query": "DELETE FROM people WHERE id = 3"}], json_reply({"kind": "statement", "rows_affected": 1}),
       "-statement-reply", result_keys="wire"),
    _d("execute_sql_statement", {"query": "UPDATE people SET score = 0", "branch": "dev"}, "executeSqlStatement",
       [{"query": "UPDATE people SET score = 0", "branch": "dev"}], json_reply({"rows_affected": 3})),
    _d("close_sql_query", {"query_id": "q-1"}, "closeSqlQuery", [{"queryId": "q-1"}]),
    _d("cancel_sql_query", {"query_id": "q-1"}, "cancelSqlQuery", [{"queryId": "q-1"}],
       json_reply({"status": "cancelling"})),
    # ---- streams
    _stream("ts039-dataset-create-table-with-schema", "create_table",
            {"kind": "start", "name": "people", "mode": "overwrite", "data": JS_PEOPLE_SCHEMA}, "createTableWithSchema",
            [{"name": "people", "schema": {"$arrow_schema": b64(ac.schema_ipc(ac.PEOPLE_SCHEMA))}, "data": PEOPLE,
              "mode": "overwrite"}],
            ac.write_steps("dataset", "create_table", 1), input=[PEOPLE["$arrow_table"]]),
    _stream("ts039-dataset-create-table-from-json-data", "create_table",
            {"kind": "start", "name": "people", "mode": "create", "branch": "dev"}, "createTableFromJsonData",
            [{"name": "people", "data": ac.PEOPLE_ROWS, "branch": "dev"}],
            ac.write_steps("dataset", "create_table", 1, start=json_chunk({"kind": "start"}),
                           data=json_chunk({"kind": "rows"})), input=[ac.PEOPLE_ROWS]),
    _stream("ts039-dataset-insert", "insert", {"kind": "start", "table": "people", "namespace": ["team", "ops"]},
            "insert", [{"table": "people", "records": PEOPLE, "namespace": ["team", "ops"]}],
            ac.write_steps("dataset", "insert", 1), input=[PEOPLE["$arrow_table"]]),
    _stream("ts039-dataset-insert-error-chunk", "insert", {"table": "people"},
            "insert", [{"table": "people", "records": PEOPLE}],
            ac.write_error_steps("dataset", "insert", error_chunk("column 'score' expects float, got text", 1002)),
            input=[PEOPLE["$arrow_table"]]),
    _stream("ts039-dataset-merge", "merge", {"kind": "start", "table": "people", "on": "id", "branch": "dev"},
            "merge", [{"table": "people", "on": "id", "records": MERGE, "branch": "dev"}],
            ac.write_steps("dataset", "merge", 1), input=[MERGE["$arrow_table"]]),
    _stream("ts039-dataset-search", "search",
            {"kind": "start", "table": "people", "text": "Zoë", "where": "score > 1", "limit": 10,
             "select": ["id", "name", "score"], "version": 7},
            "searchStream", [{"table": "people", "text": "Zoë", "where": "score > 1", "limit": 10,
                              "select": ["id", "name", "score"], "version": 7}],
            ac.read_steps("dataset", "search", [ac.data_chunk(ac.PEOPLE_ROWS[:2]), ac.data_chunk(ac.PEOPLE_ROWS[2:])]),
            collect="iterate"),
    _stream("ts039-dataset-search-error-chunk", "search", {"table": "missing"}, "searchStream", [{"table": "missing"}],
            ac.read_error_steps("dataset", "search", error_chunk("table not found: missing", 1003)), collect="iterate"),
    _stream("ts039-dataset-read-sql-query", "read_sql_query", {"kind": "start", "query_id": "q-1"}, "readSqlQuery",
            [{"queryId": "q-1"}], ac.read_steps("dataset", "read_sql_query", [ac.data_chunk(ac.PEOPLE_ROWS)]),
            collect="iterate"),
    _stream("ts039-dataset-watch-table", "watch_table", {"kind": "start", "table": "people", "poll_interval_seconds": 0.25},
            "watchTable", [{"table": "people", "pollIntervalSeconds": 0.25}],
            [open_step("dataset", "watch_table"), chunk_step(binary(kind="start")),
             chunk_step(ac.PULL, then=[ac.ready_event(phase="snapshot", version=3)]),
             chunk_step(ac.PULL, then=[ac.data_chunk(ac.PEOPLE_ROWS[:1], phase="change", version="4",
                                                     change_type="insert", begin_version=3, end_version=4,
                                                     watch_event="w-1")]),
             client_close(then=[server_close()])],
            collect="iterate_n", take=2, result_keys="wire", input=[2]),
]
