"""queues.* in 0.56: unchanged on the wire, the 0.35.8 scenarios reused as data."""

from __future__ import annotations

from py_scenarios.queues import QUEUES_SCENARIOS as QUEUES_035

from .common import derive

from py_scenarios.common import Scenario, json_reply

QUEUES_SCENARIOS = derive(QUEUES_035) + [
    # 0.56 validates the list reply with extra="forbid".
    Scenario(
        id="py056-queues-list-extra-key",
        method="queues.list",
        arguments={},
        replies=[json_reply({"queues": [{"name": "jobs", "size": 3}], "total": 1})],
    ),
]
