"""The Python 0.56.0 scenarios, in recording order (case ids py056-…)."""

from __future__ import annotations

from py_scenarios.common import Scenario

from .storage import STORAGE_SCENARIOS
from .queues import QUEUES_SCENARIOS

SCENARIOS: list[Scenario] = [
    *STORAGE_SCENARIOS,
    *QUEUES_SCENARIOS,
]
