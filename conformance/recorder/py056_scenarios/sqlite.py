"""sqlite.* (new in 0.45, Python only; settings/flush/batch tools since 0.56). Arrow payloads from
arrow_cases.py; sqlite streams are stricter than dataset ones: pulls are binary, data chunk
headers are exactly {kind: data}. backup/restore are chunked binary transfers that end with a
{kind: complete, size, sha256} check (sqlite_transfer.py)."""

from __future__ import annotations

import hashlib
from typing import Any

import pyarrow as pa
from meshagent.api.room_server_client import SqliteSqlCommand

import arrow_cases as ac
from fake_room import Step, chunk_step, open_step, response_chunk
from stream_cases import binary, client_close, error_chunk, server_close
from py_scenarios.common import EMPTY, Scenario, b64, case, error_reply, json_reply
from py_scenarios.streaming import _aiter

# The Arrow values and the outcome helpers are those of the dataset cases.
from .dataset import PEOPLE, QUERY_SCHEMA, _batches, _exec, _execution, _schema

SCHEMA_REPLY = {"type": "binary", "headers": {"kind": "schema"}}
QUERY_REPLY = {"type": "binary", "headers": {"kind": "query", "query_id": "sq-1"}}
DB = "app.db"


async def _batch(coro) -> Any:
    return [_execution(v) for v in await coro]


def _data(rows: list[dict[str, Any]]):
    return response_chunk(binary(kind="data"), ac.table_ipc(rows))


def _s(tool: str, arguments: dict[str, Any], reply: dict[str, Any] = EMPTY, run=None, *, tail: bytes = b"",
       suffix: str = "") -> Scenario:
    return case(f"py056-sqlite-{tool.replace('_', '-')}{suffix}", f"sqlite.{tool}", arguments, reply, run, tail=tail)


BACKUP_BYTES = [b"SQLite format 3\x00" + bytes(range(256)) * 4, b"\x0d\x00\x00\x00 page two \xe2\x9c\x93"]
BACKUP_SHA = hashlib.sha256(b"".join(BACKUP_BYTES)).hexdigest()
BACKUP_SIZE = sum(len(b) for b in BACKUP_BYTES)
COMPLETE = {"kind": "complete", "size": BACKUP_SIZE, "sha256": BACKUP_SHA}


async def _backup(room) -> Any:
    out = [b64(chunk) async for chunk in room.sqlite.backup(database=DB)]
    return out


SQLITE_SCENARIOS: list[Scenario] = [
    _s("list_databases", {}, json_reply({"databases": ["app.db", "données.db"]}), lambda r: r.sqlite.list_databases()),
    _s("create_database", {"name": DB}, EMPTY, lambda r: r.sqlite.create_database(name=DB)),
    _s("create_database", {"name": DB, "namespace": ["team"], "mode": "create_if_not_exists",
                           "replication_mode": "asynchronous", "flush_interval_ms": 250}, EMPTY,
       lambda r: r.sqlite.create_database(name=DB, namespace=["team"], mode="create_if_not_exists",
                                          replication_mode="asynchronous", flush_interval_ms=250), suffix="-options"),
    _s("get_database_settings", {"name": DB}, json_reply({"replication_mode": "synchronous", "flush_interval_ms": 1000}),
       lambda r: r.sqlite.get_database_settings(name=DB)),
    _s("update_database_settings", {"name": DB, "flush_interval_ms": 500},
       json_reply({"replication_mode": "asynchronous", "flush_interval_ms": 500}),
       lambda r: r.sqlite.update_database_settings(name=DB, flush_interval_ms=500)),
    _s("flush_database", {"name": DB}, json_reply({}), lambda r: r.sqlite.flush_database(name=DB)),
    # An empty reply is not accepted: flush_database wants JSON.
    _s("flush_database", {"name": DB}, EMPTY, lambda r: r.sqlite.flush_database(name=DB), suffix="-empty-reply"),
    _s("drop_database", {"name": DB, "ignore_missing": True}, EMPTY,
       lambda r: r.sqlite.drop_database(name=DB, ignore_missing=True)),
    _s("inspect_database", {"name": DB}, json_reply({"name": DB, "namespace": None, "tables": 2, "size_bytes": 8192}),
       lambda r: r.sqlite.inspect_database(name=DB)),
    _s("list_tables", {"database": DB}, json_reply({"tables": ["people"]}), lambda r: r.sqlite.list_tables(database=DB)),
    _s("drop_table", {"database": DB, "name": "people"}, EMPTY, lambda r: r.sqlite.drop_table(database=DB, name="people")),
    _s("rename_table", {"database": DB, "name": "people", "new_name": "personnes"}, EMPTY,
       lambda r: r.sqlite.rename_table(database=DB, name="people", new_name="personnes")),
    _s("inspect", {"database": DB, "table": "people"}, SCHEMA_REPLY,
       lambda r: _schema(r.sqlite.inspect(database=DB, table="people")), tail=ac.schema_ipc(ac.PEOPLE_SCHEMA)),
    _s("add_columns", {"database": DB, "table": "people", "content_type": ac.ARROW,
                       "data": b64(ac.schema_ipc(pa.schema([pa.field("city", pa.string())])))}, EMPTY,
       lambda r: r.sqlite.add_columns(database=DB, table="people", new_columns={"city": pa.string()})),
    _s("drop_columns", {"database": DB, "table": "people", "columns": ["city"]}, EMPTY,
       lambda r: r.sqlite.drop_columns(database=DB, table="people", columns=["city"])),
    _s("update", {"database": DB, "table": "people", "where": "id = ?", "params": [1],
                  "values": [{"column": "name", "value_json": '"Zo\\u00eb"'}]}, json_reply({"rows_affected": 1}),
       lambda r: r.sqlite.update(database=DB, table="people", where="id = ?", params=[1], values={"name": "Zoë"})),
    _s("delete", {"database": DB, "table": "people", "where": "score IS NULL"}, json_reply({"rows_affected": 1}),
       lambda r: r.sqlite.delete(database=DB, table="people", where="score IS NULL")),
    _s("count", {"database": DB, "table": "people", "where": "score > :min", "params": {"min": 5}},
       json_reply({"count": 2}),
       lambda r: r.sqlite.count(database=DB, table="people", where="score > :min", params={"min": 5})),
    _s("open_sql_query", {"database": DB, "query": "SELECT id, name FROM people", "params": None}, QUERY_REPLY,
       lambda r: _exec(r.sqlite.open_sql_query(database=DB, query="SELECT id, name FROM people")),
       tail=ac.schema_ipc(QUERY_SCHEMA)),
    _s("execute_sql", {"database": DB, "query": "DELETE FROM people WHERE id = ?", "params": [3]},
       json_reply({"kind": "statement", "rows_affected": 1}),
       lambda r: _exec(r.sqlite.execute_sql(database=DB, query="DELETE FROM people WHERE id = ?", params=[3]))),
    _s("execute_sql", {"database": DB, "query": "SELECT id, name FROM people"}, QUERY_REPLY,
       lambda r: _exec(r.sqlite.execute_sql(database=DB, query="SELECT id, name FROM people")),
       tail=ac.schema_ipc(QUERY_SCHEMA), suffix="-query"),
    _s("execute_sql_statement", {"database": DB, "query": "UPDATE people SET score = 0"},
       json_reply({"rows_affected": 3}),
       lambda r: r.sqlite.execute_sql_statement(database=DB, query="UPDATE people SET score = 0")),
    _s("execute_sql_batch", {"database": DB, "commands": [{"query": "INSERT INTO t VALUES (?)", "params": [1]},
                                                          {"query": "SELECT * FROM t", "params": None}]},
       json_reply({"results": [{"kind": "statement", "rows_affected": 1},
                               {"kind": "query", "query_id": "sq-2", "schema_base64": b64(ac.schema_ipc(QUERY_SCHEMA))}]}),
       lambda r: _batch(r.sqlite.execute_sql_batch(database=DB, commands=[
           SqliteSqlCommand(query="INSERT INTO t VALUES (?)", params=[1]), SqliteSqlCommand(query="SELECT * FROM t")]))),
    _s("close_sql_query", {"query_id": "sq-1"}, EMPTY, lambda r: r.sqlite.close_sql_query(query_id="sq-1")),
    _s("cancel_sql_query", {"query_id": "sq-1"}, json_reply({"status": "not_cancellable"}),
       lambda r: r.sqlite.cancel_sql_query(query_id="sq-1")),
    # ---- streams
    Scenario(
        id="py056-sqlite-create-table-with-schema",
        method="sqlite.create_table",
        arguments={"kind": "start", "database": DB, "name": "people", "mode": "create",
                   "data": b64(ac.schema_ipc(ac.PEOPLE_SCHEMA))},
        input=[ac.PEOPLE_ROWS],
        steps=ac.write_steps("sqlite", "create_table", 1),
        run=lambda r: r.sqlite.create_table_with_schema(database=DB, name="people", schema=ac.PEOPLE_SCHEMA,
                                                        data=ac.PEOPLE_ROWS),
    ),
    Scenario(
        id="py056-sqlite-insert",
        method="sqlite.insert",
        arguments={"kind": "start", "database": DB, "table": "people"},
        input=[b64(ac.table_ipc(ac.PEOPLE_ROWS))],
        steps=ac.write_steps("sqlite", "insert", 1),
        run=lambda r: r.sqlite.insert(database=DB, table="people", records=PEOPLE),
    ),
    Scenario(
        id="py056-sqlite-insert-error-chunk",
        method="sqlite.insert",
        arguments={"database": DB, "table": "people"},
        input=[b64(ac.table_ipc(ac.PEOPLE_ROWS))],
        steps=ac.write_error_steps("sqlite", "insert", error_chunk("UNIQUE constraint failed: people.id", 1005)),
        run=lambda r: r.sqlite.insert(database=DB, table="people", records=PEOPLE),
    ),
    Scenario(
        id="py056-sqlite-search",
        method="sqlite.search",
        arguments={"kind": "start", "database": DB, "table": "people", "where": "score > ?", "params": [1],
                   "limit": 10, "select": ["id", "name", "score"]},
        steps=ac.read_steps("sqlite", "search", [_data(ac.PEOPLE_ROWS[:2]), _data(ac.PEOPLE_ROWS[2:])]),
        run=lambda r: _batches(r.sqlite.search_stream(database=DB, table="people", where="score > ?", params=[1],
                                                      limit=10, select=["id", "name", "score"])),
    ),
    Scenario(
        id="py056-sqlite-read-sql-query",
        method="sqlite.read_sql_query",
        arguments={"kind": "start", "query_id": "sq-1"},
        steps=ac.read_steps("sqlite", "read_sql_query", [_data(ac.PEOPLE_ROWS)]),
        run=lambda r: _batches(r.sqlite.read_sql_query(query_id="sq-1")),
    ),
    # The dataset-style data header (with content_type) is rejected by the sqlite client.
    Scenario(
        id="py056-sqlite-read-sql-query-content-type-rejected",
        method="sqlite.read_sql_query",
        arguments={"kind": "start", "query_id": "sq-1"},
        steps=[open_step("sqlite", "read_sql_query"), chunk_step(binary(kind="start")),
               chunk_step(binary(kind="pull"), then=[ac.data_chunk(ac.PEOPLE_ROWS)]), client_close()],
        run=lambda r: _batches(r.sqlite.read_sql_query(query_id="sq-1")),
    ),
    Scenario(
        id="py056-sqlite-backup",
        method="sqlite.backup",
        arguments={"kind": "start", "database": DB, "namespace": None},
        steps=[open_step("sqlite", "backup"), chunk_step(binary(kind="start")),
               chunk_step(binary(kind="pull"), then=[response_chunk(binary(kind="data"), BACKUP_BYTES[0])]),
               chunk_step(binary(kind="pull"), then=[response_chunk(binary(kind="data"), BACKUP_BYTES[1])]),
               chunk_step(binary(kind="pull"), then=[response_chunk(binary(**COMPLETE))]),
               client_close(then=[server_close()])],
        run=_backup,
    ),
    Scenario(
        id="py056-sqlite-backup-checksum-mismatch",
        method="sqlite.backup",
        arguments={"database": DB},
        steps=[open_step("sqlite", "backup"), chunk_step(binary(kind="start")),
               chunk_step(binary(kind="pull"), then=[response_chunk(binary(kind="data"), BACKUP_BYTES[0])]),
               chunk_step(binary(kind="pull"), then=[response_chunk(binary(**COMPLETE))]),
               client_close(then=[server_close()])],
        run=_backup,
    ),
    Scenario(
        id="py056-sqlite-restore",
        method="sqlite.restore",
        arguments={"kind": "start", "database": DB},
        input=[b64(b) for b in BACKUP_BYTES],
        steps=[open_step("sqlite", "restore"),
               chunk_step(binary(kind="start"), then=[response_chunk(binary(kind="pull"))]),
               chunk_step(binary(kind="data"), then=[response_chunk(binary(kind="pull"))]),
               chunk_step(binary(kind="data"), then=[response_chunk(binary(kind="pull"))]),
               chunk_step(binary(kind="complete"), then=[response_chunk(binary(**COMPLETE))]),
               client_close(then=[server_close()])],
        run=lambda r: r.sqlite.restore(database=DB, source=_aiter(BACKUP_BYTES)),
    ),
]
