"""services.* scenarios."""

from __future__ import annotations

import json

from .common import Scenario, case, error_reply, json_reply


SERVICE_SPECS = [
    {
        "version": "v1",
        "kind": "Service",
        "id": "svc-chatbot",
        "metadata": {
            "name": "chatbot",
            "description": "A friendly assistant — répond en français ✓",
            "annotations": {"meshagent.service.id": "chatbot"},
        },
        "agents": [{"name": "assistant", "description": "answers questions"}],
        "ports": [
            {
                "num": 8080,
                "type": "http",
                "endpoints": [{"path": "/agent", "meshagent": {"identity": "assistant"}}],
            }
        ],
        "container": {
            "image": "ghcr.io/example/chatbot:1.2.3",
            "command": "python -m chatbot",
            "environment": [{"name": "LOG_LEVEL", "value": "debug"}],
            "storage": {"room": [{"path": "/data", "read_only": False}]},
        },
    },
    {
        "version": "v1",
        "kind": "Service",
        "metadata": {"name": "docs-mcp", "repo": "https://github.com/example/docs-mcp"},
        "external": {"url": "https://mcp.example.test/sse"},
    },
]

# The runtime state of the first service (py056_scenarios/services.py extends it with 0.56 fields).
CHATBOT_STATE = {
    "service_id": "svc-chatbot",
    "state": "running",
    "container_id": "c-1234",
    "restart_scheduled_at": None,
    "started_at": 1717171717.25,
    "restart_count": 2,
    "last_exit_code": 137,
    "last_exit_at": 1717171700.0,
}
EXTERNAL_STATE = {"service_id": "docs-mcp", "state": "external"}

SERVICES_SCENARIOS: list[Scenario] = [
    # ServicesClient.list_with_state(); list() returns just its .services.
    case(
        "py-services-list",
        "services.list",
        {},
        json_reply(
            {
                "services_json": [json.dumps(s) for s in SERVICE_SPECS],
                "service_states": [CHATBOT_STATE, EXTERNAL_STATE],
            }
        ),
        run=lambda r: r.services.list_with_state(),
    ),
    case(
        "py-services-list-empty",
        "services.list",
        {},
        json_reply({"services_json": [], "service_states": []}),
        run=lambda r: r.services.list_with_state(),
    ),
    case("py-services-restart", "services.restart", {"service_id": "svc-chatbot"}),
    case(
        "py-services-restart-error-not-found",
        "services.restart",
        {"service_id": "svc-missing"},
        error_reply(7001, "service not found: svc-missing"),
    ),
    case(
        "py-services-restart-error-not-allowed",
        "services.restart",
        {"service_id": "docs-mcp"},
        error_reply(7002, "external services cannot be restarted"),
    ),
]
