"""queues.* scenarios."""

from __future__ import annotations

from .common import EMPTY, LONG_TEXT, Scenario, json_reply


QUEUES_SCENARIOS: list[Scenario] = [
    Scenario(
        id="py-queues-list",
        method="queues.list",
        arguments={},
        replies=[json_reply({"queues": [{"name": "jobs", "size": 3}, {"name": "événements", "size": 0}]})],
    ),
    Scenario(
        id="py-queues-open",
        method="queues.open",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-open-error-not-found",
        method="queues.open",
        arguments={"name": "missing"},
        replies=[{"type": "error", "text": "queue not found", "code": 5001}],
    ),
    Scenario(
        id="py-queues-send",
        method="queues.send",
        arguments={"name": "jobs", "message": {"task": "resize", "id": 7}},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-send-create-false",
        method="queues.send",
        arguments={"name": "jobs", "message": {"task": "resize", "id": 8}, "create": False},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-send-large-unicode",
        method="queues.send",
        arguments={
            "name": "jobs",
            "message": {
                "greeting": "héllo wörld — 日本語 ✓ 🚀",
                "long": LONG_TEXT,
                "nested": {"list": [1, 2.5, None, True, "ß"]},
            },
        },
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-drain",
        method="queues.drain",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-close",
        method="queues.close",
        arguments={"name": "jobs"},
        replies=[EMPTY],
    ),
    Scenario(
        id="py-queues-receive",
        method="queues.receive",
        arguments={"name": "jobs"},
        replies=[json_reply({"task": "resize", "id": 7})],
    ),
    Scenario(
        id="py-queues-receive-empty",
        method="queues.receive",
        arguments={"name": "jobs", "create": False, "wait": False},
        replies=[EMPTY],
    ),
]
