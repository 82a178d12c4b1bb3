"""The agents surface: room.invoke_tool, room.list_toolkits and room.call."""

from __future__ import annotations

from meshagent.api.messaging import BinaryContent, FileContent
from meshagent.api.participant_token import (
    AgentsGrant,
    ApiScope,
    LivekitGrant,
    MessagingGrant,
    StorageGrant,
    StoragePathGrant,
)

from .common import BLOB, EMPTY, LONG_TEXT, Scenario, b64, case, error_reply, json_reply


TOOLKITS_REPLY = {
    "tools": {
        "storage-helpers": {
            "title": "Storage helpers",
            "description": "Tools that work on room storage ✓",
            "thumbnail_url": "https://cdn.example.test/icons/storage.png",
            "participant_id": "p-remote",
            "tools": {
                "summarize": {
                    "title": "Summarize a file",
                    "description": "Résume un fichier texte",
                    "input_spec": {
                        "types": ["json"],
                        "stream": False,
                        "schema": {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["path"],
                            "properties": {"path": {"type": "string", "description": "file path"}},
                        },
                    },
                    "output_spec": {"types": ["text", "json"], "stream": False},
                    "thumbnail_url": None,
                    "defs": None,
                    "pricing": "$0.01 per call",
                    "supports_context": True,
                    "strict": True,
                },
                "convert": {
                    "title": "Convert",
                    "description": "",
                    "input_spec": {"types": ["file", "binary"], "stream": True},
                    "output_spec": {"types": ["file"], "stream": True},
                    "defs": {"format": {"type": "string", "enum": ["pdf", "png"]}},
                    "supports_context": False,
                },
            },
        },
        "legacy": {
            "title": "Legacy toolkit",
            "description": "Uses input_schema / supportsContext",
            "tools": {
                "echo": {
                    "title": "Echo",
                    "description": "returns its input",
                    "input_schema": {"type": "object", "properties": {"text": {"type": "string"}}},
                    "output_schema": {"type": "object", "properties": {"echo": {"type": "object"}}},
                    "supportsContext": True,
                    "strict": "yes",
                },
                "ping": {},
            },
        },
        "empty": {"title": "", "description": "", "tools": {}},
    }
}

FULL_SCOPE = ApiScope(
    livekit=LivekitGrant(breakout_rooms=["salle-1"]),
    messaging=MessagingGrant(broadcast=False),
    storage=StorageGrant(paths=[StoragePathGrant(path="shared/", read_only=True)]),
    agents=AgentsGrant(allowed_toolkits=["storage-helpers"]),
)

AGENTS_SCENARIOS: list[Scenario] = [
    case(
        "py-agents-invoke-tool-json",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "echo", "arguments": {"type": "json", "json": {"text": "héllo ✓", "n": 2}}},
        json_reply({"echo": {"text": "héllo ✓", "n": 2}}),
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="echo", input={"text": "héllo ✓", "n": 2}),
    ),
    case(
        "py-agents-invoke-tool-text",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "shout", "arguments": {"type": "text", "text": "bonjour 👋"}},
        {"type": "text", "text": "BONJOUR 👋"},
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="shout", input="bonjour 👋"),
    ),
    case(
        "py-agents-invoke-tool-text-empty",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "shout", "arguments": {"type": "text", "text": ""}},
        {"type": "text", "text": ""},
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="shout", input=""),
    ),
    # A 1536-byte file input: the tail spans two data packets. The reply is a file with a tail.
    case(
        "py-agents-invoke-tool-file",
        "agents.invoke_tool",
        {
            "toolkit": "images",
            "tool": "thumbnail",
            "arguments": {"type": "file", "name": "photo ✓.png", "mime_type": "image/png"},
            "data": b64(BLOB),
        },
        {"type": "file", "name": "thumb.png", "mime_type": "image/png"},
        tail=b"\x89PNG\r\n\x1a\n\x00\x00thumb",
        run=lambda r: r.agents.invoke_tool(
            toolkit="images",
            tool="thumbnail",
            input=FileContent(data=BLOB, name="photo ✓.png", mime_type="image/png"),
        ),
    ),
    case(
        "py-agents-invoke-tool-binary",
        "agents.invoke_tool",
        {
            "toolkit": "codec",
            "tool": "decode",
            "arguments": {"type": "binary", "headers": {"encoding": "gzip", "level": 9}},
            "data": b64(b"\x1f\x8b\x08\x00payload"),
        },
        {"type": "binary", "headers": {"decoded": True}},
        tail=b"plain bytes \xe2\x9c\x93",
        run=lambda r: r.agents.invoke_tool(
            toolkit="codec",
            tool="decode",
            input=BinaryContent(data=b"\x1f\x8b\x08\x00payload", headers={"encoding": "gzip", "level": 9}),
        ),
    ),
    # No input: the SDK sends an empty Content.
    case(
        "py-agents-invoke-tool-empty",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "ping"},
        EMPTY,
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="ping"),
    ),
    case(
        "py-agents-invoke-tool-routing",
        "agents.invoke_tool",
        {
            "toolkit": "storage-helpers",
            "tool": "summarize",
            "participant_id": "p-remote",
            "on_behalf_of_id": "p-user",
            "arguments": {"type": "json", "json": {"path": "docs/a.txt"}},
            "caller_context": {"chat": {"thread_id": "t-1", "path": "threads/main.thread"}},
        },
        {"type": "link", "name": "summary ✓", "url": "https://files.example.test/summary.md"},
        run=lambda r: r.agents.invoke_tool(
            toolkit="storage-helpers",
            tool="summarize",
            input={"path": "docs/a.txt"},
            participant_id="p-remote",
            on_behalf_of_id="p-user",
            caller_context={"chat": {"thread_id": "t-1", "path": "threads/main.thread"}},
        ),
    ),
    case(
        "py-agents-invoke-tool-large-json",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "echo", "arguments": {"type": "json", "json": {"text": LONG_TEXT}}},
        json_reply({"length": len(LONG_TEXT)}),
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="echo", input={"text": LONG_TEXT}),
    ),
    case(
        "py-agents-invoke-tool-error-not-found",
        "agents.invoke_tool",
        {"toolkit": "missing", "tool": "nothing", "arguments": {"type": "json", "json": {}}},
        error_reply(1003, "toolkit not found: missing"),
        run=lambda r: r.agents.invoke_tool(toolkit="missing", tool="nothing", input={}),
    ),
    # An error reply without a code: the SDK's RoomException.code is None.
    case(
        "py-agents-invoke-tool-error-no-code",
        "agents.invoke_tool",
        {"toolkit": "demo", "tool": "divide", "arguments": {"type": "json", "json": {"a": 1, "b": 0}}},
        error_reply(None, "division by zero"),
        run=lambda r: r.agents.invoke_tool(toolkit="demo", tool="divide", input={"a": 1, "b": 0}),
    ),
    case(
        "py-agents-list-toolkits",
        "agents.list_toolkits",
        {},
        json_reply(TOOLKITS_REPLY),
        run=lambda r: r.agents.list_toolkits(),
    ),
    case(
        "py-agents-list-toolkits-filters",
        "agents.list_toolkits",
        {"participant_id": "p-remote", "participant_name": "bob ✓", "timeout": 30},
        json_reply({"tools": {}}),
        run=lambda r: r.agents.list_toolkits(participant_id="p-remote", participant_name="bob ✓", timeout=30),
    ),
    case(
        "py-agents-list-toolkits-error-timeout",
        "agents.list_toolkits",
        {"participant_name": "nobody", "timeout": 1},
        error_reply(1009, "timed out waiting for the participant's toolkits"),
        run=lambda r: r.agents.list_toolkits(participant_name="nobody", timeout=1),
    ),
    case(
        "py-agents-call",
        "agents.call",
        {"url": "https://agents.example.test/hooks/call", "arguments": {"prompt": "Bonjour ✓", "n": 1}, "name": "assistant"},
        run=lambda r: r.agents.make_call(
            name="assistant", url="https://agents.example.test/hooks/call", arguments={"prompt": "Bonjour ✓", "n": 1}
        ),
    ),
    case(
        "py-agents-call-api",
        "agents.call",
        {
            "url": "https://agents.example.test/hooks/call",
            "arguments": {},
            "name": "helper",
            "api": FULL_SCOPE.model_dump(mode="json"),
        },
        run=lambda r: r.agents.make_call(
            name="helper", url="https://agents.example.test/hooks/call", arguments={}, api=FULL_SCOPE
        ),
    ),
    case(
        "py-agents-call-error-permission-denied",
        "agents.call",
        {"url": "https://agents.example.test/hooks/call", "arguments": {}, "name": "intruder"},
        error_reply(1001, "call is not allowed"),
        run=lambda r: r.agents.make_call(name="intruder", url="https://agents.example.test/hooks/call", arguments={}),
    ),
]
