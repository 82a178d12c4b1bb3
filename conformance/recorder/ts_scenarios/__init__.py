"""The TypeScript scenarios, in recording order (case files are written in this order)."""

from __future__ import annotations

from .common import Scenario
from .storage import STORAGE
from .queues import QUEUES
from .core import CORE
from .database import DATABASE
from .memory import MEMORY
from .secrets import SECRETS
from .containers import CONTAINERS
from .streaming import STREAMS
from .events import EVENTS

SCENARIOS: list[Scenario] = [
    *STORAGE, *QUEUES, *CORE, *DATABASE, *MEMORY, *SECRETS, *CONTAINERS, *STREAMS, *EVENTS
]
