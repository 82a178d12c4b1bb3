"""The database streaming tools (README.md, Streaming tools): create_table / insert / merge (write
streams) and sql / search (read streams). meshagent-api 0.35.8 only (0.56 has no database toolkit)."""

from __future__ import annotations

import meshagent.api.room_server_client as _rsc
from meshagent.api.room_server_client import FloatDataType, IntDataType, SqlTableReference, TextDataType

import stream_cases as streams

from .common import Scenario, py_json
from .streaming import _aiter, _collect


PEOPLE_SCHEMA = {"id": IntDataType(), "name": TextDataType(), "score": FloatDataType(nullable=True)}
SQL_QUERY = "SELECT p.id, p.name, p.score, p.active, p.joined, p.seen FROM people p WHERE p.score >= $min_score AND p.city = $city ORDER BY p.id"
SQL_PARAMS = {"min_score": 5, "city": "Zürich"}
SQL_TABLES = ["people", SqlTableReference(name="orders", namespace=["shop", "eu"], alias="o")]
SQL_TABLES_WIRE = [
    {"name": "people", "namespace": None, "alias": None},
    {"name": "orders", "namespace": ["shop", "eu"], "alias": "o"},
]

DATABASE_STREAM_SCENARIOS: list[Scenario] = [
    # ---- writes
    Scenario(
        id="py-database-create-table-with-data",
        method="database.create_table",
        arguments={
            "name": "people",
            "fields": _rsc._database_toolkit_schema_entries(PEOPLE_SCHEMA),
            "mode": "overwrite",
        },
        input=[streams.PEOPLE_ROWS],
        steps=streams.db_write_steps("create_table", 1),
        run=lambda room: room.database.create_table_with_schema(
            name="people", schema=PEOPLE_SCHEMA, data=streams.PEOPLE_ROWS, mode="overwrite"
        ),
    ),
    Scenario(
        id="py-database-create-table-open-error",
        method="database.create_table",
        arguments={"name": "people"},
        input=[streams.PEOPLE_ROWS[:1]],
        steps=streams.db_open_error_steps("create_table"),
        run=lambda room: room.database.create_table_from_data(name="people", data=streams.PEOPLE_ROWS[:1]),
    ),
    Scenario(
        id="py-database-insert-130-rows",
        method="database.insert",
        arguments={"table": "events"},
        input=[streams.EVENT_ROWS],
        steps=streams.db_write_steps("insert", 2),
        run=lambda room: room.database.insert(table="events", records=streams.EVENT_ROWS),
    ),
    Scenario(
        id="py-database-insert-stream",
        method="database.insert",
        arguments={"table": "people", "namespace": ["team", "ops"]},
        input=[streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]],
        steps=streams.db_write_steps("insert", 2),
        run=lambda room: room.database.insert_stream(
            table="people", chunks=_aiter([streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]]), namespace=["team", "ops"]
        ),
    ),
    Scenario(
        id="py-database-insert-error-chunk",
        method="database.insert",
        arguments={"table": "people"},
        input=[streams.PEOPLE_ROWS],
        steps=streams.db_write_error_steps("insert"),
        run=lambda room: room.database.insert(table="people", records=streams.PEOPLE_ROWS),
    ),
    Scenario(
        id="py-database-merge",
        method="database.merge",
        arguments={"table": "people", "on": "id"},
        input=[streams.MERGE_ROWS],
        steps=streams.db_write_steps("merge", 1),
        run=lambda room: room.database.merge(table="people", on="id", records=streams.MERGE_ROWS),
    ),
    Scenario(
        id="py-database-merge-error-chunk",
        method="database.merge",
        arguments={"table": "people", "on": "id"},
        input=[streams.MERGE_ROWS],
        steps=streams.db_write_error_steps("merge"),
        run=lambda room: room.database.merge(table="people", on="id", records=streams.MERGE_ROWS),
    ),
    # ---- reads (the *_stream variants: one result entry per rows chunk)
    Scenario(
        id="py-database-sql-stream",
        method="database.sql",
        arguments={"query": SQL_QUERY, "tables": SQL_TABLES_WIRE, "params_json": py_json(SQL_PARAMS)},
        steps=streams.db_read_steps("sql", streams.SQL_CHUNKS),
        run=lambda room: _collect(room.database.sql_stream(query=SQL_QUERY, tables=SQL_TABLES, params=SQL_PARAMS)),
    ),
    Scenario(
        id="py-database-sql-error-chunk",
        method="database.sql",
        arguments={"query": "SELECT FROM people", "tables": SQL_TABLES_WIRE[:1]},
        steps=streams.db_read_error_steps("sql"),
        run=lambda room: _collect(room.database.sql_stream(query="SELECT FROM people", tables=["people"])),
    ),
    Scenario(
        id="py-database-search-stream",
        method="database.search",
        arguments={"table": "docs", "text": "héllo", "where": "lang = 'de'", "limit": 10, "select": ["id", "text", "blob", "tags", "meta"]},
        steps=streams.db_read_steps("search", streams.SEARCH_CHUNKS),
        run=lambda room: _collect(
            room.database.search_stream(
                table="docs", text="héllo", where="lang = 'de'", limit=10, select=["id", "text", "blob", "tags", "meta"]
            )
        ),
    ),
    Scenario(
        id="py-database-search-open-error",
        method="database.search",
        arguments={"table": "people", "vector": [0.25, -1.5, 3.0]},
        steps=streams.db_open_error_steps("search"),
        run=lambda room: _collect(room.database.search_stream(table="people", vector=[0.25, -1.5, 3.0])),
    ),
]
