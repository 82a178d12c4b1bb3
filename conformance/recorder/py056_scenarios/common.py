"""Helpers shared by the 0.56 Python scenario modules.

The scenario model (Scenario, Reply, case(), EventLog ...) and the outcome rules are those of the
0.35.8 recorder (py_scenarios/common.py, py_scenarios/outcome.py). Where a call is unchanged in
0.56, a 0.35.8 scenario is reused as data: `derive()` copies it under a py056- id.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from py_scenarios.common import Scenario

PREFIX = "py056-"


def derive(scenarios: Iterable[Scenario], *, skip: Iterable[str] = (), **changes: Any) -> list[Scenario]:
    """Copies of 0.35.8 scenarios under py056- ids (py-x -> py056-x); `skip` lists 0.35.8 ids
    that are left out (changed in 0.56, recorded by a scenario of their own)."""
    skipped = set(skip)
    out = []
    for sc in scenarios:
        if sc.id in skipped:
            continue
        assert sc.id.startswith("py-"), sc.id
        out.append(dataclasses.replace(sc, id=PREFIX + sc.id[len("py-"):], **changes))
    return out


@dataclasses.dataclass
class EventsWithSteps(Scenario):
    """A push-only case (method `events`) in which the SDK still sends requests of its own, answered
    by `steps` (e.g. the messaging.disable Python 0.56 sends for an unrequested messaging.enabled)."""

    def script(self):  # type: ignore[override]
        return list(self.steps or [])
