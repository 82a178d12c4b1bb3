"""memory, secrets, containers and the streaming tools for TS 0.39.9 (the 0.35.8 scenarios reused
as data where the call is unchanged; database.* is gone, see dataset)."""

from __future__ import annotations

from ts_scenarios.containers import CONTAINERS as CONTAINERS_035
from ts_scenarios.memory import MEMORY as MEMORY_035
from ts_scenarios.secrets import SECRETS as SECRETS_035
from ts_scenarios.streaming import STREAMS as STREAMS_035

from .common import derive

MEMORY = derive(MEMORY_035)
SECRETS = derive(SECRETS_035)
CONTAINERS = derive(CONTAINERS_035, skip=["ts-containers-build", "ts-containers-start-build"])
STREAMS = derive([s for s in STREAMS_035 if not s.method.startswith("database.")])
