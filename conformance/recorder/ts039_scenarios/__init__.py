"""The TypeScript 0.39.9 scenarios, in recording order (case ids ts039-…)."""

from __future__ import annotations

from ts_scenarios.common import Scenario

from .storage import STORAGE
from .queues import QUEUES
from .messaging import MESSAGING, MESSAGING_EVENTS
from .core import DEVELOPER, SYNC, SERVICES, LIVEKIT, AGENTS, OTHER_EVENTS
from .containers import CONTAINERS_039, SECRETS_039, AGENTS_039, EXTRA_039
from .dataset import DATASET
from .rest import MEMORY, SECRETS, CONTAINERS, STREAMS

SCENARIOS: list[Scenario] = [
    *STORAGE, *QUEUES, *MESSAGING, *DEVELOPER, *SYNC, *SERVICES, *LIVEKIT,
    *CONTAINERS, *CONTAINERS_039, *EXTRA_039, *MEMORY, *SECRETS, *SECRETS_039, *AGENTS, *AGENTS_039, *STREAMS, *DATASET, *MESSAGING_EVENTS, *OTHER_EVENTS,
]
