"""sync.* scenarios (the non-streaming tools; sync.open is in streaming.py)."""

from __future__ import annotations

from meshagent.api.schema import ChildProperty, ElementType, MeshSchema, ValueProperty

from .common import Scenario, case, error_reply, json_reply


THREAD_SCHEMA = MeshSchema(
    root_tag_name="thread",
    elements=[
        ElementType(
            tag_name="thread",
            description="a chat thread",
            properties=[
                ValueProperty(name="name", description="the thread title", type="string"),
                ChildProperty(name="messages", description="the messages", child_tag_names=["message"]),
            ],
        ),
        ElementType(
            tag_name="message",
            description="one message",
            properties=[
                ValueProperty(name="text", description="the message text", type="string"),
                ValueProperty(name="author", description="who wrote it", type="string"),
            ],
        ),
    ],
)

THREAD_JSON = {"thread": {"name": "Planning ✓", "messages": [{"message": {"text": "héllo", "author": "bob"}}]}}

SYNC_SCENARIOS: list[Scenario] = [
    case(
        "py-sync-create",
        "sync.create",
        {"path": "docs/notes.thread"},
        run=lambda r: r.sync.create(path="docs/notes.thread"),
    ),
    case(
        "py-sync-create-json",
        "sync.create",
        {"path": "docs/plan ✓.thread", "json": THREAD_JSON},
        run=lambda r: r.sync.create(path="docs/plan ✓.thread", json=THREAD_JSON),
    ),
    # The caller passed "/docs/a.thread": the SDK strips leading "./" and "/" before sending.
    case(
        "py-sync-create-path-normalized",
        "sync.create",
        {"path": "docs/a.thread"},
        run=lambda r: r.sync.create(path="/docs/a.thread"),
    ),
    # schema.to_json() is well over 1024 bytes: 2 data packets.
    case(
        "py-sync-create-schema",
        "sync.create",
        {"path": "threads/main.thread", "json": THREAD_JSON, "schema": THREAD_SCHEMA.to_json()},
        run=lambda r: r.sync.create(path="threads/main.thread", json=THREAD_JSON, schema=THREAD_SCHEMA),
    ),
    case(
        "py-sync-create-error-already-exists",
        "sync.create",
        {"path": "docs/notes.thread"},
        error_reply(1004, "document already exists: docs/notes.thread"),
        run=lambda r: r.sync.create(path="docs/notes.thread"),
    ),
    case(
        "py-sync-describe",
        "sync.describe",
        {"path": "docs/notes.thread"},
        json_reply({"path": "docs/notes.thread", "schema": THREAD_SCHEMA.to_json(), "size": 2048, "open": True}),
        run=lambda r: r.sync.describe(path="docs/notes.thread"),
    ),
    case(
        "py-sync-describe-empty",
        "sync.describe",
        {"path": "docs/ünïcödé.thread"},
        json_reply({}),
        run=lambda r: r.sync.describe(path="./docs/ünïcödé.thread"),
    ),
    case(
        "py-sync-describe-error-not-found",
        "sync.describe",
        {"path": "docs/missing.thread"},
        error_reply(1003, "document not found"),
        run=lambda r: r.sync.describe(path="docs/missing.thread"),
    ),
]
