"""database.* scenarios (the non-streaming tools; see streaming.py for the others)."""

from __future__ import annotations

import datetime
from typing import Any

from meshagent.api.room_server_client import (
    DateDataType,
    FloatDataType,
    IntDataType,
    ListDataType,
    StructDataType,
    TextDataType,
    TimestampDataType,
    VectorDataType,
)

from .common import LONG_TEXT, UTC, Scenario, case, error_reply, json_reply, py_json


def _dt(value: Any) -> dict[str, Any]:
    """The data-type JSON the SDK sends for a DataType (same code path as add_columns)."""
    from meshagent.api.room_server_client import _database_toolkit_data_type_json

    return _database_toolkit_data_type_json(value)


INSPECT_FIELDS = [
    {"name": "id", "data_type": {"type": "int", "nullable": False, "metadata": None}},
    {
        "name": "name",
        "data_type": {"type": "text", "nullable": True, "metadata": [{"key": "description", "value": "nom complet ✓"}]},
    },
    {"name": "score", "data_type": {"type": "float", "nullable": None, "metadata": []}},
    {"name": "active", "data_type": {"type": "bool", "nullable": None, "metadata": None}},
    {"name": "avatar", "data_type": {"type": "binary", "nullable": True, "metadata": None}},
    {"name": "born", "data_type": {"type": "date", "nullable": True, "metadata": None}},
    {"name": "updated_at", "data_type": {"type": "timestamp", "nullable": False, "metadata": None}},
    {
        "name": "embedding",
        "data_type": {
            "type": "vector",
            "nullable": None,
            "metadata": None,
            "size": 3,
            "element_type": {"type": "float", "nullable": None, "metadata": None},
        },
    },
    {
        "name": "tags",
        "data_type": {
            "type": "list",
            "nullable": True,
            "metadata": None,
            "element_type": {"type": "text", "nullable": None, "metadata": None},
        },
    },
    {
        "name": "address",
        "data_type": {
            "type": "struct",
            "nullable": True,
            "metadata": None,
            "fields": [
                {"name": "street", "data_type": {"type": "text", "nullable": None, "metadata": None}},
                {"name": "zip", "data_type": {"type": "int", "nullable": None, "metadata": None}},
            ],
        },
    },
]

UPDATE_VALUES = {
    "name": "Zoë ✓",
    "score": 2.5,
    "visits": 7,
    "active": False,
    "avatar": b"\x00\x01\xfe\xff",
    "updated_at": datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
    "born": datetime.date(1990, 12, 31),
    "tags": ["a", "ü"],
    "address": {"street": "Rue de l'Église 1", "zip": 75001},
    "nickname": None,
}

VECTOR_TYPE = VectorDataType(size=3, element_type=FloatDataType())
TAGS_TYPE = ListDataType(element_type=TextDataType(), nullable=True, metadata={"description": "étiquettes", "max": 5})

DATABASE_SCENARIOS: list[Scenario] = [
    case(
        "py-database-list-tables",
        "database.list_tables",
        {},
        json_reply({"tables": ["people", "événements", ""]}),
    ),
    case(
        "py-database-list-tables-namespace",
        "database.list_tables",
        {"namespace": ["team", "ünï"]},
        json_reply({"tables": []}),
    ),
    case(
        "py-database-inspect",
        "database.inspect",
        {"table": "people"},
        json_reply({"fields": INSPECT_FIELDS, "metadata": None}),
    ),
    case(
        "py-database-inspect-namespace",
        "database.inspect",
        {"table": "événements", "namespace": ["team"]},
        json_reply({"fields": [{"name": "id", "data_type": {"type": "int", "nullable": None, "metadata": None}}]}),
    ),
    case(
        "py-database-inspect-error-not-found",
        "database.inspect",
        {"table": "missing"},
        error_reply(1003, "table not found: missing"),
    ),
    case("py-database-drop-table", "database.drop_table", {"name": "people"}),
    case(
        "py-database-drop-table-ignore-missing-namespace",
        "database.drop_table",
        {"name": "événements", "ignore_missing": True, "namespace": ["team"]},
    ),
    case(
        "py-database-drop-table-error-not-found",
        "database.drop_table",
        {"name": "missing", "ignore_missing": False},
        error_reply(1003, "table not found: missing"),
    ),
    case("py-database-drop-index", "database.drop_index", {"table": "people", "name": "name_idx"}),
    case(
        "py-database-drop-index-namespace",
        "database.drop_index",
        {"table": "people", "name": "idx ✓", "namespace": ["team", "eu"]},
    ),
    # A string value is a SQL default expression.
    case(
        "py-database-add-columns-sql",
        "database.add_columns",
        {
            "table": "people",
            "columns": [
                {"name": "score", "value_sql": "0.0", "data_type": None},
                {"name": "label", "value_sql": "'n/a — ✓'", "data_type": None},
            ],
        },
        run=lambda r: r.database.add_columns(table="people", new_columns={"score": "0.0", "label": "'n/a — ✓'"}),
    ),
    # A DataType value is a typed column filled with nulls; non-string metadata is JSON-encoded.
    case(
        "py-database-add-columns-data-types",
        "database.add_columns",
        {
            "table": "people",
            "columns": [
                {"name": "embedding", "value_sql": None, "data_type": _dt(VECTOR_TYPE)},
                {"name": "tags", "value_sql": None, "data_type": _dt(TAGS_TYPE)},
                {"name": "seen", "value_sql": None, "data_type": _dt(TimestampDataType(nullable=True))},
            ],
            "namespace": ["team"],
        },
        run=lambda r: r.database.add_columns(
            table="people",
            new_columns={"embedding": VECTOR_TYPE, "tags": TAGS_TYPE, "seen": TimestampDataType(nullable=True)},
            namespace=["team"],
        ),
    ),
    # DatabaseClient._alter_columns (private in 0.35.8).
    case(
        "py-database-alter-columns",
        "database.alter_columns",
        {
            "table": "people",
            "columns": [
                {"name": "score", "data_type": _dt(FloatDataType(nullable=True))},
                {
                    "name": "address",
                    "data_type": _dt(StructDataType(fields={"street": TextDataType(), "zip": IntDataType()})),
                },
            ],
        },
        run=lambda r: r.database._alter_columns(
            table="people",
            columns={
                "score": FloatDataType(nullable=True),
                "address": StructDataType(fields={"street": TextDataType(), "zip": IntDataType()}),
            },
        ),
    ),
    case(
        "py-database-alter-columns-namespace",
        "database.alter_columns",
        {
            "table": "people",
            "columns": [{"name": "born", "data_type": _dt(DateDataType(nullable=False, metadata={"format": "ISO ✓"}))}],
            "namespace": ["team"],
        },
        run=lambda r: r.database._alter_columns(
            table="people",
            columns={"born": DateDataType(nullable=False, metadata={"format": "ISO ✓"})},
            namespace=["team"],
        ),
    ),
    case("py-database-drop-columns", "database.drop_columns", {"table": "people", "columns": ["score", "ünï"]}),
    case(
        "py-database-drop-columns-namespace",
        "database.drop_columns",
        {"table": "people", "columns": [], "namespace": ["team"]},
    ),
    # values -> [{column, value_json}] with the legacy value encoding (bytes, dates, ...).
    case(
        "py-database-update-values",
        "database.update",
        {
            "table": "people",
            "where": "id = 1",
            "values": [{"column": k, "value_json": py_json(v)} for k, v in {
                "name": "Zoë ✓",
                "score": 2.5,
                "visits": 7,
                "active": False,
                "avatar": {"encoding": "base64", "data": "AAH+/w=="},
                "updated_at": "2025-01-02T03:04:05Z",
                "born": "1990-12-31",
                "tags": ["a", "ü"],
                "address": {"street": "Rue de l'Église 1", "zip": 75001},
                "nickname": None,
            }.items()],
        },
        run=lambda r: r.database.update(table="people", where="id = 1", values=UPDATE_VALUES),
    ),
    case(
        "py-database-update-values-sql",
        "database.update",
        {
            "table": "people",
            "where": "name = 'Zoë'",
            "values_sql": [{"column": "visits", "expression": "visits + 1"}, {"column": "seen", "expression": "now()"}],
        },
        run=lambda r: r.database.update(
            table="people", where="name = 'Zoë'", values_sql={"visits": "visits + 1", "seen": "now()"}
        ),
    ),
    case(
        "py-database-update-large-namespace",
        "database.update",
        {
            "table": "notes",
            "where": "",
            "values": [{"column": "body", "value_json": py_json(LONG_TEXT)}],
            "values_sql": [],
            "namespace": ["team"],
        },
        run=lambda r: r.database.update(
            table="notes", where="", values={"body": LONG_TEXT}, values_sql={}, namespace=["team"]
        ),
    ),
    case("py-database-delete", "database.delete", {"table": "people", "where": "id IN (1, 2, 3)"}),
    case(
        "py-database-delete-namespace",
        "database.delete",
        {"table": "événements", "where": "title = 'Fête ✓'", "namespace": ["team"]},
    ),
    case(
        "py-database-delete-error-invalid-request",
        "database.delete",
        {"table": "people", "where": "id = = 1"},
        error_reply(1002, "invalid where clause: id = = 1"),
    ),
    case("py-database-count", "database.count", {"table": "people"}, json_reply({"count": 42})),
    case(
        "py-database-count-filters",
        "database.count",
        {"table": "people", "text": "zoë", "vector": [0.1, -0.5, 1.0], "where": "active = true", "namespace": ["team"]},
        json_reply({"count": 0}),
    ),
    # A dict `where` becomes `k = json(v)` joined with AND.
    case(
        "py-database-count-where-dict",
        "database.count",
        {"table": "people", "where": 'id = 1 AND name = "Zo\\u00eb" AND active = true'},
        json_reply({"count": 1}),
        run=lambda r: r.database.count(table="people", where={"id": 1, "name": "Zoë", "active": True}),
    ),
    case("py-database-optimize", "database.optimize", {"table": "people"}),
    case("py-database-optimize-namespace", "database.optimize", {"table": "people", "namespace": ["team"]}),
    case("py-database-restore", "database.restore", {"table": "people", "version": 3}),
    case(
        "py-database-restore-error-not-found",
        "database.restore",
        {"table": "people", "version": 99},
        error_reply(1003, "version 99 not found"),
    ),
    case(
        "py-database-restore-namespace",
        "database.restore",
        {"table": "événements", "version": 1, "namespace": ["team"]},
    ),
    case("py-database-checkout", "database.checkout", {"table": "people", "version": 2}),
    case(
        "py-database-checkout-namespace",
        "database.checkout",
        {"table": "people", "version": 0, "namespace": ["team"]},
    ),
    case(
        "py-database-list-versions",
        "database.list_versions",
        {"table": "people"},
        json_reply(
            {
                "versions": [
                    {"version": 1, "timestamp": "2025-01-02T03:04:05Z", "metadata_json": "{}"},
                    {
                        "version": 2,
                        "timestamp": "2025-01-03T10:00:00.250000+00:00",
                        "metadata_json": '{"author": "Zoë", "tags": ["a"], "n": 1}',
                    },
                ]
            }
        ),
    ),
    case(
        "py-database-list-versions-namespace",
        "database.list_versions",
        {"table": "people", "namespace": ["team"]},
        json_reply({"versions": []}),
    ),
    case("py-database-create-vector-index", "database.create_vector_index", {"table": "people", "column": "embedding"}),
    case(
        "py-database-create-vector-index-replace",
        "database.create_vector_index",
        {"table": "people", "column": "embedding", "replace": True, "namespace": ["team"]},
    ),
    case("py-database-create-scalar-index", "database.create_scalar_index", {"table": "people", "column": "id"}),
    case(
        "py-database-create-scalar-index-replace-false",
        "database.create_scalar_index",
        {"table": "people", "column": "name", "replace": False, "namespace": ["team"]},
    ),
    case(
        "py-database-create-full-text-search-index",
        "database.create_full_text_search_index",
        {"table": "people", "column": "bio"},
    ),
    case(
        "py-database-create-full-text-search-index-replace",
        "database.create_full_text_search_index",
        {"table": "notes", "column": "body", "replace": True, "namespace": ["team"]},
    ),
    case(
        "py-database-list-indexes",
        "database.list_indexes",
        {"table": "people"},
        json_reply(
            {
                "indexes": [
                    {"name": "embedding_idx", "columns": ["embedding"], "type": "IVF_PQ"},
                    {"name": "name_fts ✓", "columns": ["name", "bio"], "type": "FTS"},
                ]
            }
        ),
    ),
    case(
        "py-database-list-indexes-namespace",
        "database.list_indexes",
        {"table": "people", "namespace": ["team"]},
        json_reply({"indexes": []}),
    ),
]
