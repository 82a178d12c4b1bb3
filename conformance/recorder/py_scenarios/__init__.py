"""The Python scenarios, in recording order (case files are written in this order).

SCENARIOS is built on first access, so that the 0.56 recorder (py056_scenarios) can import single
modules of this package (common, outcome, containers, streaming, ...) without the 0.35.8-only ones
(database, database_streams, secrets).
"""

from __future__ import annotations

from typing import Any


def _all() -> list[Any]:
    from .storage import STORAGE_SCENARIOS
    from .queues import QUEUES_SCENARIOS
    from .messaging import MESSAGING_SCENARIOS
    from .developer import DEVELOPER_SCENARIOS, STATUS_SCENARIOS
    from .sync import SYNC_SCENARIOS
    from .livekit import LIVEKIT_SCENARIOS
    from .services import SERVICES_SCENARIOS
    from .agents import AGENTS_SCENARIOS
    from .database import DATABASE_SCENARIOS
    from .memory import MEMORY_SCENARIOS
    from .secrets import SECRETS_SCENARIOS
    from .containers import CONTAINERS_SCENARIOS
    from .streaming import STORAGE_STREAM_SCENARIOS, TOOL_STREAM_SCENARIOS
    from .database_streams import DATABASE_STREAM_SCENARIOS

    return [
        *STORAGE_SCENARIOS,
        *QUEUES_SCENARIOS,
        *MESSAGING_SCENARIOS,
        *DEVELOPER_SCENARIOS,
        *STATUS_SCENARIOS,
        *SYNC_SCENARIOS,
        *LIVEKIT_SCENARIOS,
        *SERVICES_SCENARIOS,
        *AGENTS_SCENARIOS,
        *DATABASE_SCENARIOS,
        *MEMORY_SCENARIOS,
        *SECRETS_SCENARIOS,
        *CONTAINERS_SCENARIOS,
        *STORAGE_STREAM_SCENARIOS,
        *DATABASE_STREAM_SCENARIOS,
        *TOOL_STREAM_SCENARIOS,
    ]


def __getattr__(name: str) -> Any:
    if name == "SCENARIOS":
        value = _all()
        globals()["SCENARIOS"] = value
        return value
    raise AttributeError(name)
