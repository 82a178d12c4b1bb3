"""queues.* in 0.56: unchanged on the wire, the 0.35.8 scenarios reused as data."""

from __future__ import annotations

from py_scenarios.queues import QUEUES_SCENARIOS as QUEUES_035

from .common import derive

QUEUES_SCENARIOS = derive(QUEUES_035)
