"""dataset.* (0.56: the renamed database toolkit, Arrow IPC payloads). Payloads and stream
scripts are shared with the TypeScript recorder (arrow_cases.py). Results: a pyarrow.Schema is
recorded as [{name, type, nullable}], a pyarrow.Table as its rows (to_pylist), DatasetSqlQuery as
{query_id, schema}, a watch event as its fields with `table` as rows."""

from __future__ import annotations

import dataclasses
from typing import Any

import pyarrow as pa
from meshagent.api.room_server_client import DatasetIndexConfig, DatasetOptimizeConfig, SqlTableReference

import arrow_cases as ac
from fake_room import Step, chunk_step, open_step, response_chunk
from stream_cases import binary, client_close, error_chunk, json_chunk, server_close
from py_scenarios.common import EMPTY, Scenario, b64, case, error_reply, json_reply
from py_scenarios.outcome import to_jsonable

PEOPLE = pa.Table.from_pylist(ac.PEOPLE_ROWS, schema=ac.PEOPLE_SCHEMA)
MERGE = pa.Table.from_pylist(ac.MERGE_ROWS, schema=ac.PEOPLE_SCHEMA)
PARAMS = pa.Table.from_pylist(ac.PARAMS_ROWS, schema=ac.PARAMS_SCHEMA)
SCHEMA_REPLY = {"type": "binary", "headers": {"kind": "schema", "content_type": ac.ARROW}}
QUERY_SCHEMA = pa.schema([pa.field("id", pa.int64()), pa.field("name", pa.string())])
QUERY_REPLY = {"type": "binary", "headers": {"kind": "query", "query_id": "q-1", "content_type": ac.ARROW}}
TABLES_WIRE = [{"name": "people", "namespace": None, "alias": None, "branch": None, "version": None},
               {"name": "orders", "namespace": ["shop", "eu"], "alias": "o", "branch": None, "version": None}]
TABLES = ["people", SqlTableReference(name="orders", namespace=["shop", "eu"], alias="o")]
QUERY = "SELECT p.id, p.name FROM people p WHERE p.score >= $min_score"


def _rows(table: pa.Table) -> Any:
    return to_jsonable(table.to_pylist())


async def _schema(coro) -> Any:
    return ac.schema_json(await coro)


async def _table(coro) -> Any:
    return _rows(await coro)


async def _batches(agen) -> Any:
    return [_rows(t) async for t in agen]


def _execution(value: Any) -> Any:
    if hasattr(value, "schema"):
        return {"query_id": value.query_id, "schema": ac.schema_json(value.schema)}
    return {"rows_affected": value.rows_affected}


async def _exec(coro) -> Any:
    return _execution(await coro)


async def _watch(room, count: int, **kwargs) -> Any:
    out = []
    events = room.datasets.watch_table(**kwargs)
    async for ev in events:
        d = {f.name: getattr(ev, f.name) for f in dataclasses.fields(ev)}
        d["table"] = None if ev.table is None else _rows(ev.table)
        out.append(d)
        if len(out) == count:
            break
    await events.aclose()  # the caller stops watching: the SDK closes its request side
    return out


def _d(tool: str, arguments: dict[str, Any], reply: dict[str, Any] = EMPTY, run=None, *, tail: bytes = b"",
       id_suffix: str = "") -> Scenario:
    return case(f"py056-dataset-{tool.replace('_', '-')}{id_suffix}", f"dataset.{tool}", arguments, reply, run,
                tail=tail)


OPTIMIZE_CONFIG = DatasetOptimizeConfig(optimize_indices=False, cleanup_old_versions=True, num_threads=2)
VERSIONED = {"namespace": ["team"], "branch": "dev", "version": 7}

DATASET_SCENARIOS: list[Scenario] = [
    _d("list_tables", {}, json_reply({"tables": ["people", "événements"]}), lambda r: r.datasets.list_tables()),
    _d("list_tables", {"namespace": ["team"], "branch": "dev"}, json_reply({"tables": []}),
       lambda r: r.datasets.list_tables(namespace=["team"], branch="dev"), id_suffix="-branch"),
    _d("inspect", {"table": "people"}, SCHEMA_REPLY, lambda r: _schema(r.datasets.inspect(table="people")),
       tail=ac.schema_ipc(ac.PEOPLE_SCHEMA)),
    _d("inspect", {"table": "people", **VERSIONED}, SCHEMA_REPLY,
       lambda r: _schema(r.datasets.inspect(table="people", **VERSIONED)), tail=ac.schema_ipc(ac.PEOPLE_SCHEMA),
       id_suffix="-version"),
    # The 0.35.8 JSON reply: no fallback any more.
    _d("inspect", {"table": "people"}, json_reply({"fields": {"id": {"type": "int"}}}),
       lambda r: _schema(r.datasets.inspect(table="people")), id_suffix="-json-reply"),
    _d("drop_table", {"name": "people"}, EMPTY, lambda r: r.datasets.drop_table(name="people")),
    _d("drop_table", {"name": "people", "ignore_missing": True, "namespace": ["team"], "branch": "dev"}, EMPTY,
       lambda r: r.datasets.drop_table(name="people", ignore_missing=True, namespace=["team"], branch="dev"),
       id_suffix="-options"),
    _d("rename_table", {"name": "people", "new_name": "personnes ✓"}, EMPTY,
       lambda r: r.datasets.rename_table(name="people", new_name="personnes ✓")),
    _d("drop_index", {"table": "people", "name": "name_idx"}, EMPTY,
       lambda r: r.datasets.drop_index(table="people", name="name_idx")),
    _d("add_columns", {"table": "people", "columns": [{"name": "city", "value_sql": "'Zürich'"}]}, EMPTY,
       lambda r: r.datasets.add_columns(table="people", new_columns={"city": "'Zürich'"})),
    _d("add_columns", {"table": "people", "namespace": None, "branch": "dev", "content_type": ac.ARROW,
                       "data": b64(ac.schema_ipc(pa.schema([pa.field("city", pa.string())])))}, EMPTY,
       lambda r: r.datasets.add_columns(table="people", new_columns={"city": pa.string()}, branch="dev"),
       id_suffix="-arrow"),
    _d("drop_columns", {"table": "people", "columns": ["city", "zip"]}, EMPTY,
       lambda r: r.datasets.drop_columns(table="people", columns=["city", "zip"])),
    _d("update", {"table": "people", "where": "id = 1",
                  "values": [{"column": "name", "value_json": '"Zo\\u00eb"'},
                             {"column": "score", "value_json": '{"expression": "score + 1"}'}]}, EMPTY,
       lambda r: r.datasets.update(table="people", where="id = 1",
                                   values={"name": "Zoë", "score": _expr("score + 1")})),
    _d("delete", {"table": "people", "where": "score IS NULL", "branch": "dev"}, EMPTY,
       lambda r: r.datasets.delete(table="people", where="score IS NULL", branch="dev")),
    _d("count", {"table": "people"}, json_reply({"count": 3}), lambda r: r.datasets.count(table="people")),
    _d("count", {"table": "people", "where": "name = 'Zoë'", **VERSIONED}, json_reply({"count": 1}),
       lambda r: r.datasets.count(table="people", where={"name": "Zoë"}, **VERSIONED), id_suffix="-where-dict"),
    _d("optimize", {"table": "people"}, json_reply({"compaction": {"fragments_removed": 2}, "optimized_indices": True}),
       lambda r: r.datasets.optimize(table="people")),
    _d("optimize", {"table": "people", "config": OPTIMIZE_CONFIG.model_dump(mode="json", exclude_none=True)},
       json_reply({"compaction_json": '{"files_added": 1}', "cleanup_json": '{"bytes_removed": 10}'}),
       lambda r: r.datasets.optimize(table="people", config=OPTIMIZE_CONFIG), id_suffix="-config"),
    _d("stats", {"table": "people"}, json_reply({"dataset": {"num_rows": 3, "num_fragments": 1},
                                                 "data_json": '{"fields": []}'}),
       lambda r: r.datasets.stats(table="people")),
    _d("stats", {"table": "people", "version": 7, "max_rows_per_group": 1024}, json_reply({"dataset": {}, "data": {}}),
       lambda r: r.datasets.stats(table="people", version=7, max_rows_per_group=1024), id_suffix="-options"),
    _d("restore", {"table": "people", "version": 3}, EMPTY, lambda r: r.datasets.restore(table="people", version=3)),
    _d("list_versions", {"table": "people"},
       json_reply({"versions": [{"version": 1, "timestamp": "2025-01-02T03:04:05Z", "metadata_json": "{}"},
                                {"version": 2, "timestamp": "2025-01-03T00:00:00+00:00",
                                 "metadata_json": '{"note": "import \\u2713"}'}]}),
       lambda r: r.datasets.list_versions(table="people")),
    _d("create_index", {"table": "people", "config": {"column": "name", "index_type": "BTREE"}}, EMPTY,
       lambda r: r.datasets.create_index(table="people", config=DatasetIndexConfig(column="name", index_type="BTREE"))),
    _d("create_index", {"table": "docs", "config": {"column": "vec", "index_type": "IVF_PQ", "name": "vec_idx",
                                                    "metric": "cosine", "replace": True, "num_partitions": 8}},
       EMPTY,
       lambda r: r.datasets.create_index(table="docs", config=DatasetIndexConfig(
           column="vec", index_type="IVF_PQ", name="vec_idx", metric="cosine", replace=True, num_partitions=8)),
       id_suffix="-vector"),
    _d("list_indexes", {"table": "people"},
       json_reply({"indexes": [{"name": "name_idx", "columns": ["name"], "type": "BTree", "fields": [1],
                                "num_rows_indexed": 3, "details_json": "{}", "statistics_json": '{"n": 3}'}]}),
       lambda r: r.datasets.list_indexes(table="people")),
    _d("list_branches", {}, json_reply({"branches": [
        {"name": "main"}, {"name": "dev", "parent_branch": "main", "parent_version": 4,
                           "created_at": "2025-01-02T03:04:05Z", "manifest_size": 2048}]}),
       lambda r: r.datasets.list_branches()),
    _d("create_branch", {"branch": "dev", "from_branch": "main"}, EMPTY,
       lambda r: r.datasets.create_branch(branch="dev", from_branch="main")),
    _d("delete_branch", {"branch": "dev", "namespace": ["team"]}, EMPTY,
       lambda r: r.datasets.delete_branch(branch="dev", namespace=["team"])),
    # ---- SQL cursor tools (binary requests: headers + Arrow params payload)
    _d("open_sql_query", {"query": QUERY, "tables": TABLES_WIRE, "data": b64(ac.table_ipc(ac.PARAMS_ROWS, ac.PARAMS_SCHEMA))},
       QUERY_REPLY, lambda r: _exec(r.datasets.open_sql_query(query=QUERY, tables=TABLES, params=PARAMS)),
       tail=ac.schema_ipc(QUERY_SCHEMA)),
    _d("execute_sql", {"query": QUERY, "tables": TABLES_WIRE[:1]}, QUERY_REPLY,
       lambda r: _exec(r.datasets.execute_sql(query=QUERY, tables=["people"])), tail=ac.schema_ipc(QUERY_SCHEMA)),
    _d("execute_sql", {"query": "DELETE FROM people WHERE id = 3"},
       json_reply({"kind": "statement", "rows_affected": 1}),
       lambda r: _exec(r.datasets.execute_sql(query="DELETE FROM people WHERE id = 3")), id_suffix="-statement-reply"),
    # A statement reply without `kind`: rejected (execute_sql_statement is the other way round).
    _d("execute_sql", {"query": "DELETE FROM people WHERE id = 3"}, json_reply({"rows_affected": 1}),
       lambda r: _exec(r.datasets.execute_sql(query="DELETE FROM people WHERE id = 3")), id_suffix="-statement-no-kind"),
    _d("execute_sql_statement", {"query": "UPDATE people SET score = 0", "branch": "dev"},
       json_reply({"rows_affected": 3}),
       lambda r: r.datasets.execute_sql_statement(query="UPDATE people SET score = 0", branch="dev")),
    _d("close_sql_query", {"query_id": "q-1"}, EMPTY, lambda r: r.datasets.close_sql_query(query_id="q-1")),
    _d("cancel_sql_query", {"query_id": "q-1"}, json_reply({"status": "cancelling"}),
       lambda r: r.datasets.cancel_sql_query(query_id="q-1")),
    # ---- streams
    Scenario(
        id="py056-dataset-create-table-with-schema",
        method="dataset.create_table",
        arguments={"kind": "start", "name": "people", "mode": "overwrite", "metadata": [{"key": "owner", "value": "alice ✓"}],
                   "data": b64(ac.schema_ipc(ac.PEOPLE_SCHEMA.with_metadata({"owner": "alice ✓"})))},
        input=[ac.PEOPLE_ROWS],
        steps=ac.write_steps("dataset", "create_table", 1),
        run=lambda r: r.datasets.create_table_with_schema(name="people", schema=ac.PEOPLE_SCHEMA, data=ac.PEOPLE_ROWS,
                                                          mode="overwrite", metadata={"owner": "alice ✓"}),
    ),
    Scenario(
        id="py056-dataset-create-table-from-json-data",
        method="dataset.create_table",
        arguments={"kind": "start", "name": "people", "mode": "create", "branch": "dev"},
        input=[ac.PEOPLE_ROWS],
        steps=ac.write_steps("dataset", "create_table", 1, start=json_chunk({"kind": "start"}),
                             data=json_chunk({"kind": "rows"})),
        run=lambda r: r.datasets.create_table_from_json_data(name="people", data=ac.PEOPLE_ROWS, branch="dev"),
    ),
    Scenario(
        id="py056-dataset-create-table-open-error",
        method="dataset.create_table",
        arguments={"name": "people"},
        steps=[open_step("dataset", "create_table", reply=error_chunk("table already exists: people", 1004)),
               chunk_step(binary(kind="start")), client_close()],
        run=lambda r: r.datasets.create_table_from_data(name="people", data=PEOPLE),
    ),
    Scenario(
        id="py056-dataset-insert-table",
        method="dataset.insert",
        arguments={"kind": "start", "table": "people", "namespace": ["team", "ops"]},
        input=[b64(ac.table_ipc(ac.PEOPLE_ROWS))],
        steps=ac.write_steps("dataset", "insert", 1),
        run=lambda r: r.datasets.insert(table="people", records=PEOPLE, namespace=["team", "ops"]),
    ),
    # Rows (dicts): the SDK inspects the table first to build the Arrow batch.
    Scenario(
        id="py056-dataset-insert-rows",
        method="dataset.insert",
        arguments={"table": "people"},
        input=[ac.PEOPLE_ROWS],
        steps=[Step(expect={"type": "room.invoke_tool", "toolkit": "dataset", "tool": "inspect"}, reply=SCHEMA_REPLY,
                    reply_tail=ac.schema_ipc(ac.PEOPLE_SCHEMA)),
               *ac.write_steps("dataset", "insert", 1)],
        run=lambda r: r.datasets.insert(table="people", records=ac.PEOPLE_ROWS),
    ),
    Scenario(
        id="py056-dataset-insert-error-chunk",
        method="dataset.insert",
        arguments={"table": "people"},
        input=[b64(ac.table_ipc(ac.PEOPLE_ROWS))],
        steps=ac.write_error_steps("dataset", "insert", error_chunk("column 'score' expects float, got text", 1002)),
        run=lambda r: r.datasets.insert(table="people", records=PEOPLE),
    ),
    Scenario(
        id="py056-dataset-merge",
        method="dataset.merge",
        arguments={"kind": "start", "table": "people", "on": "id", "branch": "dev"},
        input=[b64(ac.table_ipc(ac.MERGE_ROWS))],
        steps=ac.write_steps("dataset", "merge", 1),
        run=lambda r: r.datasets.merge(table="people", on="id", records=MERGE, branch="dev"),
    ),
    Scenario(
        id="py056-dataset-search",
        method="dataset.search",
        arguments={"kind": "start", "table": "people", "text": "Zoë", "where": "score > 1", "limit": 10,
                   "select": ["id", "name", "score"], "version": 7},
        steps=ac.read_steps("dataset", "search", [ac.data_chunk(ac.PEOPLE_ROWS[:2]), ac.data_chunk(ac.PEOPLE_ROWS[2:])]),
        run=lambda r: _batches(r.datasets.search_stream(table="people", text="Zoë", where="score > 1", limit=10,
                                                        select=["id", "name", "score"], version=7)),
    ),
    Scenario(
        id="py056-dataset-search-vector-flat",
        method="dataset.search",
        arguments={"table": "docs", "vector": [0.25, -1.5, 3.0]},
        steps=ac.read_steps("dataset", "search", [ac.data_chunk(ac.PEOPLE_ROWS[:1])]),
        run=lambda r: _table(r.datasets.search(table="docs", vector=[0.25, -1.5, 3.0])),
    ),
    Scenario(
        id="py056-dataset-search-error-chunk",
        method="dataset.search",
        arguments={"table": "missing"},
        steps=ac.read_error_steps("dataset", "search", error_chunk("table not found: missing", 1003)),
        run=lambda r: _batches(r.datasets.search_stream(table="missing")),
    ),
    Scenario(
        id="py056-dataset-read-sql-query",
        method="dataset.read_sql_query",
        arguments={"kind": "start", "query_id": "q-1"},
        steps=ac.read_steps("dataset", "read_sql_query", [ac.data_chunk(ac.PEOPLE_ROWS)]),
        run=lambda r: _batches(r.datasets.read_sql_query(query_id="q-1")),
    ),
    Scenario(
        id="py056-dataset-watch-table",
        method="dataset.watch_table",
        arguments={"kind": "start", "table": "people", "poll_interval_seconds": 0.25},
        input=[2],  # the caller stops after two events
        steps=[open_step("dataset", "watch_table"), chunk_step(binary(kind="start")),
               chunk_step(ac.PULL, then=[ac.ready_event(phase="snapshot", version=3)]),
               chunk_step(ac.PULL, then=[ac.data_chunk(ac.PEOPLE_ROWS[:1], phase="change", version="4",
                                                       change_type="insert", begin_version=3, end_version=4,
                                                       watch_event="w-1")]),
               client_close(then=[server_close()])],
        run=lambda r: _watch(r, 2, table="people", poll_interval_seconds=0.25),
    ),
]


def _expr(text: str):
    from meshagent.api.room_server_client import DatasetExpression

    return DatasetExpression(text)
