"""memory.* scenarios."""

from __future__ import annotations

import datetime

from meshagent.api.room_server_client import (
    MemoryEntityRecord,
    MemoryRelationshipRecord,
    MemoryRelationshipSelector,
)

from .common import LONG_TEXT, UTC, Scenario, b64, case, error_reply, json_reply, py_json


INGEST_RESULT = {"name": "kb", "stats": {"entities": 3, "relationships": 2, "sources": 1}, "entity_ids": ["e1", "e2", "e3"]}

NODES = [
    MemoryEntityRecord(
        entity_id="e-zoe",
        name="Zoë",
        entity_type="person",
        context="Leads the Paris office ✓",
        confidence=0.9,
        created_at="2025-01-02T03:04:05Z",
        valid_at="2025-01-01",
        metadata={"source": "hr.csv"},
    ),
    MemoryEntityRecord(name="Paris"),
]

RELATIONSHIPS = [
    MemoryRelationshipRecord(
        source_entity_id="e-zoe",
        target_entity_id="e-paris",
        relationship_type="WORKS_IN",
        description="works in",
        confidence=0.75,
        created_at="2025-01-02T03:04:05Z",
        valid_at="2025-01-01",
        expired_at=None,
        invalid_at=None,
        source_entity_name="Zoë",
        target_entity_name="Paris",
        metadata={"k": "v"},
    ),
    MemoryRelationshipRecord(source_entity_id="e-a", target_entity_id="e-b"),
]

UPSERT_RECORDS = [
    {"id": i, "title": f"note {i} — ✓", "body": LONG_TEXT[:300], "blob": b"\x00\x01", "at": datetime.datetime(2025, 1, 2, tzinfo=UTC)}
    for i in range(4)
]

MEMORY_SCENARIOS: list[Scenario] = [
    case("py-memory-list", "memory.list", {}, json_reply({"memories": ["kb", "notes ✓"]})),
    case("py-memory-list-namespace", "memory.list", {"namespace": ["team", "eu"]}, json_reply({"memories": []})),
    case("py-memory-create", "memory.create", {"name": "kb"}),
    case(
        "py-memory-create-options",
        "memory.create",
        {"name": "kb ✓", "namespace": ["team"], "overwrite": True, "ignore_exists": True},
    ),
    case(
        "py-memory-create-error-already-exists",
        "memory.create",
        {"name": "kb"},
        error_reply(2002, "memory already exists: kb"),
    ),
    case("py-memory-drop", "memory.drop", {"name": "kb"}),
    case("py-memory-drop-ignore-missing", "memory.drop", {"name": "old", "namespace": ["team"], "ignore_missing": True}),
    case("py-memory-drop-error-not-found", "memory.drop", {"name": "nope"}, error_reply(2001, "memory not found: nope")),
    case(
        "py-memory-inspect",
        "memory.inspect",
        {"name": "kb"},
        json_reply(
            {
                "name": "kb",
                "namespace": ["team"],
                "path": ".memory/team/kb",
                "datasets": [
                    {"name": "entities", "rows": 120, "columns": ["entity_id", "name", "entity_type"]},
                    {"name": "relationships ✓", "rows": 0},
                ],
            }
        ),
    ),
    case(
        "py-memory-inspect-error-not-found",
        "memory.inspect",
        {"name": "nope", "namespace": ["team"]},
        error_reply(2001, "memory not found: nope"),
    ),
    # `results` form: records with the legacy base64 encoding decoded by the SDK.
    case(
        "py-memory-query",
        "memory.query",
        {"name": "kb", "statement": "MATCH (p:person) RETURN p.name, p.photo"},
        json_reply(
            {
                "results": [
                    {"name": "Zoë ✓", "photo": {"encoding": "base64", "data": "iVBORw=="}, "age": 41, "score": 0.5},
                    {"name": "", "photo": None, "age": None, "score": 1.0},
                ]
            }
        ),
    ),
    # typed rows form (kind: rows), decoded with the database stream value decoder.
    case(
        "py-memory-query-rows",
        "memory.query",
        {"name": "kb", "statement": "SELECT name, tags FROM entities", "namespace": ["team"]},
        json_reply(
            {
                "kind": "rows",
                "rows": [
                    {
                        "columns": [
                            {"name": "name", "value": {"type": "text", "value": "Zoë"}},
                            {"name": "tags", "value": {"type": "list", "items": [{"type": "text", "value": "a"}]}},
                            {"name": "blob", "value": {"type": "binary", "data": "AAE="}},
                            {"name": "seen", "value": {"type": "timestamp", "value": "2025-01-02T03:04:05Z"}},
                            {"name": "none", "value": {"type": "null"}},
                        ]
                    }
                ],
            }
        ),
    ),
    # records -> records_json (legacy encoding: bytes, datetimes); > 1024 bytes.
    case(
        "py-memory-upsert-table",
        "memory.upsert_table",
        {
            "name": "kb",
            "table": "notes",
            "records_json": py_json(
                [
                    {"id": i, "title": f"note {i} — ✓", "body": LONG_TEXT[:300], "blob": {"encoding": "base64", "data": "AAE="}, "at": "2025-01-02T00:00:00Z"}
                    for i in range(4)
                ]
            ),
        },
        run=lambda r: r.memory.upsert_table(name="kb", table="notes", records=UPSERT_RECORDS),
    ),
    case(
        "py-memory-upsert-table-no-merge",
        "memory.upsert_table",
        {"name": "kb", "namespace": ["team"], "table": "empty", "records_json": "[]", "merge": False},
        run=lambda r: r.memory.upsert_table(name="kb", table="empty", records=[], merge=False, namespace=["team"]),
    ),
    case(
        "py-memory-upsert-nodes",
        "memory.upsert_nodes",
        {"name": "kb", "records_json": py_json([n.model_dump() for n in NODES])},
        run=lambda r: r.memory.upsert_nodes(name="kb", records=NODES),
    ),
    case(
        "py-memory-upsert-nodes-no-merge",
        "memory.upsert_nodes",
        {"name": "kb", "namespace": ["team"], "records_json": py_json([NODES[1].model_dump()]), "merge": False},
        run=lambda r: r.memory.upsert_nodes(name="kb", records=[NODES[1]], merge=False, namespace=["team"]),
    ),
    case(
        "py-memory-upsert-relationships",
        "memory.upsert_relationships",
        {"name": "kb", "records_json": py_json([x.model_dump() for x in RELATIONSHIPS])},
        run=lambda r: r.memory.upsert_relationships(name="kb", records=RELATIONSHIPS),
    ),
    case(
        "py-memory-upsert-relationships-no-merge",
        "memory.upsert_relationships",
        {"name": "kb", "namespace": ["team"], "records_json": "[]", "merge": False},
        run=lambda r: r.memory.upsert_relationships(name="kb", records=[], merge=False, namespace=["team"]),
    ),
    case(
        "py-memory-ingest-text",
        "memory.ingest_text",
        {"name": "kb", "text": "Zoë dirige le bureau de Paris. ✓"},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-text-llm",
        "memory.ingest_text",
        {
            "name": "kb",
            "namespace": ["team"],
            "strategy": "llm",
            "llm_model": "gpt-4.1-mini",
            "llm_temperature": 0.2,
            "text": LONG_TEXT,
        },
        json_reply({"name": "kb", "stats": {}}),
    ),
    case(
        "py-memory-ingest-image",
        "memory.ingest_image",
        {
            "name": "kb",
            "caption": "Team photo ✓",
            "data_base64": b64(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
            "mime_type": "image/png",
            "source": "photos/team.png",
            "annotations_json": py_json({"event": "offsite", "lieu": "Montréal"}),
        },
        json_reply(INGEST_RESULT),
        run=lambda r: r.memory.ingest_image(
            name="kb",
            caption="Team photo ✓",
            data=b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            mime_type="image/png",
            source="photos/team.png",
            annotations={"event": "offsite", "lieu": "Montréal"},
        ),
    ),
    case(
        "py-memory-ingest-image-minimal",
        "memory.ingest_image",
        {"name": "kb"},
        json_reply({"name": "kb", "stats": {"entities": 0, "relationships": 0, "sources": 0}, "entity_ids": []}),
        run=lambda r: r.memory.ingest_image(name="kb"),
    ),
    case(
        "py-memory-ingest-file-path",
        "memory.ingest_file",
        {"name": "kb", "path": "docs/handbook ✓.pdf", "mime_type": "application/pdf"},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-file-text",
        "memory.ingest_file",
        {"name": "kb", "namespace": ["team"], "strategy": "llm", "text": "", "llm_temperature": 0.0},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-table",
        "memory.ingest_from_table",
        {"name": "kb", "table": "people"},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-table-options",
        "memory.ingest_from_table",
        {
            "name": "kb",
            "table": "people",
            "text_columns": ["name", "bio"],
            "table_namespace": ["team"],
            "limit": 100,
            "namespace": ["kb-ns"],
            "strategy": "heuristic",
            "llm_model": "gpt-4.1",
        },
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-storage",
        "memory.ingest_from_storage",
        {"name": "kb", "paths": ["docs/a.txt", "docs/ünïcödé.md"]},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-storage-options",
        "memory.ingest_from_storage",
        {"name": "kb", "paths": ["docs/"], "namespace": ["team"], "strategy": "llm", "llm_model": "gpt-4.1-mini", "llm_temperature": 1.5},
        json_reply(INGEST_RESULT),
    ),
    case(
        "py-memory-ingest-from-storage-error-not-found",
        "memory.ingest_from_storage",
        {"name": "missing", "paths": []},
        error_reply(2001, "memory not found: missing"),
    ),
    case(
        "py-memory-recall",
        "memory.recall",
        {"name": "kb", "query": "Who leads Paris?"},
        json_reply(
            {
                "name": "kb",
                "query": "Who leads Paris?",
                "items": [
                    {
                        "entity_id": "e-zoe",
                        "name": "Zoë",
                        "entity_type": "person",
                        "context": "Leads the Paris office ✓",
                        "confidence": 0.9,
                        "created_at": "2025-01-02T03:04:05Z",
                        "valid_at": None,
                        "score": 0.87,
                        "relationships": [
                            {
                                "source_entity_id": "e-zoe",
                                "target_entity_id": "e-paris",
                                "relationship_type": "WORKS_IN",
                                "description": "works in",
                            }
                        ],
                    },
                    {"entity_id": "e-paris", "name": "Paris", "entity_type": "city", "score": 0.5},
                ],
            }
        ),
    ),
    case(
        "py-memory-recall-options",
        "memory.recall",
        {"name": "kb", "query": "", "namespace": ["team"], "limit": 1, "include_relationships": False},
        json_reply({"name": "kb", "query": "", "items": []}),
    ),
    case(
        "py-memory-delete-entities",
        "memory.delete_entities",
        {"name": "kb", "entity_ids": ["e-zoe", "e-ünï"]},
        json_reply({"name": "kb", "deleted_entities": 2, "deleted_relationships": 1}),
    ),
    case(
        "py-memory-delete-entities-namespace",
        "memory.delete_entities",
        {"name": "kb", "entity_ids": [], "namespace": ["team"]},
        json_reply({"name": "kb"}),
    ),
    case(
        "py-memory-delete-relationships",
        "memory.delete_relationships",
        {
            "name": "kb",
            "relationships": [
                {"source_entity_id": "e-zoe", "target_entity_id": "e-paris", "relationship_type": "WORKS_IN"},
                {"source_entity_id": "e-a", "target_entity_id": "e-b", "relationship_type": None},
            ],
        },
        json_reply({"name": "kb", "deleted_relationships": 2}),
        run=lambda r: r.memory.delete_relationships(
            name="kb",
            relationships=[
                MemoryRelationshipSelector(
                    source_entity_id="e-zoe", target_entity_id="e-paris", relationship_type="WORKS_IN"
                ),
                MemoryRelationshipSelector(source_entity_id="e-a", target_entity_id="e-b"),
            ],
        ),
    ),
    case(
        "py-memory-delete-relationships-namespace",
        "memory.delete_relationships",
        {"name": "kb", "relationships": [], "namespace": ["team"]},
        json_reply({"name": "kb", "deleted_relationships": 0}),
        run=lambda r: r.memory.delete_relationships(name="kb", relationships=[], namespace=["team"]),
    ),
    case(
        "py-memory-optimize",
        "memory.optimize",
        {"name": "kb"},
        json_reply(
            {
                "name": "kb",
                "datasets": [
                    {
                        "dataset": "entities",
                        "fragments_added": 1,
                        "fragments_removed": 4,
                        "files_added": 1,
                        "files_removed": 4,
                        "old_versions_removed": 3,
                        "bytes_removed": 1048576,
                    },
                    {"dataset": "relationships"},
                ],
            }
        ),
    ),
    case(
        "py-memory-optimize-options",
        "memory.optimize",
        {"name": "kb", "namespace": ["team"], "compact": False, "cleanup": False},
        json_reply({"name": "kb", "datasets": []}),
    ),
]
