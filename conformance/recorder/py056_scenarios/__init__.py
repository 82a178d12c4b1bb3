"""The Python 0.56.0 scenarios, in recording order (case ids py056-…)."""

from __future__ import annotations

from py_scenarios.common import Scenario

from .storage import STORAGE_SCENARIOS
from .queues import QUEUES_SCENARIOS
from .core import MESSAGING_SCENARIOS, DEVELOPER_SCENARIOS, SYNC_SCENARIOS, LIVEKIT_SCENARIOS, SERVICES_SCENARIOS
from .memory import MEMORY_SCENARIOS
from .agents import AGENTS_SCENARIOS
from .containers import CONTAINERS_SCENARIOS
from .mounts import MOUNTS_SCENARIOS
from .streaming import STREAM_SCENARIOS
from .dataset import DATASET_SCENARIOS
from .sqlite import SQLITE_SCENARIOS
from .messaging_stream import MESSAGING_STREAM_SCENARIOS

SCENARIOS: list[Scenario] = [
    *STORAGE_SCENARIOS,
    *QUEUES_SCENARIOS,
    *MESSAGING_SCENARIOS,
    *MESSAGING_STREAM_SCENARIOS,
    *DEVELOPER_SCENARIOS,
    *SYNC_SCENARIOS,
    *SERVICES_SCENARIOS,
    *LIVEKIT_SCENARIOS,
    *CONTAINERS_SCENARIOS,
    *MEMORY_SCENARIOS,
    *MOUNTS_SCENARIOS,
    *AGENTS_SCENARIOS,
    *STREAM_SCENARIOS,
    *DATASET_SCENARIOS,
    *SQLITE_SCENARIOS,
]
