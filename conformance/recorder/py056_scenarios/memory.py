"""memory.* in 0.56: request keys unchanged, the 0.35.8 scenarios reused as data; record values
are typed single-key wrappers ({"binary": b64}, {"timestamp": ...}) since 0.37, so upsert_table and
query have scenarios of their own (the legacy {"encoding": "base64"} reply now fails in the SDK)."""

from __future__ import annotations

from py_scenarios.common import Scenario, case, json_reply, py_json
from py_scenarios.memory import MEMORY_SCENARIOS as MEMORY_035, UPSERT_RECORDS
from py_scenarios.common import LONG_TEXT

from .common import derive

MEMORY_SCENARIOS: list[Scenario] = [
    *derive(MEMORY_035, skip=["py-memory-query", "py-memory-upsert-table"]),
    case(
        "py056-memory-query",
        "memory.query",
        {"name": "kb", "statement": "MATCH (p:person) RETURN p.name, p.photo"},
        json_reply({"results": [
            {"name": "Zoë ✓", "photo": {"binary": "iVBORw=="}, "age": 41, "score": 0.5,
             "seen": {"timestamp": "2025-01-02T03:04:05Z"}, "born": {"date": "1984-05-06"},
             "id": {"uuid": "00000000-0000-4000-8000-000000000001"}, "tags": {"list": ["a", "b"]},
             "meta": {"json": {"k": [1, 2]}}, "addr": {"struct": {"city": "Zürich", "zip": 8000}}},
            {"name": "", "photo": None, "age": None, "score": 1.0},
        ]}),
    ),
    # The 0.35.8 reply shape: the SDK raises a plain ValueError (not a RoomException); not recorded.
    case(
        "py056-memory-upsert-table",
        "memory.upsert_table",
        {
            "name": "kb",
            "table": "notes",
            "records_json": py_json([
                {"id": i, "title": f"note {i} — ✓", "body": LONG_TEXT[:300], "blob": {"binary": "AAE="},
                 "at": {"timestamp": "2025-01-02T00:00:00Z"}}
                for i in range(4)
            ]),
        },
        run=lambda r: r.memory.upsert_table(name="kb", table="notes", records=UPSERT_RECORDS),
    ),
]
