"""Helpers shared by the TS 0.39.9 scenario modules. The scenario model is the 0.35.8 one
(ts_scenarios/common.py); `derive()` reuses a 0.35.8 scenario as data under a ts039- id."""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable

from ts_scenarios.common import Scenario

PREFIX = "ts039-"


def derive(scenarios: Iterable[Scenario], *, skip: Iterable[str] = (), **changes: Any) -> list[Scenario]:
    skipped = set(skip)
    out = []
    for sc in scenarios:
        if sc.id in skipped:
            continue
        assert sc.id.startswith("ts-"), sc.id
        out.append(dataclasses.replace(sc, id=PREFIX + sc.id[len("ts-"):], **changes))
    return out


def ids(scenarios: Iterable[Scenario]) -> list[str]:
    return [s.id for s in scenarios]


@dataclasses.dataclass
class Scenario039(Scenario):
    """A 0.35.8 Scenario plus `pre_calls`: SDK calls ([path, args]) the driver makes before the
    recorded one (their values are not recorded). For a push-only case (method `events`), `steps`
    still script the requests the SDK makes on its own."""

    pre_calls: list[Any] | None = None
    # collect "iterate_n": how many items of an unbounded stream the driver reads.
    take: int | None = None

    def script(self):  # type: ignore[override]
        if self.method == "events" and self.steps is not None:
            return list(self.steps)
        return super().script()

    def expect(self):  # type: ignore[override]
        if self.method == "agents.invoke_nowait":
            return {"type": "room.invoke_tool", "toolkit": self.arguments["toolkit"], "tool": self.arguments["tool"]}
        return super().expect()
