"""messaging, developer, sync, livekit and services in 0.56: the 0.35.8 scenarios reused as data
where the call is unchanged; the changed ones are in the modules of their own."""

from __future__ import annotations

from py_scenarios.developer import DEVELOPER_SCENARIOS as DEVELOPER_035, STATUS_SCENARIOS as STATUS_035
from py_scenarios.livekit import LIVEKIT_SCENARIOS as LIVEKIT_035
from py_scenarios.sync import SYNC_SCENARIOS as SYNC_035

from .common import derive

from .messaging import MESSAGING_SCENARIOS  # noqa: E402,F401
DEVELOPER_SCENARIOS = derive(DEVELOPER_035) + derive(STATUS_035)
SYNC_SCENARIOS = derive(SYNC_035)
LIVEKIT_SCENARIOS = derive(LIVEKIT_035)
from .services import SERVICES_SCENARIOS  # noqa: E402,F401
