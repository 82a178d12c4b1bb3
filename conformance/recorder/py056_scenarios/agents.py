"""agents (room.invoke_tool / room.list_toolkits / room.call) in 0.56: no caller_context any more,
room.invoke_nowait (reply ignored), toolkit `annotations` in list_toolkits, and the ApiScope keys
of 0.56 (dataset, sqlite, llm ...) in room.call."""

from __future__ import annotations

from meshagent.api.participant_token import ApiScope

from fake_room import Step
from py_scenarios.agents import AGENTS_SCENARIOS as AGENTS_035, TOOLKITS_REPLY
from py_scenarios.common import EMPTY, Scenario, case, error_reply, json_reply

from .common import derive

TOOLKITS_REPLY_056 = {
    "tools": {
        "storage-helpers": {
            **{k: v for k, v in TOOLKITS_REPLY["tools"]["storage-helpers"].items() if k != "thumbnail_url"},
            "annotations": {"meshagent.toolkit.kind": "helpers", "owner": "équipe ✓"},
        },
        "plain": {"title": "Plain", "description": "", "tools": {}},
    }
}


def _nowait(step_reply):
    return [Step(expect={"type": "room.invoke_tool", "toolkit": "demo", "tool": "notify"}, reply=step_reply)]


async def _invoke_nowait(room, **kwargs):
    return room.invoke_nowait(**kwargs)


AGENTS_SCENARIOS: list[Scenario] = [
    # py-agents-list-toolkits (0.35.8 reply with thumbnail_url, pricing, supports_context: ignored by 0.56) and
    # py-agents-call-api (a 0.35.8 ApiScope) are kept as they are.
    *derive(AGENTS_035, skip=["py-agents-invoke-tool-routing"]),
    case(
        "py056-agents-invoke-tool-routing",
        "agents.invoke_tool",
        {
            "toolkit": "storage-helpers",
            "tool": "summarize",
            "participant_id": "p-remote",
            "on_behalf_of_id": "p-user",
            "arguments": {"type": "json", "json": {"path": "docs/a.txt"}},
        },
        {"type": "link", "name": "summary ✓", "url": "https://files.example.test/summary.md"},
        run=lambda r: r.agents.invoke_tool(
            toolkit="storage-helpers", tool="summarize", input={"path": "docs/a.txt"},
            participant_id="p-remote", on_behalf_of_id="p-user",
        ),
    ),
    # room.invoke_nowait: one room.invoke_tool whose reply is ignored (an error reply included).
    Scenario(
        id="py056-agents-invoke-nowait",
        method="agents.invoke_nowait",
        arguments={"toolkit": "demo", "tool": "notify", "arguments": {"type": "json", "json": {"text": "ping ✓"}},
                   "participant_id": "p-remote"},
        steps=_nowait(json_reply({"ok": True})),
        run=lambda r: _invoke_nowait(r, toolkit="demo", tool="notify", input={"text": "ping ✓"}, participant_id="p-remote"),
        fire_and_forget=True,
    ),
    Scenario(
        id="py056-agents-invoke-nowait-error-ignored",
        method="agents.invoke_nowait",
        arguments={"toolkit": "demo", "tool": "notify", "arguments": {"type": "empty"}},
        steps=_nowait(error_reply(1003, "no such tool")),
        run=lambda r: _invoke_nowait(r, toolkit="demo", tool="notify"),
        fire_and_forget=True,
    ),
    case(
        "py056-agents-list-toolkits-annotations",
        "agents.list_toolkits",
        {},
        json_reply(TOOLKITS_REPLY_056),
        run=lambda r: r.agents.list_toolkits(),
    ),
    case(
        "py056-agents-call-api-agent-default",
        "agents.call",
        {
            "url": "https://agents.example.test/hooks/call",
            "arguments": {},
            "name": "helper",
            "api": ApiScope.agent_default().model_dump(mode="json"),
        },
        run=lambda r: r.agents.make_call(
            name="helper", url="https://agents.example.test/hooks/call", arguments={}, api=ApiScope.agent_default()
        ),
    ),
]
