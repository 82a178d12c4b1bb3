"""queues.* for TS 0.39.9: unchanged, the 0.35.8 scenarios reused as data."""

from __future__ import annotations

from ts_scenarios.queues import QUEUES as QUEUES_035

from .common import derive

QUEUES = derive(QUEUES_035)
