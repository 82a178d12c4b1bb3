"""Record what the official TypeScript SDK (@meshagent/meshagent 0.35.8) puts on the wire.

For every scenario: start the fake room (fake_room.py) on a free loopback port, run
``node ts/driver.mjs '<scenario JSON>'``, which connects the official SDK's RoomClient to it and makes
ONE SDK call, and write one YAML case file (format 1, same as the Python cases) with every message
after the handshake (both directions) and the SDK's outcome.

The SDK prints ``GOT RESPONSE ...`` to stdout for every response; the driver therefore writes its
outcome to a JSON file instead, and node's stdout is only kept to show it when a scenario fails.

Usage: python record_typescript.py [--out DIR] [--only CASE_ID ...] [--jobs N]
       (default out: ../cases/typescript next to this file; needs `npm ci` in ts/ first;
       record.sh typescript does both)
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fake_room import FakeRoom, Frame, Push, Step

SDK_NAME = "@meshagent/meshagent"
SDK_VERSION = "0.35.8"
ROOM_NAME = "test-room"
# Same token as record_python.py. Looks like a JWT; the fake room does not validate it.
TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiJjb25mb3JtYW5jZSIsIm5hbWUiOiJhbGljZSJ9"
    ".Y29uZm9ybWFuY2Utc2lnbmF0dXJl"
)
PROCESS_TIMEOUT = 30.0

HERE = Path(__file__).resolve().parent
TS_DIR = HERE / "ts"


# --------------------------------------------------------------------------- scenarios


# packet type a method's request travels in (default: room.invoke_tool)
AGENT_PACKETS = {"agents.list_toolkits": "room.list_toolkits", "agents.call": "room.call"}


@dataclass
class Scenario:
    id: str
    # "<toolkit>.<tool>" as on the wire (room.invoke_tool), "agents.invoke_tool" (room.invoke_tool
    # of any toolkit), "agents.list_toolkits" (room.list_toolkits), "agents.call" (room.call), or
    # "events" for push-only cases. Same names as record_python.py.
    method: str
    # The tool input the SDK was asked to send, by wire field name, restricted to what the caller
    # passed explicitly; values in wire form. For the agents.* methods: the request header fields.
    # `data` (base64) stands for bytes sent as the message tail. Same convention as record_python.py.
    arguments: dict[str, Any]
    # The TypeScript call: (method path under RoomClient, positional JS arguments).
    # Special values (see ts/driver.mjs): {"$bytes": b64} -> Uint8Array, {"$participant": id} ->
    # RemoteParticipant, {"$file": {...}} -> FileContent, {"$datatype": json} -> DataType.
    call: tuple[str, list[Any]] | None = None
    # One reply Content per request: a Content header, or (header, tail bytes).
    replies: list[dict[str, Any] | tuple[dict[str, Any], bytes]] = field(default_factory=list)
    pushes: list[Push] = field(default_factory=list)
    listen: list[tuple[str, str]] = field(default_factory=list)  # (client, event), e.g. ("storage", "file.updated")
    wait_participant: str | None = None  # wait until messaging knows this remote participant
    # "wire": the SDK returns plain objects with camelCase keys; convert those keys to snake_case.
    result_keys: str | None = None
    # Streaming tools (see stream_cases.py): the whole fake-room script instead of `replies`,
    # what the caller fed into the stream (the case file's `input`), how ts/driver.mjs reads the
    # outcome from the call's return value, the exec operations and fixed uuid v4 draws.
    steps: list[Step] | None = None
    input: list[Any] | None = None
    collect: str | None = None
    # False: the SDK never sends its request-side control/close in this case (the driver then only
    # waits until every request it sent was answered).
    client_closes: bool = True
    # sync.open: a seeded crypto.getRandomValues (Yjs client ids) and how many children the root
    # has once the server's remote update was applied.
    seed_random: bool = False
    sync_children: int | None = None
    ops: list[dict[str, Any]] | None = None
    uuids: list[str] | None = None
    # Push events (see ts/driver.mjs setupEvents): the application callbacks to register before
    # connecting ("messaging", "developer", "status", "secrets"); when expect_events is set, the
    # outcome is the events they received (after the call, if any); pushes sent right after the
    # call's reply; messages of the unhandled promise rejections the SDK is expected to cause.
    events_setup: list[str] = field(default_factory=list)
    expect_events: int | None = None
    then: list[Push] = field(default_factory=list)
    expect_unhandled: list[str] = field(default_factory=list)

    def expect(self) -> dict[str, Any]:
        if self.method in AGENT_PACKETS:
            return {"type": AGENT_PACKETS[self.method]}
        if self.method == "agents.invoke_tool":
            return {
                "type": "room.invoke_tool",
                "toolkit": self.arguments["toolkit"],
                "tool": self.arguments["tool"],
            }
        toolkit, tool = self.method.split(".", 1)
        return {"type": "room.invoke_tool", "toolkit": toolkit, "tool": tool}

    def script(self) -> list[Step]:
        if self.method == "events":
            return []
        if self.steps is not None:
            return list(self.steps)
        steps = []
        for r in self.replies:
            header, tail = r if isinstance(r, tuple) else (r, b"")
            steps.append(Step(expect=self.expect(), reply=header, reply_tail=tail, then=list(self.then)))
        return steps


def json_reply(value: Any) -> dict[str, Any]:
    return {"type": "json", "json": value}


def error_reply(text: str, code: int) -> dict[str, Any]:
    return {"type": "error", "text": text, "code": code}


EMPTY = {"type": "empty"}

LONG_TEXT = "".join(f"{i:04d}-abcdefghij|" for i in range(80))  # 1280 ASCII chars (as record_python.py)
assert len(LONG_TEXT) > 1100


def plain(
    id: str,
    method: str,
    arguments: dict[str, Any],
    ts_method: str,
    ts_args: list[Any],
    reply: dict[str, Any] | tuple[dict[str, Any], bytes],
    **kw: Any,
) -> Scenario:
    return Scenario(
        id=id, method=method, arguments=arguments, call=(ts_method, ts_args), replies=[reply], **kw
    )


# Storage and queues: the same argument values and server replies as record_python.py, so the
# two SDKs are directly comparable (ids "ts-…" here, "py-…" there).
STORAGE_QUEUES: list[Scenario] = [
    plain("ts-storage-exists-true", "storage.exists", {"path": "docs/a.txt"},
          "storage.exists", ["docs/a.txt"], json_reply({"exists": True})),
    plain("ts-storage-exists-false", "storage.exists", {"path": "docs/missing.txt"},
          "storage.exists", ["docs/missing.txt"], json_reply({"exists": False})),
    plain("ts-storage-exists-error-not-found", "storage.exists", {"path": "nope/a.txt"},
          "storage.exists", ["nope/a.txt"], error_reply("not found", 3001)),
    plain("ts-storage-stat-exists", "storage.stat", {"path": "docs/a.txt"},
          "storage.stat", ["docs/a.txt"],
          json_reply({
              "exists": True,
              "name": "a.txt",
              "is_folder": False,
              "size": 1234,
              "created_at": "2024-01-02T03:04:05.678000+00:00",
              "updated_at": "2024-06-07T08:09:10+00:00",
          })),
    plain("ts-storage-stat-missing", "storage.stat", {"path": "docs/missing.txt"},
          "storage.stat", ["docs/missing.txt"], json_reply({"exists": False})),
    plain("ts-storage-list", "storage.list", {"path": "docs"},
          "storage.list", ["docs"],
          json_reply({
              "files": [
                  {"name": "reports", "is_folder": True, "size": None, "created_at": None, "updated_at": None},
                  {
                      "name": "résumé-日本語-✓.txt",
                      "is_folder": False,
                      "size": 42,
                      "created_at": "2024-01-02T03:04:05+00:00",
                      "updated_at": "2024-01-03T04:05:06.250000+00:00",
                  },
              ]
          })),
    plain("ts-storage-delete", "storage.delete", {"path": "docs/old.txt"},
          "storage.delete", ["docs/old.txt", {}], EMPTY),
    plain("ts-storage-delete-recursive", "storage.delete", {"path": "docs/old-folder", "recursive": True},
          "storage.delete", ["docs/old-folder", {"recursive": True}], EMPTY),
    plain("ts-storage-download-url", "storage.download_url", {"path": "docs/a.txt"},
          "storage.downloadUrl", ["docs/a.txt"],
          json_reply({"url": "https://files.example.test/rooms/test-room/docs/a.txt?sig=abc123"})),
    Scenario(
        id="ts-storage-events",
        method="events",
        arguments={},
        pushes=[
            Push(type="storage.file.updated", header={"path": "docs/a.txt", "participant_id": "p-remote"}),
            Push(type="storage.file.deleted", header={"path": "docs/ünïcödé.txt", "participant_id": "p-remote"}),
        ],
        listen=[("storage", "file.updated"), ("storage", "file.deleted")],
    ),
    # ---- queues
    plain("ts-queues-list", "queues.list", {}, "queues.list", [],
          json_reply({"queues": [{"name": "jobs", "size": 3}, {"name": "événements", "size": 0}]})),
    plain("ts-queues-open", "queues.open", {"name": "jobs"}, "queues.open", ["jobs"], EMPTY),
    plain("ts-queues-open-error-not-found", "queues.open", {"name": "missing"}, "queues.open", ["missing"],
          error_reply("queue not found", 5001)),
    plain("ts-queues-send", "queues.send", {"name": "jobs", "message": {"task": "resize", "id": 7}},
          "queues.send", ["jobs", {"task": "resize", "id": 7}, {}], EMPTY),
    plain("ts-queues-send-create-false", "queues.send",
          {"name": "jobs", "message": {"task": "resize", "id": 8}, "create": False},
          "queues.send", ["jobs", {"task": "resize", "id": 8}, {"create": False}], EMPTY),
    plain("ts-queues-send-large-unicode", "queues.send",
          {
              "name": "jobs",
              "message": {
                  "greeting": "héllo wörld — 日本語 ✓ 🚀",
                  "long": LONG_TEXT,
                  "nested": {"list": [1, 2.5, None, True, "ß"]},
              },
          },
          "queues.send",
          ["jobs", {
              "greeting": "héllo wörld — 日本語 ✓ 🚀",
              "long": LONG_TEXT,
              "nested": {"list": [1, 2.5, None, True, "ß"]},
          }, {}],
          EMPTY),
    plain("ts-queues-drain", "queues.drain", {"name": "jobs"}, "queues.drain", ["jobs"], EMPTY),
    plain("ts-queues-close", "queues.close", {"name": "jobs"}, "queues.close", ["jobs"], EMPTY),
    plain("ts-queues-receive", "queues.receive", {"name": "jobs"}, "queues.receive", ["jobs", {}],
          json_reply({"task": "resize", "id": 7})),
    plain("ts-queues-receive-empty", "queues.receive", {"name": "jobs", "create": False, "wait": False},
          "queues.receive", ["jobs", {"create": False, "wait": False}], EMPTY),
]


def js_json(value: Any) -> str:
    """JSON text as the TS SDK writes it (JSON.stringify: compact, UTF-8, no escaping)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


ATTACHMENT = b"\x00\x01\x02hello"
SECRET = "s3cr3t-✓".encode("utf-8")

MESSAGING_ENABLED = Push(
    type="messaging.send",
    header={
        "from_participant_id": "server",
        "type": "messaging.enabled",
        "message": {"participants": [{"id": "p-remote", "role": "agent", "attributes": {"name": "bob"}}]},
    },
)

# ---- messaging, developer, sync, services, livekit, agents (protocol-core.md §5–6)
CORE: list[Scenario] = [
    plain("ts-messaging-enable", "messaging.enable", {}, "messaging.enable", [], EMPTY),
    plain("ts-messaging-disable", "messaging.disable", {}, "messaging.disable", [], EMPTY),
    plain("ts-messaging-send", "messaging.send",
          {"type": "chat", "message_json": js_json({"text": "hi bob", "n": 1}), "to_participant_id": "p-remote"},
          "messaging.sendMessage",
          [{"to": {"$participant": "p-remote"}, "type": "chat", "message": {"text": "hi bob", "n": 1}}],
          EMPTY, pushes=[MESSAGING_ENABLED], wait_participant="p-remote"),
    plain("ts-messaging-send-attachment", "messaging.send",
          {
              "type": "file-share",
              "message_json": js_json({"name": "hello.bin"}),
              "attachment_base64": b64(ATTACHMENT),
              "to_participant_id": "p-remote",
          },
          "messaging.sendMessage",
          [{
              "to": {"$participant": "p-remote"},
              "type": "file-share",
              "message": {"name": "hello.bin"},
              "attachment": {"$bytes": b64(ATTACHMENT)},
          }],
          EMPTY, pushes=[MESSAGING_ENABLED], wait_participant="p-remote"),
    plain("ts-messaging-send-error-not-found", "messaging.send",
          {"type": "chat", "message_json": js_json({"text": "are you there?"}), "to_participant_id": "p-remote"},
          "messaging.sendMessage",
          [{"to": {"$participant": "p-remote"}, "type": "chat", "message": {"text": "are you there?"}}],
          error_reply("the participant was not found", 1003),
          pushes=[MESSAGING_ENABLED], wait_participant="p-remote"),
    plain("ts-messaging-broadcast", "messaging.broadcast",
          {"type": "announcement", "message_json": js_json({"text": "héllo everyone ✓"})},
          "messaging.broadcastMessage",
          [{"type": "announcement", "message": {"text": "héllo everyone ✓"}}],
          EMPTY),
    plain("ts-messaging-broadcast-attachment", "messaging.broadcast",
          {"type": "announcement", "message_json": js_json({"text": "see attached"}), "attachment_base64": b64(ATTACHMENT)},
          "messaging.broadcastMessage",
          [{"type": "announcement", "message": {"text": "see attached"}, "attachment": {"$bytes": b64(ATTACHMENT)}}],
          EMPTY),
    # ---- developer
    plain("ts-developer-log", "developer.log", {"type": "custom", "data": {"hello": "world", "n": 1}},
          "developer.log", ["custom", {"hello": "world", "n": 1}], EMPTY),
    plain("ts-developer-log-error-permission-denied", "developer.log", {"type": "custom", "data": {"hello": "world"}},
          "developer.log", ["custom", {"hello": "world"}], error_reply("permission denied", 1001)),
    # ---- sync
    plain("ts-sync-create", "sync.create",
          {"path": "docs/a.thread", "json": {"thread": {"name": "x", "messages": []}}},
          "sync.create", ["docs/a.thread", {"thread": {"name": "x", "messages": []}}], EMPTY),
    plain("ts-sync-create-no-json", "sync.create", {"path": "docs/empty.thread"},
          "sync.create", ["docs/empty.thread"], EMPTY),
    # The caller passed "./docs/b.thread": the SDK strips leading "./" and "/" before sending.
    plain("ts-sync-create-normalized-path", "sync.create", {"path": "docs/b.thread"},
          "sync.create", ["./docs/b.thread"], EMPTY),
    plain("ts-sync-create-error-already-exists", "sync.create", {"path": "docs/a.thread"},
          "sync.create", ["docs/a.thread"], error_reply("document already exists", 1004)),
    # ---- services
    plain("ts-services-list", "services.list", {}, "services.list", [],
          json_reply({
              "services_json": [js_json({
                  "version": "v1",
                  "kind": "Service",
                  "metadata": {"name": "web", "description": "web frontend"},
                  "id": "svc-web",
                  "container": {"image": "nginx:1.27"},
              })],
              "service_states": [{
                  "service_id": "svc-web",
                  "state": "running",
                  "container_id": "c-123",
                  "restart_scheduled_at": None,
                  "started_at": 1718000000.5,
                  "restart_count": 2,
                  "last_exit_code": 137,
                  "last_exit_at": 1717999990.25,
              }],
          })),
    plain("ts-services-list-with-state", "services.list", {}, "services.listWithState", [],
          json_reply({
              "services_json": [js_json({
                  "version": "v1",
                  "kind": "Service",
                  "metadata": {"name": "web", "description": "web frontend"},
                  "id": "svc-web",
                  "container": {"image": "nginx:1.27"},
              })],
              "service_states": [
                  {
                      "service_id": "svc-web",
                      "state": "running",
                      "container_id": "c-123",
                      "restart_scheduled_at": None,
                      "started_at": 1718000000.5,
                      "restart_count": 2,
                      "last_exit_code": 137,
                      "last_exit_at": 1717999990.25,
                  },
                  {"service_id": "svc-worker"},
              ],
          }),
          result_keys="wire"),
    plain("ts-services-restart", "services.restart", {"service_id": "svc-web"},
          "services.restart", [{"serviceId": "svc-web"}], EMPTY),
    plain("ts-services-restart-error-not-found", "services.restart", {"service_id": "svc-missing"},
          "services.restart", [{"serviceId": "svc-missing"}], error_reply("service not found", 7001)),
    # ---- livekit (LivekitClient from dist/node/lk-client.js; not reachable from RoomClient)
    plain("ts-livekit-connect", "livekit.connect", {"breakout_room": "breakout-1"},
          "livekit.getConnectionInfo", [{"breakoutRoom": "breakout-1"}],
          json_reply({"url": "wss://livekit.example.test", "token": "lk-token-123"})),
    plain("ts-livekit-connect-default", "livekit.connect", {},
          "livekit.getConnectionInfo", [{}],
          json_reply({"url": "wss://livekit.example.test", "token": "lk-token-456"})),
    plain("ts-livekit-connect-error", "livekit.connect", {},
          "livekit.getConnectionInfo", [{}], error_reply("livekit is not configured", 1007)),
    # ---- agents
    plain("ts-agents-invoke-tool", "agents.invoke_tool",
          {"toolkit": "demo", "tool": "echo", "arguments": {"type": "json", "json": {"text": "hi"}}},
          "agents.invokeTool", [{"toolkit": "demo", "tool": "echo", "input": {"text": "hi"}}],
          json_reply({"echo": {"text": "hi"}})),
    plain("ts-agents-invoke-tool-context", "agents.invoke_tool",
          {
              "toolkit": "demo",
              "tool": "echo",
              "arguments": {"type": "json", "json": {"text": "hi"}},
              "participant_id": "p-remote",
              "on_behalf_of_id": "p-other",
              "caller_context": {"chat": "thread-1"},
          },
          "agents.invokeTool",
          [{
              "toolkit": "demo",
              "tool": "echo",
              "input": {"text": "hi"},
              "participantId": "p-remote",
              "onBehalfOfId": "p-other",
              "callerContext": {"chat": "thread-1"},
          }],
          {"type": "text", "text": "done"}),
    plain("ts-agents-invoke-tool-no-input", "agents.invoke_tool", {"toolkit": "demo", "tool": "ping"},
          "agents.invokeTool", [{"toolkit": "demo", "tool": "ping"}], EMPTY),
    plain("ts-agents-invoke-tool-file", "agents.invoke_tool",
          {
              "toolkit": "demo",
              "tool": "convert",
              "arguments": {"type": "file", "name": "a.bin", "mime_type": "application/octet-stream"},
              "data": b64(ATTACHMENT),
          },
          "agents.invokeTool",
          [{
              "toolkit": "demo",
              "tool": "convert",
              "input": {"$file": {"name": "a.bin", "mime_type": "application/octet-stream", "data_base64": b64(ATTACHMENT)}},
          }],
          ({"type": "file", "name": "a.txt", "mime_type": "text/plain"}, "converted ✓\n".encode("utf-8"))),
    plain("ts-agents-invoke-tool-error", "agents.invoke_tool",
          {"toolkit": "demo", "tool": "echo", "arguments": {"type": "json", "json": {"text": "boom"}}},
          "agents.invokeTool", [{"toolkit": "demo", "tool": "echo", "input": {"text": "boom"}}],
          error_reply("tool failed: boom", 1008)),
    plain("ts-agents-list-toolkits", "agents.list_toolkits", {}, "agents.listToolkits", [],
          json_reply({"tools": {
              "demo": {
                  "title": "Demo",
                  "description": "demo tools",
                  "thumbnail_url": None,
                  "participant_id": "p-remote",
                  "tools": {
                      "echo": {
                          "title": "Echo",
                          "description": "echoes its input",
                          "input_spec": {
                              "types": ["json"],
                              "stream": False,
                              "schema": {
                                  "type": "object",
                                  "properties": {"text": {"type": "string"}},
                                  "required": ["text"],
                                  "additionalProperties": False,
                              },
                          },
                          "output_spec": {"types": ["json"], "stream": False},
                          "thumbnail_url": None,
                          "defs": None,
                          "pricing": None,
                          "supports_context": False,
                      },
                      "ping": {
                          "title": "Ping",
                          "description": "",
                          "input_spec": {"types": ["empty"], "stream": False},
                          "output_spec": None,
                          "thumbnail_url": "https://example.test/ping.png",
                          "defs": None,
                          "pricing": None,
                          "supports_context": True,
                      },
                  },
              },
          }})),
    plain("ts-agents-list-toolkits-filter", "agents.list_toolkits",
          {"participant_id": "p-remote", "participant_name": "bob", "timeout": 30},
          "agents.listToolkits", [{"participantId": "p-remote", "participantName": "bob", "timeout": 30}],
          json_reply({"tools": {}})),
    plain("ts-agents-call", "agents.call",
          {"name": "my-agent", "url": "https://agents.example.test/hooks/call", "arguments": {"topic": "weekly sync"}},
          "agents.call",
          [{"name": "my-agent", "url": "https://agents.example.test/hooks/call", "arguments": {"topic": "weekly sync"}}],
          EMPTY),
]

# ---- database plain tools (protocol-toolkits.md §3.4)
DATABASE: list[Scenario] = [
    plain("ts-database-list-tables", "database.list_tables", {}, "database.listTables", [],
          json_reply({"tables": ["users", "events"]})),
    plain("ts-database-list-tables-namespace", "database.list_tables", {"namespace": ["team", "alpha"]},
          "database.listTables", [{"namespace": ["team", "alpha"]}], json_reply({"tables": []})),
    plain("ts-database-inspect", "database.inspect", {"table": "users"},
          "database.inspect", [{"table": "users"}],
          json_reply({"fields": [
              {"name": "id", "data_type": {"type": "int", "nullable": False, "metadata": None}},
              {"name": "name", "data_type": {"type": "text", "nullable": True, "metadata": None}},
              {"name": "embedding", "data_type": {
                  "type": "vector",
                  "nullable": True,
                  "metadata": [{"key": "model", "value": "mini"}],
                  "size": 3,
                  "element_type": {"type": "float", "nullable": False, "metadata": None},
              }},
          ]})),
    plain("ts-database-drop-table", "database.drop_table", {"name": "old_users"},
          "database.dropTable", [{"name": "old_users"}], EMPTY),
    plain("ts-database-drop-table-options", "database.drop_table",
          {"name": "old_users", "ignore_missing": True, "namespace": ["team"]},
          "database.dropTable", [{"name": "old_users", "ignoreMissing": True, "namespace": ["team"]}], EMPTY),
    plain("ts-database-drop-table-error-not-found", "database.drop_table", {"name": "missing"},
          "database.dropTable", [{"name": "missing"}], error_reply("table not found: missing", 1003)),
    plain("ts-database-drop-index", "database.drop_index", {"table": "users", "name": "users_name_idx"},
          "database.dropIndex", [{"table": "users", "name": "users_name_idx"}], EMPTY),
    plain("ts-database-add-columns", "database.add_columns",
          {"table": "users", "columns": [
              {"name": "age", "value_sql": None, "data_type": {"type": "int", "nullable": None, "metadata": None}},
              {"name": "nickname", "value_sql": "'anon'", "data_type": None},
          ]},
          "database.addColumns",
          [{"table": "users", "newColumns": {"age": {"$datatype": {"type": "int"}}, "nickname": "'anon'"}}],
          EMPTY),
    plain("ts-database-drop-columns", "database.drop_columns", {"table": "users", "columns": ["nickname", "age"]},
          "database.dropColumns", [{"table": "users", "columns": ["nickname", "age"]}], EMPTY),
    plain("ts-database-update", "database.update",
          {"table": "users", "where": "id = 1", "values": [
              {"column": "name", "value_json": js_json("Zoë")},
              {"column": "score", "value_json": js_json(9.5)},
              {"column": "active", "value_json": js_json(True)},
          ]},
          "database.update",
          [{"table": "users", "where": "id = 1", "values": {"name": "Zoë", "score": 9.5, "active": True}}],
          EMPTY),
    plain("ts-database-update-values-sql", "database.update",
          {"table": "users", "where": "score < 5", "values_sql": [{"column": "score", "expression": "score + 1"}]},
          "database.update", [{"table": "users", "where": "score < 5", "valuesSql": {"score": "score + 1"}}],
          EMPTY),
    plain("ts-database-delete", "database.delete", {"table": "users", "where": "id = 1"},
          "database.delete", [{"table": "users", "where": "id = 1"}], EMPTY),
    plain("ts-database-count", "database.count", {"table": "users", "where": 'name = "Zoë" AND active = true'},
          "database.count", [{"table": "users", "where": {"name": "Zoë", "active": True}}],
          json_reply({"count": 2})),
    plain("ts-database-count-text-vector", "database.count",
          {"table": "docs", "text": "hello", "vector": [0.25, -1.5, 3]},
          "database.count", [{"table": "docs", "text": "hello", "vector": [0.25, -1.5, 3]}],
          json_reply({"count": 5})),
    plain("ts-database-optimize", "database.optimize", {"table": "users"},
          "database.optimize", ["users"], EMPTY),
    plain("ts-database-restore", "database.restore", {"table": "users", "version": 3},
          "database.restore", [{"table": "users", "version": 3}], EMPTY),
    plain("ts-database-checkout", "database.checkout", {"table": "users", "version": 2},
          "database.checkout", [{"table": "users", "version": 2}], EMPTY),
    plain("ts-database-list-versions", "database.list_versions", {"table": "users"},
          "database.listVersions", [{"table": "users"}],
          json_reply({"versions": [
              {"version": 1, "timestamp": "2024-01-02T03:04:05+00:00", "metadata_json": "{}"},
              {"version": 2, "timestamp": "2024-01-03T04:05:06.250000+00:00",
               "metadata_json": js_json({"operation": "insert", "rows": 10})},
          ]})),
    plain("ts-database-create-vector-index", "database.create_vector_index", {"table": "docs", "column": "embedding"},
          "database.createVectorIndex", [{"table": "docs", "column": "embedding"}], EMPTY),
    plain("ts-database-create-scalar-index", "database.create_scalar_index",
          {"table": "users", "column": "id", "replace": True},
          "database.createScalarIndex", [{"table": "users", "column": "id", "replace": True}], EMPTY),
    plain("ts-database-create-full-text-search-index", "database.create_full_text_search_index",
          {"table": "docs", "column": "body"},
          "database.createFullTextSearchIndex", [{"table": "docs", "column": "body"}], EMPTY),
    plain("ts-database-list-indexes", "database.list_indexes", {"table": "docs"},
          "database.listIndexes", [{"table": "docs"}],
          json_reply({"indexes": [
              {"name": "embedding_idx", "type": "IVF_PQ", "columns": ["embedding"]},
              {"name": "body_idx", "type": "FTS", "columns": ["body"]},
          ]})),
]

NODE_RECORD = {
    "entity_id": "e-ada",
    "name": "Ada Lovelace",
    "entity_type": "person",
    "context": None,
    "confidence": None,
    "created_at": None,
    "valid_at": None,
    "metadata": {"source": "wiki"},
}
RELATIONSHIP_RECORD = {
    "source_entity_id": "e-ada",
    "target_entity_id": "e-babbage",
    "relationship_type": "COLLABORATED_WITH",
    "description": "worked on the Analytical Engine",
    "confidence": None,
    "created_at": None,
    "valid_at": None,
    "expired_at": None,
    "invalid_at": None,
    "source_entity_name": None,
    "target_entity_name": None,
    "metadata": None,
}
INGEST_RESULT = json_reply({
    "name": "notes",
    "stats": {"entities": 2, "relationships": 1, "sources": 1},
    "entity_ids": ["e-ada", "e-program"],
})

# ---- memory (protocol-toolkits.md §4)
MEMORY: list[Scenario] = [
    plain("ts-memory-list", "memory.list", {}, "memory.list", [], json_reply({"memories": ["notes", "people"]})),
    plain("ts-memory-create", "memory.create", {"name": "notes"}, "memory.create", [{"name": "notes"}], EMPTY),
    plain("ts-memory-create-options", "memory.create",
          {"name": "notes", "namespace": ["team"], "overwrite": True, "ignore_exists": True},
          "memory.create", [{"name": "notes", "namespace": ["team"], "overwrite": True, "ignoreExists": True}],
          json_reply({})),
    plain("ts-memory-drop", "memory.drop", {"name": "notes", "ignore_missing": True},
          "memory.drop", [{"name": "notes", "ignoreMissing": True}], EMPTY),
    plain("ts-memory-inspect", "memory.inspect", {"name": "notes"}, "memory.inspect", [{"name": "notes"}],
          json_reply({
              "name": "notes",
              "namespace": None,
              "path": "memories/notes",
              "datasets": [{"name": "entities", "rows": 12, "columns": ["entity_id", "name", "entity_type"]}],
          }),
          result_keys="wire"),
    plain("ts-memory-inspect-error-not-found", "memory.inspect", {"name": "nope"},
          "memory.inspect", [{"name": "nope"}], error_reply("memory not found: nope", 2001)),
    plain("ts-memory-query", "memory.query",
          {"name": "notes", "statement": "MATCH (n:person) RETURN n.name AS name LIMIT 2"},
          "memory.query", [{"name": "notes", "statement": "MATCH (n:person) RETURN n.name AS name LIMIT 2"}],
          json_reply({"results": [{"name": "Ada"}, {"name": "Grace"}]})),
    plain("ts-memory-query-rows", "memory.query", {"name": "notes", "statement": "MATCH (n) RETURN n.name, n.age"},
          "memory.query", [{"name": "notes", "statement": "MATCH (n) RETURN n.name, n.age"}],
          json_reply({"kind": "rows", "rows": [
              {"columns": [
                  {"name": "n.name", "value": {"type": "text", "value": "Ada"}},
                  {"name": "n.age", "value": {"type": "int", "value": 36}},
              ]},
              {"columns": [
                  {"name": "n.name", "value": {"type": "text", "value": "Grace"}},
                  {"name": "n.age", "value": {"type": "null"}},
              ]},
          ]})),
    plain("ts-memory-upsert-table", "memory.upsert_table",
          {"name": "notes", "table": "facts", "records_json": js_json([{"id": 1, "fact": "water boils at 100 °C"}])},
          "memory.upsertTable", [{"name": "notes", "table": "facts", "records": [{"id": 1, "fact": "water boils at 100 °C"}]}],
          EMPTY),
    plain("ts-memory-upsert-nodes", "memory.upsert_nodes",
          {"name": "notes", "records_json": js_json([NODE_RECORD])},
          "memory.upsertNodes",
          [{"name": "notes", "records": [
              {"entityId": "e-ada", "name": "Ada Lovelace", "entityType": "person", "metadata": {"source": "wiki"}},
          ]}],
          EMPTY),
    plain("ts-memory-upsert-relationships", "memory.upsert_relationships",
          {"name": "notes", "records_json": js_json([RELATIONSHIP_RECORD]), "merge": False},
          "memory.upsertRelationships",
          [{"name": "notes", "merge": False, "records": [{
              "sourceEntityId": "e-ada",
              "targetEntityId": "e-babbage",
              "relationshipType": "COLLABORATED_WITH",
              "description": "worked on the Analytical Engine",
          }]}],
          EMPTY),
    plain("ts-memory-ingest-text", "memory.ingest_text",
          {"name": "notes", "text": "Ada Lovelace wrote the first program."},
          "memory.ingestText", [{"name": "notes", "text": "Ada Lovelace wrote the first program."}],
          INGEST_RESULT, result_keys="wire"),
    plain("ts-memory-ingest-text-llm", "memory.ingest_text",
          {"name": "notes", "text": "Grace Hopper built a compiler.", "strategy": "llm",
           "llm_model": "gpt-4o-mini", "llm_temperature": 0.2},
          "memory.ingestText",
          [{"name": "notes", "text": "Grace Hopper built a compiler.", "strategy": "llm",
            "llmModel": "gpt-4o-mini", "llmTemperature": 0.2}],
          INGEST_RESULT, result_keys="wire"),
    plain("ts-memory-ingest-image", "memory.ingest_image",
          {"name": "notes", "caption": "a diagram", "data_base64": b64(ATTACHMENT), "mime_type": "image/png",
           "annotations_json": js_json({"alt": "diagram"})},
          "memory.ingestImage",
          [{"name": "notes", "caption": "a diagram", "data": {"$bytes": b64(ATTACHMENT)}, "mimeType": "image/png",
            "annotations": {"alt": "diagram"}}],
          INGEST_RESULT, result_keys="wire"),
    plain("ts-memory-ingest-file", "memory.ingest_file",
          {"name": "notes", "path": "docs/a.txt", "mime_type": "text/plain"},
          "memory.ingestFile", [{"name": "notes", "path": "docs/a.txt", "mimeType": "text/plain"}],
          INGEST_RESULT, result_keys="wire"),
    plain("ts-memory-ingest-from-table", "memory.ingest_from_table",
          {"name": "notes", "table": "facts", "text_columns": ["fact"], "limit": 100},
          "memory.ingestFromTable", [{"name": "notes", "table": "facts", "textColumns": ["fact"], "limit": 100}],
          INGEST_RESULT, result_keys="wire"),
    plain("ts-memory-ingest-from-storage", "memory.ingest_from_storage",
          {"name": "notes", "paths": ["docs/a.txt", "docs/b.md"]},
          "memory.ingestFromStorage", [{"name": "notes", "paths": ["docs/a.txt", "docs/b.md"]}],
          INGEST_RESULT, result_keys="wire"),
    plain("ts-memory-recall", "memory.recall",
          {"name": "notes", "query": "who wrote the first program?", "limit": 3},
          "memory.recall", [{"name": "notes", "query": "who wrote the first program?", "limit": 3}],
          json_reply({
              "name": "notes",
              "query": "who wrote the first program?",
              "items": [{
                  "entity_id": "e-ada",
                  "name": "Ada Lovelace",
                  "entity_type": "person",
                  "context": "mathematician",
                  "confidence": 0.9,
                  "created_at": "2024-01-02T03:04:05+00:00",
                  "valid_at": None,
                  "score": 0.87,
                  "relationships": [{
                      "source_entity_id": "e-ada",
                      "target_entity_id": "e-program",
                      "relationship_type": "WROTE",
                      "description": None,
                  }],
              }],
          }),
          result_keys="wire"),
    plain("ts-memory-delete-entities", "memory.delete_entities", {"name": "notes", "entity_ids": ["e-ada"]},
          "memory.deleteEntities", [{"name": "notes", "entityIds": ["e-ada"]}],
          json_reply({"name": "notes", "deleted_entities": 1, "deleted_relationships": 2}),
          result_keys="wire"),
    plain("ts-memory-delete-relationships", "memory.delete_relationships",
          {"name": "notes", "relationships": [
              {"source_entity_id": "e-ada", "target_entity_id": "e-babbage", "relationship_type": "COLLABORATED_WITH"},
          ]},
          "memory.deleteRelationships",
          [{"name": "notes", "relationships": [
              {"sourceEntityId": "e-ada", "targetEntityId": "e-babbage", "relationshipType": "COLLABORATED_WITH"},
          ]}],
          json_reply({"name": "notes", "deleted_relationships": 1}),
          result_keys="wire"),
    plain("ts-memory-optimize", "memory.optimize", {"name": "notes"}, "memory.optimize", [{"name": "notes"}],
          json_reply({"name": "notes", "datasets": [{
              "dataset": "entities",
              "fragments_added": 1,
              "fragments_removed": 4,
              "files_added": 1,
              "files_removed": 4,
              "old_versions_removed": 3,
              "bytes_removed": 20480,
          }]}),
          result_keys="wire"),
]

OAUTH_CONFIG_TS = {
    "client_id": "client-1",
    "authorization_endpoint": "https://auth.example.test/authorize",
    "token_endpoint": "https://auth.example.test/token",
    "scopes": ["read", "write"],
}
OAUTH_CONFIG_WIRE = {
    "client_id": "client-1",
    "client_secret": None,
    "authorization_endpoint": "https://auth.example.test/authorize",
    "token_endpoint": "https://auth.example.test/token",
    "no_pkce": None,
    "scopes": ["read", "write"],
}

# ---- secrets (protocol-toolkits.md §5)
SECRETS: list[Scenario] = [
    plain("ts-secrets-provide-oauth-authorization", "secrets.provide_oauth_authorization",
          {"request_id": "req-1", "code": "auth-code-xyz"},
          "secrets.provideOAuthAuthorization", [{"requestId": "req-1", "code": "auth-code-xyz"}], EMPTY),
    plain("ts-secrets-reject-oauth-authorization", "secrets.provide_oauth_authorization",
          {"request_id": "req-1", "error": "user denied access"},
          "secrets.rejectOAuthAuthorization", [{"requestId": "req-1", "error": "user denied access"}], EMPTY),
    plain("ts-secrets-provide-secret", "secrets.provide_secret", {"request_id": "req-2", "data": b64(SECRET)},
          "secrets.provideSecret", [{"requestId": "req-2", "data": {"$bytes": b64(SECRET)}}], EMPTY),
    plain("ts-secrets-reject-secret", "secrets.provide_secret", {"request_id": "req-2", "error": "no such secret"},
          "secrets.rejectSecret", [{"requestId": "req-2", "error": "no such secret"}], EMPTY),
    plain("ts-secrets-get-offline-oauth-token", "secrets.get_offline_oauth_token",
          {"oauth": OAUTH_CONFIG_WIRE, "delegated_to": "p-remote"},
          "secrets.getOfflineOAuthToken", [{"oauth": OAUTH_CONFIG_TS, "delegatedTo": "p-remote"}],
          json_reply({"access_token": "tok-abc"})),
    plain("ts-secrets-get-offline-oauth-token-none", "secrets.get_offline_oauth_token",
          {"connector": {"openai_connector_id": None, "server_url": "https://mcp.example.test", "client_secret_id": None}},
          "secrets.getOfflineOAuthToken", [{"connector": {"serverUrl": "https://mcp.example.test"}}],
          json_reply({"access_token": None})),
    plain("ts-secrets-request-oauth-token", "secrets.request_oauth_token",
          {"oauth": OAUTH_CONFIG_WIRE, "redirect_uri": "https://app.example.test/callback", "timeout": 120,
           "participant_id": "p-remote"},
          "secrets.requestOAuthToken",
          [{"oauth": OAUTH_CONFIG_TS, "fromParticipantId": "p-remote",
            "redirectUri": "https://app.example.test/callback", "timeout": 120}],
          json_reply({"access_token": "tok-def"})),
    plain("ts-secrets-list-secrets", "secrets.list_secrets", {}, "secrets.listSecrets", [],
          json_reply({"secrets": [
              {"id": "sec-1", "name": "github", "type": "oauth", "delegated_to": None},
              {"id": "sec-2", "name": "api key", "type": "text/plain", "delegated_to": "p-remote"},
          ]}),
          result_keys="wire"),
    plain("ts-secrets-delete-secret", "secrets.delete_secret", {"id": "sec-1"},
          "secrets.deleteSecret", [{"secretId": "sec-1"}], EMPTY),
    plain("ts-secrets-delete-requested-secret", "secrets.delete_requested_secret",
          {"url": "https://api.example.test", "type": "text/plain"},
          "secrets.deleteRequestedSecret", [{"url": "https://api.example.test", "type": "text/plain"}], EMPTY),
    plain("ts-secrets-request-secret", "secrets.request_secret",
          {"url": "https://api.example.test", "type": "text/plain", "participant_id": "p-remote"},
          "secrets.requestSecret",
          [{"fromParticipantId": "p-remote", "url": "https://api.example.test", "type": "text/plain"}],
          ({"type": "file", "name": "secret", "mime_type": "text/plain"}, SECRET)),
    plain("ts-secrets-set-secret", "secrets.set_secret",
          {"secret_id": "sec-2", "type": "text/plain", "name": "api key", "data": b64(SECRET)},
          "secrets.setSecret",
          [{"secretId": "sec-2", "mimeType": "text/plain", "name": "api key", "data": {"$bytes": b64(SECRET)}}],
          EMPTY),
    plain("ts-secrets-get-secret", "secrets.get_secret", {"secret_id": "sec-2"},
          "secrets.getSecret", [{"secretId": "sec-2"}],
          ({"type": "file", "name": "api key", "mime_type": "text/plain"}, SECRET)),
    plain("ts-secrets-get-secret-missing", "secrets.get_secret", {"name": "missing"},
          "secrets.getSecret", [{"name": "missing"}], EMPTY),
    plain("ts-secrets-get-secret-error-permission-denied", "secrets.get_secret", {"secret_id": "sec-9"},
          "secrets.getSecret", [{"secretId": "sec-9"}], error_reply("permission denied", 1001)),
]

ROOM_MOUNTS = [{"room": [{"path": "/src", "read_only": True}]}]
CREDENTIALS = [{"registry": "registry.example.test", "username": "bot", "password": "pw"}]

# ---- containers plain tools (protocol-toolkits.md §6.1)
CONTAINERS: list[Scenario] = [
    plain("ts-containers-list-images", "containers.list_images", {}, "containers.listImages", [],
          json_reply({"images": [
              {"id": "sha256:abc", "tags": ["nginx:1.27"], "size": 187000000,
               "labels": [{"key": "maintainer", "value": "ops"}]},
              {"id": "sha256:def", "tags": [], "labels": {"stage": "build"}},
          ]}),
          result_keys="wire"),
    plain("ts-containers-delete-image", "containers.delete_image", {"image": "nginx:1.27"},
          "containers.deleteImage", [{"image": "nginx:1.27"}], EMPTY),
    plain("ts-containers-pull-image", "containers.pull_image", {"tag": "nginx:1.27", "credentials": CREDENTIALS},
          "containers.pullImage", [{"tag": "nginx:1.27", "credentials": CREDENTIALS}], EMPTY),
    plain("ts-containers-push-image", "containers.push_image", {"tag": "registry.example.test/app:1", "private": True},
          "containers.pushImage", [{"tag": "registry.example.test/app:1", "private": True}],
          json_reply({"container_id": "c-push-1"})),
    plain("ts-containers-load", "containers.load", {"archive_path": "images/app.tar"},
          "containers.load", [{"archivePath": "images/app.tar"}],
          json_reply({"resolved_ref": "app:1", "refs": ["app:1", "app:latest"]}), result_keys="wire"),
    plain("ts-containers-load-image", "containers.load_image", {"mounts": ROOM_MOUNTS, "archive_path": "/src/app.tar"},
          "containers.loadImage", [{"mounts": ROOM_MOUNTS, "archivePath": "/src/app.tar"}],
          json_reply({"container_id": "c-load-1"})),
    plain("ts-containers-save-image", "containers.save_image",
          {"tag": "app:1", "mounts": ROOM_MOUNTS, "archive_path": "/src/app.tar"},
          "containers.saveImage", [{"tag": "app:1", "mounts": ROOM_MOUNTS, "archivePath": "/src/app.tar"}],
          json_reply({"container_id": "c-save-1"})),
    plain("ts-containers-run", "containers.run",
          {"image": "python:3.13", "command": "python -c 'print(1)'", "env": [{"key": "MODE", "value": "test"}],
           "ports": [{"container_port": 8080, "host_port": 18080}], "name": "runner"},
          "containers.run",
          [{"image": "python:3.13", "command": "python -c 'print(1)'", "env": {"MODE": "test"},
            "ports": {"8080": 18080}, "name": "runner"}],
          json_reply({"container_id": "c-run-1"})),
    plain("ts-containers-run-minimal", "containers.run", {"image": "alpine:3"},
          "containers.run", [{"image": "alpine:3"}], json_reply({"container_id": "c-run-2"})),
    plain("ts-containers-build", "containers.build",
          {"tag": "app:2", "mounts": ROOM_MOUNTS, "context_path": "/src", "dockerfile_path": "Dockerfile"},
          "containers.build",
          [{"tag": "app:2", "mounts": ROOM_MOUNTS, "contextPath": "/src", "dockerfilePath": "Dockerfile"}],
          json_reply({"build_id": "b-1"})),
    plain("ts-containers-start-build", "containers.start_build",
          {"tag": "app:3", "mounts": ROOM_MOUNTS, "context_path": "/src", "credentials": CREDENTIALS, "private": True},
          "containers.startBuild",
          [{"tag": "app:3", "mounts": ROOM_MOUNTS, "contextPath": "/src", "credentials": CREDENTIALS, "private": True}],
          json_reply({"build_id": "b-2"})),
    plain("ts-containers-list-builds", "containers.list_builds", {}, "containers.listBuilds", [],
          json_reply({"builds": [
              {"id": "b-1", "tag": "app:2", "status": "succeeded", "exit_code": 0},
              {"id": "b-2", "tag": "app:3", "status": "running", "exit_code": None},
          ]}),
          result_keys="wire"),
    plain("ts-containers-cancel-build", "containers.cancel_build", {"build_id": "b-2"},
          "containers.cancelBuild", [{"buildId": "b-2"}], EMPTY),
    plain("ts-containers-delete-build", "containers.delete_build", {"build_id": "b-1"},
          "containers.deleteBuild", [{"buildId": "b-1"}], EMPTY),
    plain("ts-containers-run-service", "containers.run_service",
          {"service_id": "svc-web", "env": [{"key": "LOG_LEVEL", "value": "debug"}]},
          "containers.runService", [{"serviceId": "svc-web", "env": {"LOG_LEVEL": "debug"}}],
          json_reply({"container_id": "c-svc-1"})),
    plain("ts-containers-stop-container", "containers.stop_container", {"container_id": "c-run-1"},
          "containers.stop", [{"containerId": "c-run-1"}], EMPTY),
    plain("ts-containers-stop-container-force", "containers.stop_container",
          {"container_id": "c-run-1", "force": True},
          "containers.stop", [{"containerId": "c-run-1", "force": True}], EMPTY),
    plain("ts-containers-wait-for-exit", "containers.wait_for_exit", {"container_id": "c-run-1"},
          "containers.waitForExit", [{"containerId": "c-run-1"}], json_reply({"exit_code": 0})),
    plain("ts-containers-wait-for-exit-error-not-found", "containers.wait_for_exit", {"container_id": "c-gone"},
          "containers.waitForExit", [{"containerId": "c-gone"}], error_reply("container not found", 6001)),
    plain("ts-containers-delete-container", "containers.delete_container", {"container_id": "c-run-1"},
          "containers.deleteContainer", [{"containerId": "c-run-1"}], EMPTY),
    plain("ts-containers-list-containers", "containers.list_containers", {}, "containers.list", [],
          json_reply({"containers": [{
              "id": "c-run-1",
              "image": "python:3.13",
              "name": "runner",
              "started_by": {"id": "p-local", "name": "alice"},
              "state": "RUNNING",
              "private": False,
              "service_id": None,
          }]}),
          result_keys="wire"),
    plain("ts-containers-list-containers-all", "containers.list_containers", {"all": True},
          "containers.list", [{"all": True}], json_reply({"containers": []})),
]

# --------------------------------------------------------------------------- streaming tools
# Same server scripts and payloads as record_python.py (stream_cases.py). ts/driver.mjs reads the
# outcome from the call's return value as `collect` says.

import stream_cases as streams  # noqa: E402

# Fixed uuid v4 draws for the containers exec/logs/get_build_logs request ids.
EXEC_REQUEST_ID = "5b1f0c9e-7a3d-4c2b-9e8f-0a1b2c3d4e5f"
LOGS_REQUEST_ID = "0f9e8d7c-6b5a-4938-8271-605f4e3d2c1b"


def _bytes(data: bytes) -> dict[str, str]:
    return {"$bytes": b64(data)}


def stream(
    id: str,
    method: str,
    arguments: dict[str, Any],
    ts_method: str,
    ts_args: list[Any],
    steps: list[Step],
    collect: str | None = None,
    **kw: Any,
) -> Scenario:
    return Scenario(id=id, method=method, arguments=arguments, call=(ts_method, ts_args), steps=steps,
                    collect=collect, **kw)


TS_PEOPLE_SCHEMA = {"id": {"$datatype": {"type": "int"}}, "name": {"$datatype": {"type": "text"}},
                    "score": {"$datatype": {"type": "float"}}}
TS_PEOPLE_FIELDS = [
    {"name": "id", "data_type": {"type": "int", "nullable": None, "metadata": None}},
    {"name": "name", "data_type": {"type": "text", "nullable": None, "metadata": None}},
    {"name": "score", "data_type": {"type": "float", "nullable": None, "metadata": None}},
]
SQL_QUERY = "SELECT p.id, p.name, p.score, p.active, p.joined, p.seen FROM people p WHERE p.score >= $min_score AND p.city = $city ORDER BY p.id"
SQL_PARAMS = {"min_score": 5, "city": "Zürich"}
SQL_TABLES = ["people", {"name": "orders", "namespace": ["shop", "eu"], "alias": "o"}]
SQL_TABLES_WIRE = [{"name": "people"}, {"name": "orders", "namespace": ["shop", "eu"], "alias": "o"}]
# No close_stdin in the TypeScript SDK: the last input is the (repeated, suppressed) resize.
EXEC_OPS = [
    {"stdin": b64(streams.EXEC_STDIN)},
    {"resize": {"width": 120, "height": 40}},
    {"resize": {"width": 120, "height": 40}},
]
EXEC_KILL_OPS = [{"stdin": b64(streams.EXEC_STDIN)}, {"kill": True}]
# The same MeshSchema as record_python.py's SYNC_SCHEMA, as JSON (MeshSchema.fromJson in the driver).
SYNC_SCHEMA_JSON = streams.SYNC_SCHEMA_JSON
# The TS MeshSchema.toJson() puts `$defs` second (same content).
SYNC_SCHEMA_WIRE = {k: SYNC_SCHEMA_JSON[k] for k in ["$root_tag_ref", "$defs", "type", "additionalProperties", "required", "properties"]}
assert SYNC_SCHEMA_WIRE == SYNC_SCHEMA_JSON
SYNC_OPS = [{"append_child": {"tag": "item", "attributes": {"text": "local: grüße ✓"}}}]
# Every uuid v4 the SDK draws in the sync case (document id, element `$id`s) is fixed.
SYNC_ELEMENT_IDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(1, 9)]

STREAMS: list[Scenario] = [
    # ---- storage.upload
    stream("ts-storage-upload-multi-chunk", "storage.upload", {"path": "docs/notes ✓.txt", "overwrite": True},
           "storage.upload", ["docs/notes ✓.txt", _bytes(streams.UPLOAD_TEXT), {"overwrite": True}],
           streams.upload_sized_steps(streams.UPLOAD_TEXT, streams.UPLOAD_PULL),
           input=[b64(streams.UPLOAD_TEXT)]),
    stream("ts-storage-upload-stream-unsized", "storage.upload",
           {"path": "media/clip.bin", "name": "clip (1).bin", "mime_type": "video/mp2t"},
           "storage.uploadStream",
           ["media/clip.bin", {"$async": [_bytes(p) for p in streams.UPLOAD_PARTS]},
            {"name": "clip (1).bin", "mimeType": "video/mp2t"}],
           streams.upload_unsized_steps(1),
           input=[b64(p) for p in streams.UPLOAD_PARTS]),
    stream("ts-storage-upload-error-chunk", "storage.upload", {"path": "docs/big.bin"},
           "storage.upload", ["docs/big.bin", _bytes(streams.UPLOAD_ERROR_DATA)],
           streams.upload_error_steps(), input=[b64(streams.UPLOAD_ERROR_DATA)]),
    # ---- storage.download
    stream("ts-storage-download-multi-chunk", "storage.download", {"path": "reports/rapport ✓.md"},
           "storage.download", ["reports/rapport ✓.md"],
           streams.download_steps("rapport ✓.md", "text/markdown", streams.DOWNLOAD_TEXT, streams.DOWNLOAD_PIECE),
           "file"),
    stream("ts-storage-download-empty", "storage.download", {"path": "docs/empty.txt"},
           "storage.download", ["docs/empty.txt"], streams.download_steps("empty.txt", "text/plain", b"", 1), "file"),
    stream("ts-storage-download-abnormal-close", "storage.download", {"path": "dumps/dump.bin"},
           "storage.download", ["dumps/dump.bin"],
           streams.download_abnormal_close_steps([streams.client_close()]), "file"),
    # ---- database writes
    stream("ts-database-create-table-with-data", "database.create_table",
           {"name": "people", "fields": TS_PEOPLE_FIELDS, "mode": "overwrite"},
           "database.createTableWithSchema",
           [{"name": "people", "schema": TS_PEOPLE_SCHEMA, "data": streams.PEOPLE_ROWS, "mode": "overwrite"}],
           streams.db_write_steps("create_table", 1), input=[streams.PEOPLE_ROWS]),
    stream("ts-database-create-table-open-error", "database.create_table", {"name": "people"},
           "database.createTableFromData", [{"name": "people", "data": streams.PEOPLE_ROWS[:1]}],
           streams.db_open_error_steps("create_table", client_closes=False), input=[streams.PEOPLE_ROWS[:1]],
           client_closes=False),
    stream("ts-database-insert-130-rows", "database.insert", {"table": "events"},
           "database.insert", [{"table": "events", "records": streams.EVENT_ROWS}],
           streams.db_write_steps("insert", 2), input=[streams.EVENT_ROWS]),
    stream("ts-database-insert-stream", "database.insert", {"table": "people", "namespace": ["team", "ops"]},
           "database.insertStream",
           [{"table": "people", "chunks": {"$async": [streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]]},
             "namespace": ["team", "ops"]}],
           streams.db_write_steps("insert", 2), input=[streams.PEOPLE_ROWS[:2], streams.PEOPLE_ROWS[2:]]),
    stream("ts-database-insert-error-chunk", "database.insert", {"table": "people"},
           "database.insert", [{"table": "people", "records": streams.PEOPLE_ROWS}],
           streams.db_write_error_steps("insert"), input=[streams.PEOPLE_ROWS]),
    stream("ts-database-merge", "database.merge", {"table": "people", "on": "id"},
           "database.merge", [{"table": "people", "on": "id", "records": streams.MERGE_ROWS}],
           streams.db_write_steps("merge", 1), input=[streams.MERGE_ROWS]),
    stream("ts-database-merge-error-chunk", "database.merge", {"table": "people", "on": "id"},
           "database.merge", [{"table": "people", "on": "id", "records": streams.MERGE_ROWS}],
           streams.db_write_error_steps("merge"), input=[streams.MERGE_ROWS]),
    # ---- database reads (the *Stream variants: one result entry per rows chunk)
    stream("ts-database-sql-stream", "database.sql",
           {"query": SQL_QUERY, "tables": SQL_TABLES_WIRE, "params_json": js_json(SQL_PARAMS)},
           "database.sqlStream", [{"query": SQL_QUERY, "tables": SQL_TABLES, "params": SQL_PARAMS}],
           streams.db_read_steps("sql", streams.SQL_CHUNKS), "iterate"),
    stream("ts-database-sql-error-chunk", "database.sql",
           {"query": "SELECT FROM people", "tables": SQL_TABLES_WIRE[:1]},
           "database.sqlStream", [{"query": "SELECT FROM people", "tables": ["people"]}],
           streams.db_read_error_steps("sql"), "iterate"),
    stream("ts-database-search-stream", "database.search",
           {"table": "docs", "text": "héllo", "where": "lang = 'de'", "limit": 10,
            "select": ["id", "text", "blob", "tags", "meta"]},
           "database.searchStream",
           [{"table": "docs", "text": "héllo", "where": "lang = 'de'", "limit": 10,
             "select": ["id", "text", "blob", "tags", "meta"]}],
           streams.db_read_steps("search", streams.SEARCH_CHUNKS), "iterate"),
    stream("ts-database-search-open-error", "database.search", {"table": "people", "vector": [0.25, -1.5, 3]},
           "database.searchStream", [{"table": "people", "vector": [0.25, -1.5, 3.0]}],
           streams.db_open_error_steps("search", client_closes=False), "iterate", client_closes=False),
    # ---- developer.logs
    stream("ts-developer-logs", "developer.logs", {}, "developer.logs", [],
           streams.developer_logs_steps(), "log_events"),
    stream("ts-developer-logs-error-chunk", "developer.logs", {}, "developer.logs", [],
           streams.developer_logs_error_steps(), "log_events"),
    # ---- containers.logs / get_build_logs
    stream("ts-containers-logs", "containers.logs", {"container_id": "c-1234", "follow": True},
           "containers.logs", [{"containerId": "c-1234", "follow": True}],
           streams.container_logs_steps(), "log_stream", uuids=[LOGS_REQUEST_ID]),
    stream("ts-containers-logs-error-chunk", "containers.logs", {"container_id": "c-missing"},
           "containers.logs", [{"containerId": "c-missing"}],
           streams.container_logs_error_steps(), "log_stream", uuids=[LOGS_REQUEST_ID]),
    stream("ts-containers-get-build-logs", "containers.get_build_logs", {"build_id": "b-42"},
           "containers.getBuildLogs", [{"buildId": "b-42"}],
           streams.build_logs_steps(0), "log_stream", uuids=[LOGS_REQUEST_ID]),
    stream("ts-containers-get-build-logs-no-status", "containers.get_build_logs", {"build_id": "b-43", "follow": False},
           "containers.getBuildLogs", [{"buildId": "b-43", "follow": False}],
           streams.build_logs_steps(None), "log_stream", uuids=[LOGS_REQUEST_ID]),
    # ---- containers.exec
    stream("ts-containers-exec", "containers.exec",
           {"container_id": "c-1234", "command": "sh -c cat", "tty": True},
           "containers.exec", [{"containerId": "c-1234", "command": "sh -c cat", "tty": True}],
           streams.exec_steps(EXEC_OPS, 0), "exec", input=EXEC_OPS, ops=EXEC_OPS, uuids=[EXEC_REQUEST_ID]),
    stream("ts-containers-exec-kill", "containers.exec", {"container_id": "c-1234", "command": "sleep 100"},
           "containers.exec", [{"containerId": "c-1234", "command": "sleep 100"}],
           streams.exec_steps(EXEC_KILL_OPS, 137), "exec", input=EXEC_KILL_OPS, ops=EXEC_KILL_OPS,
           uuids=[EXEC_REQUEST_ID]),
    stream("ts-containers-exec-error-chunk", "containers.exec", {"container_id": "c-1234", "command": "true"},
           "containers.exec", [{"containerId": "c-1234", "command": "true"}],
           streams.exec_error_steps(), "exec", input=[], ops=[], uuids=[EXEC_REQUEST_ID]),
    # ---- sync.open
    stream("ts-sync-open", "sync.open", {"path": streams.SYNC_WIRE_PATH, "schema": SYNC_SCHEMA_WIRE},
           "sync.open", [streams.SYNC_PATH, {"schema": SYNC_SCHEMA_JSON}],
           streams.sync_steps(SYNC_SCHEMA_JSON, streams.sync_remote_update(), 1), "sync",
           input=SYNC_OPS, ops=SYNC_OPS, uuids=SYNC_ELEMENT_IDS, seed_random=True, sync_children=2),
]


# ---- server pushes: the same pushes as record_python.py's event cases (ids "ts-…" there "py-…"),
# delivered to the TS application callbacks (see ts/driver.mjs setupEvents).
REMOTE_BOB = {"id": "p-remote", "role": "agent", "attributes": {"name": "bob", "status": "idle"}}
REMOTE_ZOE = {"id": "p-user", "role": "user", "attributes": {"name": "Zoë 🌟", "tags": ["a", "b"]}}

MESSAGING_PUSHES = [
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "server",
            "type": "messaging.enabled",
            "message": {"participants": [REMOTE_BOB, REMOTE_ZOE]},
        },
    ),
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "server",
            "type": "participant.enabled",
            "message": {"id": "p-new", "role": "tool", "attributes": {"name": "Ünïcode ✓", "empty": ""}},
        },
    ),
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "p-remote",
            "type": "participant.attributes",
            "message": {"attributes": {"status": "busy", "progress": 0.75}},
        },
    ),
    Push(
        type="messaging.send",
        header={"from_participant_id": "server", "type": "participant.disabled", "message": {"id": "p-new"}},
    ),
    Push(
        type="messaging.send",
        header={
            "from_participant_id": "p-remote",
            "type": "chat",
            "message": {"text": "here is the file ✓", "name": "report.bin"},
        },
        tail=b"\x00\x01\x02\xfe\xffattachment bytes",
    ),
    Push(
        type="messaging.send",
        header={"from_participant_id": "p-user", "type": "", "message": {}},
    ),
]
# TS fires the specific callback and then `message` for each of the 4 system pushes, `message`
# alone for the 2 others.
MESSAGING_EVENTS = 4 * 2 + 2

OAUTH_PUSH = Push(
    type="secrets.request_oauth_token",
    header={
        "request_id": "req-oauth-1",
        "request": {
            "connector": None,
            "oauth": {
                "client_id": "client-123",
                "client_secret": None,
                "authorization_endpoint": "https://auth.example.test/authorize",
                "token_endpoint": "https://auth.example.test/token",
                "no_pkce": False,
                "scopes": ["read", "write ✓"],
            },
            "redirect_uri": "https://app.example.test/oauth/callback",
            "participant_id": "p-local",
            "timeout": 300,
            "delegate_to": None,
        },
        "challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    },
)
SECRET_PUSH = Push(
    type="secrets.request_secret",
    header={
        "request_id": "req-secret-1",
        "request": {
            "url": "https://api.example.test",
            "type": "application/x-api-key",
            "participant_id": "p-local",
            "timeout": 120,
            "delegate_to": "p-agent",
        },
    },
)


def events_case(id: str, pushes: list[Push], setup: list[str], count: int, **kw: Any) -> Scenario:
    return Scenario(id=id, method="events", arguments={}, pushes=pushes, events_setup=setup,
                    expect_events=count, **kw)


EVENTS: list[Scenario] = [
    # messaging.send pushes after messaging.enable: the callbacks and the participant list.
    Scenario(
        id="ts-messaging-enable-events",
        method="messaging.enable",
        arguments={},
        call=("messaging.enable", []),
        replies=[EMPTY],
        then=MESSAGING_PUSHES,
        events_setup=["messaging"],
        expect_events=MESSAGING_EVENTS,
    ),
    # The same pushes without an enable call (the SDK handles messaging.send regardless).
    events_case("ts-messaging-events", MESSAGING_PUSHES, ["messaging"], MESSAGING_EVENTS),
    # participant.attributes / participant.disabled for a participant the SDK does not know fire
    # no specific callback, but `message` still fires for each of the 3 pushes.
    events_case(
        "ts-messaging-events-unknown-participant",
        [
            Push(
                type="messaging.send",
                header={
                    "from_participant_id": "p-ghost",
                    "type": "participant.attributes",
                    "message": {"attributes": {"status": "busy"}},
                },
            ),
            Push(
                type="messaging.send",
                header={"from_participant_id": "server", "type": "participant.disabled", "message": {"id": "p-ghost"}},
            ),
            Push(
                type="messaging.send",
                header={"from_participant_id": "p-ghost", "type": "chat", "message": {"text": "boo 👻"}},
            ),
        ],
        ["messaging"],
        3,
    ),
    events_case(
        "ts-developer-log-events",
        [
            Push(
                type="developer.log",
                header={"type": "custom", "data": {"hello": "wörld", "n": 2, "nested": {"ok": True}}},
            ),
            # type and data missing: TS passes them on as undefined (Python fills in "unknown", {})
            Push(type="developer.log", header={}),
        ],
        ["developer"],
        2,
    ),
    # room.status is handled by the SyncClient: room.sync.on("status") gets {type: "status", status}.
    events_case(
        "ts-room-status-events",
        [
            Push(type="room.status", header={"status": "running"}),
            Push(type="room.status", header={"status": "paused ⏸", "reason": "", "since": 1717171717.5}),
        ],
        ["status"],
        2,
    ),
    # Server -> client requests: RoomClient gives its SecretsClient no handlers; the application
    # constructs its own SecretsClient with them (it replaces the protocol handlers).
    events_case("ts-secrets-request-oauth-token-events", [OAUTH_PUSH], ["secrets"], 1),
    events_case("ts-secrets-request-secret-events", [SECRET_PUSH], ["secrets"], 1),
    # A stock RoomClient: the SDK's handler throws "No … handler registered", which nothing
    # catches (an unhandled promise rejection: it ends a Node process that has no
    # unhandledRejection listener; the driver has one). Nothing is delivered or sent back.
    events_case("ts-secrets-request-oauth-token-events-no-handler", [OAUTH_PUSH], [], 0,
                expect_unhandled=["No oauth token handler registered"]),
    events_case("ts-secrets-request-secret-events-no-handler", [SECRET_PUSH], [], 0,
                expect_unhandled=["No secret handler registered"]),
]


SCENARIOS: list[Scenario] = [
    *STORAGE_QUEUES, *CORE, *DATABASE, *MEMORY, *SECRETS, *CONTAINERS, *STREAMS, *EVENTS
]


# --------------------------------------------------------------------------- running


@dataclass
class Recording:
    scenario: Scenario
    frames: list[Frame]
    outcome: dict[str, Any]
    connect: dict[str, Any]


def node_binary() -> str:
    return os.environ.get("NODE", "node")


async def run_scenario(sc: Scenario, workdir: Path) -> Recording:
    server = FakeRoom(script=sc.script(), pushes=sc.pushes, room_name=ROOM_NAME)
    port = await server.start()
    result_path = workdir / f"{sc.id}.json"
    if result_path.exists():
        result_path.unlink()
    spec = {
        "url": f"ws://127.0.0.1:{port}/rooms/{ROOM_NAME}",
        "token": TOKEN,
        "result_path": str(result_path),
        "call": list(sc.call) if sc.call is not None else None,
        "listen": [list(x) for x in sc.listen],
        "wait_participant": sc.wait_participant,
        "result_keys": sc.result_keys,
        "events_setup": sc.events_setup,
        "expect_events": sc.expect_events,
        "expect_unhandled": sc.expect_unhandled,
    }
    if sc.steps is not None:
        spec.update(
            collect=sc.collect, ops=sc.ops, uuids=sc.uuids, wait_requests="close" if sc.client_closes else "pending",
            seed_random=sc.seed_random, sync_children=sc.sync_children,
            sync_path=sc.call[1][0] if sc.collect == "sync" else None,
        )
    stdout = stderr = b""
    try:
        proc = await asyncio.create_subprocess_exec(
            node_binary(),
            "driver.mjs",
            json.dumps(spec, ensure_ascii=False),
            cwd=TS_DIR,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,  # the SDK's "GOT RESPONSE ..." noise; discarded
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(proc.communicate(), PROCESS_TIMEOUT)
        except asyncio.TimeoutError:
            proc.kill()
            stdout, stderr = await proc.communicate()
            raise RuntimeError(f"node driver timed out; stderr: {stderr.decode(errors='replace')}")
        if server.connect is not None:
            await asyncio.wait_for(server.closed.wait(), PROCESS_TIMEOUT)
    finally:
        await server.stop()

    problems = list(server.errors)
    report: dict[str, Any] | None = None
    if result_path.exists():
        report = json.loads(result_path.read_text(encoding="utf-8"))
    if proc.returncode != 0:
        problems.append(f"node exited with {proc.returncode}")
    if report is None:
        problems.append("the driver wrote no result")
    elif "failure" in report:
        problems.append(f"driver: {report['failure']}")
    if server.unused_steps:
        problems.append(f"script steps never requested: {[s.expect for s in server.unused_steps]}")
    if server.connect is None:
        problems.append("the SDK never connected")
    frames = [f for f in server.frames if not f.handshake]
    if not problems:
        problems.extend(check_arguments(sc, frames))
    if problems:
        detail = ""
        if stderr.strip():
            detail += f"\n  node stderr: {stderr.decode(errors='replace').strip()}"
        if stdout.strip():
            detail += f"\n  node stdout: {stdout.decode(errors='replace').strip()[:2000]}"
        raise RuntimeError(f"{sc.id}: " + "; ".join(problems) + detail)

    assert report is not None and server.connect is not None
    return Recording(scenario=sc, frames=frames, outcome=report["outcome"], connect=server.connect)


def check_arguments(sc: Scenario, frames: list[Frame]) -> list[str]:
    """The recorded `arguments` must match what the SDK actually sent (guards typos in `call`)."""
    if sc.method == "events":
        return []
    expect = sc.expect()
    requests = [
        f for f in frames if f.dir == "send" and f.type == expect["type"]
        and all(f.header.get(k) == v for k, v in expect.items() if k != "type")
    ]
    if not requests:
        return [f"no {expect} request was sent"]
    header = requests[0].header
    tail_b64 = base64.b64encode(requests[0].tail).decode("ascii")
    content = header.get("arguments")
    if not isinstance(content, dict):
        content = {}
    if content == {"type": "control", "method": "open"}:
        # A streaming tool: the input travels in the first request chunk (the start chunk).
        chunks = [f for f in frames if f.dir == "send" and f.type == "room.tool_call_request_chunk"]
        if not chunks:
            return [] if not sc.arguments else ["no start chunk was sent"]
        tail_b64 = base64.b64encode(chunks[0].tail).decode("ascii")
        content = chunks[0].header.get("chunk", {})
        requests = chunks
    # `data` stands for the tail when the input is a file/binary Content; otherwise it is an
    # ordinary wire field (e.g. developer.log's `data`).
    data_is_tail = content.get("type") in ("file", "binary")
    if sc.method.startswith("agents."):
        sent = header
    elif content.get("type") == "json":
        sent = content.get("json", {})
    elif content.get("type") == "binary":
        sent = content.get("headers", {})
    else:
        sent = {}
    problems = []
    if requests[0].tail and not (data_is_tail and "data" in sc.arguments):
        problems.append("the request has a tail but the arguments have no `data`")
    for key, value in sc.arguments.items():
        if key == "data" and data_is_tail:
            if value != tail_b64:
                problems.append(f"argument data: tail {tail_b64!r}, recorded {value!r}")
        elif key not in sent:
            problems.append(f"argument {key!r} not sent")
        elif json.dumps(sent[key], ensure_ascii=False) != json.dumps(value, ensure_ascii=False):
            problems.append(f"argument {key!r}: sent {sent[key]!r}, recorded {value!r}")
    return problems


# --------------------------------------------------------------------------- YAML output
# Same layout as record_python.py (format 1).


class _Flow(dict):
    """A mapping emitted in YAML flow style ({...}); everything inside it is flow style too."""


class _FlowList(list):
    """A sequence emitted in YAML flow style ([...])."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    # Strings with line breaks are written double-quoted with "\n" escapes, so that every frame
    # and every outcome item stays on one line (as in record_python.py).
    if "\n" in data or "\r" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    return dumper.represent_str(data)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=True)
)
_Dumper.add_representer(
    _FlowList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True)
)


def _dump(value: Any) -> str:
    return yaml.dump(
        value,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=1 << 30,
        default_flow_style=False,
    )


def _flow(value: Any) -> Any:
    if isinstance(value, dict):
        return _Flow(value)
    if isinstance(value, list):
        return _FlowList(value)
    return value


def _wire_comment(frame: Frame) -> str:
    data_packets = frame.packets[1:]
    return (
        f"  # wire: header packet {frame.packets[0]} B + {len(data_packets)} data packet(s)"
        f" {data_packets} B\n"
    )


def _sdk() -> dict[str, Any]:
    return {"name": SDK_NAME, "language": "typescript", "version": SDK_VERSION}


def _frame_dict(f: Frame) -> dict[str, Any]:
    return {
        "dir": f.dir,
        "id": f.id,
        "type": f.type,
        "header": f.header,
        "tail": base64.b64encode(f.tail).decode("ascii"),
    }


def _render_input(items: list[Any]) -> str:
    """`input:` with one line per item (every item in flow style)."""
    if not items:
        return "input: []\n"
    lines = _dump([_flow(item) for item in items])
    return "input:\n" + "".join("  " + line + "\n" for line in lines.splitlines())


def render_case(rec: Recording) -> str:
    sc = rec.scenario
    head = {
        "format": 1,
        "id": sc.id,
        "sdk": _Flow(_sdk()),
        "method": sc.method,
        "arguments": _Flow(sc.arguments),
    }
    out = [_dump(head)]
    if sc.input is not None:
        out.append(_render_input(sc.input))
    out.append("frames:\n")
    for f in rec.frames:
        out.append(_wire_comment(f))
        out.append("  - " + _dump(_Flow(_frame_dict(f))))
    (key, value), = rec.outcome.items()
    if key == "events" and not value:
        outcome_text = "outcome:\n  events: []\n"
    elif key == "events":
        outcome_text = "outcome:\n  events:\n" + "".join("    - " + _dump(_Flow(e)) for e in value)
    else:
        outcome_text = "outcome:\n  " + _dump({key: _flow(value)})
    out.append(outcome_text)
    return "".join(out)


def case_document(rec: Recording) -> dict[str, Any]:
    sc = rec.scenario
    return {
        "format": 1,
        "id": sc.id,
        "sdk": _sdk(),
        "method": sc.method,
        "arguments": sc.arguments,
        **({"input": sc.input} if sc.input is not None else {}),
        "frames": [_frame_dict(f) for f in rec.frames],
        "outcome": rec.outcome,
    }


def check_round_trip(text: str, expected: dict[str, Any]) -> None:
    """The YAML must load back to exactly the recorded data, key order and number types included."""
    loaded = yaml.safe_load(text)
    a = json.dumps(loaded, ensure_ascii=False)
    b = json.dumps(expected, ensure_ascii=False)
    if a != b:
        raise RuntimeError(f"YAML round trip differs:\n  loaded:   {a}\n  recorded: {b}")


def render_connect(connect: dict[str, Any]) -> str:
    doc = {
        "format": 1,
        "sdk": _Flow(_sdk()),
        "path": connect["path"],
        "query": _Flow({k: v for k, v in connect["query"]}),
        "query_string": connect["query_string"],
    }
    return (
        "# The websocket URL the SDK connected to (ws://127.0.0.1:PORT/rooms/test-room given, token set).\n"
        + _dump(doc)
    )


def installed_sdk_version() -> str | None:
    pkg = TS_DIR / "node_modules" / "@meshagent" / "meshagent" / "package.json"
    if not pkg.exists():
        return None
    return json.loads(pkg.read_text(encoding="utf-8")).get("version")


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=HERE.parent / "cases" / "typescript")
    parser.add_argument("--only", action="append", default=[], help="record only these case ids")
    parser.add_argument(
        "--jobs", type=int, default=4, help="scenarios run at once (each has its own fake room and node process)"
    )
    args = parser.parse_args()

    version = installed_sdk_version()
    if version != SDK_VERSION:
        print(
            f"{SDK_NAME} {version or '(not installed)'} in {TS_DIR}/node_modules, {SDK_VERSION} required"
            " (run `npm ci` there)",
            file=sys.stderr,
        )
        return 2

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    ids = [s.id for s in SCENARIOS]
    assert len(ids) == len(set(ids)), "duplicate case id"
    unknown = [i for i in args.only if i not in ids]
    if unknown:
        print(f"unknown case id(s): {unknown}", file=sys.stderr)
        return 2

    selected = [s for s in SCENARIOS if not args.only or s.id in args.only]
    connect: dict[str, Any] | None = None
    written: set[str] = set()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="record-ts-") as tmp:
        limit = asyncio.Semaphore(max(1, args.jobs))

        async def guarded(sc: Scenario) -> Recording | Exception:
            async with limit:
                try:
                    return await run_scenario(sc, Path(tmp))
                except Exception as ex:  # noqa: BLE001 - reported below, in scenario order
                    return ex

        results = await asyncio.gather(*(guarded(sc) for sc in selected))

    for sc, rec in zip(selected, results):
        if isinstance(rec, Exception):
            failures += 1
            print(f"FAIL {sc.id}: {type(rec).__name__}: {rec}", file=sys.stderr)
            continue
        if connect is None:
            connect = rec.connect
        elif connect != rec.connect:
            print(f"FAIL {sc.id}: connect URL differs between scenarios", file=sys.stderr)
            failures += 1
        name = f"{sc.id}.yaml"
        text = render_case(rec)
        try:
            check_round_trip(text, case_document(rec))
        except RuntimeError as ex:
            failures += 1
            print(f"FAIL {sc.id}: {ex}", file=sys.stderr)
            continue
        (out / name).write_text(text, encoding="utf-8")
        written.add(name)
        print(f"ok   {sc.id}  ({len(rec.frames)} frames, outcome: {next(iter(rec.outcome))})")

    if connect is not None:
        (out / "_connect.yaml").write_text(render_connect(connect), encoding="utf-8")

    if not args.only and failures == 0:
        for stale in sorted(out.glob("ts-*.yaml")):
            if stale.name not in written:
                print(f"removing stale {stale.name}")
                stale.unlink()

    print(f"{len(written)} case(s) written to {out}, {failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
