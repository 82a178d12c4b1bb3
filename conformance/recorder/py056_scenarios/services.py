"""services.* in 0.56: list() returns {services, service_states} (list_with_state is gone), and the
runtime states gain last_start_error(_at), status.ports and events. restart is unchanged."""

from __future__ import annotations

import json

from py_scenarios.common import Scenario, json_reply
from py_scenarios.services import CHATBOT_STATE, EXTERNAL_STATE, SERVICE_SPECS, SERVICES_SCENARIOS as SERVICES_035

from .common import derive

SERVICES_SCENARIOS: list[Scenario] = [
    Scenario(
        id="py056-services-list",
        method="services.list",
        arguments={},
        replies=[json_reply({
            "services_json": [json.dumps(s) for s in SERVICE_SPECS],
            "service_states": [
                {
                    **CHATBOT_STATE,
                    "last_start_error": "image pull backoff ✗",
                    "last_start_error_at": 1717171600.5,
                    "status": {"ports": [
                        {"num": 8080, "liveness": "/healthz", "liveness_status": "ready",
                         "last_checked_at": 1717171720.0, "last_error": None},
                        {"num": "*", "liveness_status": "not_configured"},
                    ]},
                    "events": [
                        {"type": "Warning", "reason": "BackOff", "message": "restarting failed container",
                         "count": 3, "first_timestamp": 1717171000.0, "last_timestamp": 1717171500.0},
                    ],
                },
                EXTERNAL_STATE,
            ],
        })],
        run=lambda r: r.services.list(),
    ),
    Scenario(
        id="py056-services-list-empty",
        method="services.list",
        arguments={},
        replies=[json_reply({"services_json": [], "service_states": []})],
        run=lambda r: r.services.list(),
    ),
    *derive(SERVICES_035, skip=["py-services-list", "py-services-list-empty"]),
]
