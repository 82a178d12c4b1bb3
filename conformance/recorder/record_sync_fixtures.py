"""Re-records the Yjs interop fixtures of the Rust `SyncDocument` (yrs):
generated-sdk/tests/fixtures/sync/*.json, checked by generated-sdk/tests/sync_doc.rs.

NOTE: documented, not run in CI. It needs what `record.sh` sets up for the other recordings:
the venv (`meshagent-api==0.35.8`, which brings pycrdt), Node 20+ with `ts/node_modules`
(`npm ci` in `ts/`: `@meshagent/meshagent@0.35.8`, which brings yjs), and cargo:

    conformance/recorder/.venv/bin/python conformance/recorder/record_sync_fixtures.py

It writes three files; re-running gives identical files (every id is fixed: `$id`s from a
counter, pycrdt client ids, the TypeScript SDK's randomness seeded, yrs client id 4242):

* `sdk_updates.json`: the Yjs v1 updates the SDKs' own document layers emit (Python SDK
  `MeshDocument` on pycrdt; TypeScript SDK `MeshDocument` on its bundled Yjs) for one thread-like
  document (elements with string/number/boolean/null attributes, a deletion, text with non-ASCII
  and astral characters and a bold range), with the content pycrdt and Yjs read from them.
  yrs must read the same content.
* `yrs_readback.json`: the sync tails our `SyncDocument` sends for the same edits, taken from
  `cargo test --test sync_doc local_edits` run with `MESHAGENT_SYNC_FIXTURE_PRINT=1`, and what
  pycrdt, Yjs, the Python SDK's and the TypeScript SDK's document layers read back from them;
  `accepted` is true when every reader sees exactly yrs's content. The Rust test checks that yrs
  still produces these exact bytes.
* `python_open.json`: one `room.sync.open(...)` session of the Python SDK against a scripted room
  (a `fake_room.FakeRoom` that speaks the sync stream): the start chunk, the state the server
  sent (the TypeScript SDK's document, encoded by Yjs), Python's echo of it, its local edit, a
  remote update and Python's echo of it, and the close handshake.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import logging
import os
import subprocess
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

import pycrdt
from meshagent.api import RoomClient, WebSocketClientProtocol, crdt, schema_document
from meshagent.api.room_server_client import MeshDocument
from meshagent.api.runtime import runtime
from meshagent.api.schema import ChildProperty, ElementType, MeshSchema, ValueProperty

from fake_room import NO_REPLY_TYPES, FakeRoom, Frame, unpack

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
OUT = REPO / "generated-sdk" / "tests" / "fixtures" / "sync"
TS = HERE / "ts"
TOKEN = "test-token"
PATH = "/docs/a.thread"
TIMEOUT = 10

SCHEMA = MeshSchema(
    root_tag_name="thread",
    elements=[
        ElementType(
            tag_name="thread",
            properties=[
                ValueProperty(name="name", type="string"),
                ChildProperty(name="properties", child_tag_names=["members", "messages"]),
            ],
        ),
        ElementType(tag_name="members", properties=[ChildProperty(name="items", child_tag_names=["member"])]),
        ElementType(
            tag_name="member",
            properties=[ValueProperty(name="name", type="string"), ValueProperty(name="type", type="string")],
        ),
        ElementType(tag_name="messages", properties=[ChildProperty(name="items", child_tag_names=["message"])]),
        ElementType(
            tag_name="message",
            properties=[
                ValueProperty(name="id", type="string"),
                ValueProperty(name="author_name", type="string"),
                ValueProperty(name="created_at", type="string"),
                ValueProperty(name="tokens", type="number"),
                ValueProperty(name="score", type="number"),
                ValueProperty(name="final", type="boolean"),
                ValueProperty(name="note", type="null"),
                ChildProperty(name="content", child_tag_names=["text"]),
            ],
        ),
        ElementType(tag_name="text", properties=[]),
    ],
)
SCHEMA_JSON = SCHEMA.to_json()
TEXT = "héllo wörld 👋 bye!!"
MESSAGE = {
    "id": "m1",
    "author_name": "alice",
    "created_at": "2024-01-02T03:04:05Z",
    "tokens": 42,
    "score": 1.5,
    "final": True,
    "note": None,
}


# --------------------------------------------------------------------------- canonical content


def norm(v: Any) -> Any:
    """Integral floats as ints (pycrdt reads Yjs integers back as floats)."""
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, dict):
        return {k: norm(x) for k, x in sorted(v.items())}
    if isinstance(v, list):
        return [norm(x) for x in v]
    return v


def canon_pycrdt(node: Any) -> dict:
    if isinstance(node, pycrdt.XmlElement):
        return {
            "element": node.tag,
            "attributes": norm(dict(list(node.attributes))),
            "children": [canon_pycrdt(c) for c in node.children],
        }
    if isinstance(node, pycrdt.XmlText):
        return {"text": [{"insert": i, "attributes": norm(a or {})} for i, a in node.diff()]}
    raise TypeError(type(node))


def pycrdt_content(doc: pycrdt.Doc) -> list:
    return [canon_pycrdt(c) for c in doc["xml"].children]


def pycrdt_read(updates: list[str]) -> list:
    doc = pycrdt.Doc()
    doc["xml"] = pycrdt.XmlFragment()
    for u in updates:
        doc.apply_update(base64.b64decode(u))
    return pycrdt_content(doc)


def canon_python_sdk(node: Any) -> dict:
    if isinstance(node, schema_document.Element):
        return {
            "element": node.tag_name,
            "attributes": norm(dict(node._data["attributes"])),
            "children": [canon_python_sdk(c) for c in node.get_children()],
        }
    return {"text": [{"insert": d["insert"], "attributes": norm(d.get("attributes") or {})} for d in node.delta]}


def python_sdk_read(updates: list[str]) -> tuple[list, list | dict]:
    """The Python SDK applying the updates as remote changes: the content of its pycrdt document
    and of its JSON mirror (`doc.root`), or the mirror's error.

    The mirror of meshagent-api 0.35.8 raises (IndexError in `receive_changes`) on remote text
    deletions whoever made them; pycrdt has applied the update by then.
    """
    doc = runtime.new_document(schema=SCHEMA, factory=MeshDocument)
    errors = []
    try:
        for u in updates:
            try:
                runtime.apply_backend_changes(doc.id, u)
            except Exception as ex:  # noqa: BLE001 - recorded
                inner = ex.exceptions[0] if isinstance(ex, BaseExceptionGroup) else ex
                errors.append(f"{type(inner).__name__}: {inner}")
        crdt_content = pycrdt_content(crdt.Documents[doc.id].doc)
        if errors:
            return crdt_content, {"error": errors[0]}
        return crdt_content, [canon_python_sdk(c) for c in doc.root.get_children()]
    finally:
        runtime._unregister_document(doc)


class fixed_ids:
    """Deterministic `$id`s and pycrdt client ids inside the Python SDK."""

    def __init__(self, client_id: int, first_id: int = 1) -> None:
        self.client_id = client_id
        self.ids = (f"00000000-0000-4000-8000-{i:012d}" for i in itertools.count(first_id))

    def __enter__(self) -> None:
        # schema_document's own `uuid` name only: the SDK draws tool_call_ids from uuid too.
        self.saved = (schema_document.uuid, crdt.Doc)
        schema_document.uuid = types.SimpleNamespace(uuid4=lambda: next(self.ids))
        crdt.Doc = lambda: pycrdt.Doc(client_id=self.client_id)

    def __exit__(self, *exc: object) -> None:
        schema_document.uuid, crdt.Doc = self.saved


# --------------------------------------------------------------------------- Python SDK updates


def python_sdk_updates() -> dict:
    """The fixture edits through the Python SDK's document API; one update per transaction."""
    updates: list[str] = []
    with fixed_ids(client_id=1111):
        doc = runtime.new_document(schema=SCHEMA, on_document_sync=updates.append, factory=MeshDocument)
        members = doc.root.append_child("members")
        members.append_child("member", {"name": "alice", "type": "user"})
        members.append_child("member", {"name": "bob", "type": "agent"}).delete()
        messages = doc.root.append_child("messages")
        message = messages.append_child("message", dict(MESSAGE))
        text = message.append_child("text").get_children()[0]
        text.insert(0, TEXT)
        # Text.delete is skipped: the SDK's own text mirror raises on it (IndexError in
        # receive_changes) in 0.35.8. Its format offsets are UTF-8 bytes (pycrdt), not UTF-16.
        text.format(6, 5, {"bold": True})
        message["final"] = False
        content = pycrdt_content(crdt.Documents[doc.id].doc)
        runtime._unregister_document(doc)
    return {"sdk": "meshagent-api 0.35.8 (pycrdt %s)" % pycrdt_version(), "updates": updates, "content": content}


def pycrdt_version() -> str:
    from importlib.metadata import version

    return version("pycrdt")


# --------------------------------------------------------------------------- TypeScript / Yjs

NODE_HELPER = r"""
// Seeded randomness before the SDK loads: its bundled Yjs draws client ids from the global
// WebCrypto (in `node -e`, a bare `crypto` is the node:crypto module, hence globalThis).
let seed = 7;
const realCrypto = globalThis.crypto;
Object.defineProperty(globalThis, "crypto", {
  configurable: true,
  value: {
    subtle: realCrypto.subtle,
    randomUUID: () => realCrypto.randomUUID(),
    getRandomValues: (arr) => {
      for (let i = 0; i < arr.length; i++) { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; arr[i] = seed; }
      return arr;
    },
  },
});
const fs = require("fs");
const [cmd, inPath, outPath] = process.argv.slice(1);
const input = JSON.parse(fs.readFileSync(inPath, "utf8"));
const sdk = require("@meshagent/meshagent");
// Not exported by the package: loaded by file, next to its entry point (dist/node/).
const runtime = require(require("path").join(require("path").dirname(require.resolve("@meshagent/meshagent")), "runtime.js"));
const Y = require("yjs");
const sorted = (o) => Object.fromEntries(Object.keys(o || {}).sort().map((k) => [k, o[k]]));
function canonY(node) {
  if (node instanceof Y.XmlElement) {
    return { element: node.nodeName, attributes: sorted(node.getAttributes()), children: node.toArray().map(canonY) };
  }
  if (node instanceof Y.XmlText) {
    return { text: node.toDelta().map((d) => ({ insert: d.insert, attributes: sorted(d.attributes) })) };
  }
  throw new Error("unknown node");
}
function canonSdk(node) {
  if (node instanceof sdk.Element) {
    return { element: node.tagName, attributes: sorted(node.attributes), children: node.getChildren().map(canonSdk) };
  }
  return { text: node.delta.map((d) => ({ insert: d.insert, attributes: sorted(d.attributes) })) };
}
function yjsRead(updates) {
  const y = new Y.Doc();
  for (const u of updates) Y.applyUpdate(y, Buffer.from(u, "base64"));
  return y;
}
const schema = () => sdk.MeshSchema.fromJson(input.schema);
let out;
if (cmd === "ts_updates") {
  const updates = [];
  const doc = new sdk.MeshDocument({ schema: schema(), sendChangesToBackend: (b) => updates.push(b) });
  let n = 0;
  const id = () => ({ id: `00000000-0000-4000-8000-${String(++n).padStart(12, "0")}` });
  const members = doc.root.createChildElement("members", {}, id());
  members.createChildElement("member", { name: "alice", type: "user" }, id());
  members.createChildElement("member", { name: "bob", type: "agent" }, id()).delete();
  const messages = doc.root.createChildElement("messages", {}, id());
  const m = messages.createChildElement("message", input.message, id());
  const text = m.createChildElement("text", {}, id()).getChildren()[0];
  text.insert(0, input.text);
  text.delete(input.text.length - 2, 2);
  text.format(6, 5, { bold: true });
  m.setAttribute("final", false);
  const y = yjsRead(updates);
  out = {
    updates,
    content: y.getXmlFragment("xml").toArray().map(canonY),
    state: Buffer.from(Y.encodeStateAsUpdate(y)).toString("base64"),
  };
} else if (cmd === "read") {
  const y = yjsRead(input.updates);
  const doc = new sdk.MeshDocument({ schema: schema(), sendChangesToBackend: () => {} });
  for (const u of input.updates) runtime.applyBackendChanges(doc.id, u);
  out = {
    yjs: y.getXmlFragment("xml").toArray().map(canonY),
    typescript_sdk: doc.root.getChildren().map(canonSdk),
  };
} else if (cmd === "yjs_same_edits") {
  // The yrs fixture edits (generated-sdk/tests/sync_doc.rs make_fixture_edits) made with Yjs:
  // same client id, same transactions, same order.
  const y = new Y.Doc();
  y.clientID = input.client_id;
  const updates = [];
  y.on("update", (u) => updates.push(Buffer.from(u).toString("base64")));
  const root = y.getXmlFragment("xml");
  const el = (parent, tag, attrs) => {
    const e = new Y.XmlElement(tag);
    parent.push([e]);
    for (const [k, v] of attrs) e.setAttribute(k, v);
    return e;
  };
  let m, xt;
  y.transact(() => {
    const members = el(root, "members", [["$id", "00000000-0000-4000-8000-000000000001"]]);
    el(members, "member", [["$id", "00000000-0000-4000-8000-000000000002"], ["name", "alice"], ["type", "user"]]);
    const messages = el(root, "messages", [["$id", "00000000-0000-4000-8000-000000000004"]]);
    m = el(messages, "message", [["$id", "00000000-0000-4000-8000-000000000005"], ...Object.entries(input.message)]);
    const t = el(m, "text", [["$id", "00000000-0000-4000-8000-000000000006"]]);
    xt = new Y.XmlText();
    t.push([xt]);
    xt.insert(0, input.text);
  });
  y.transact(() => {
    xt.delete(input.text.length - 2, 2);
    xt.format(input.text.indexOf("wörld"), 5, { bold: true });
    m.setAttribute("final", false);
  });
  out = { updates };
} else if (cmd === "remote_update") {
  // Another participant (Yjs, client 777) adds a member to the shared state.
  const y = yjsRead(input.updates);
  y.clientID = 777;
  const updates = [];
  y.on("update", (u) => updates.push(Buffer.from(u).toString("base64")));
  y.transact(() => {
    const members = y.get("xml", Y.XmlElement).get(0);
    const carol = new Y.XmlElement("member");
    members.push([carol]);
    carol.setAttribute("$id", "00000000-0000-4000-8000-000000000777");
    carol.setAttribute("name", "carol");
  });
  out = { updates };
} else {
  throw new Error("unknown command " + cmd);
}
fs.writeFileSync(outPath, JSON.stringify(out));
"""


def node(cmd: str, **payload: Any) -> dict:
    """Runs the helper above with the SDK's node_modules (stdout is the SDK's debug output)."""
    payload.setdefault("schema", SCHEMA_JSON)
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.json", Path(tmp) / "out.json"
        inp.write_text(json.dumps(payload), encoding="utf-8")
        subprocess.run(
            ["node", "-e", NODE_HELPER, cmd, str(inp), str(outp)],
            cwd=TS,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        return json.loads(outp.read_text(encoding="utf-8"))


def read_everywhere(updates: list[str]) -> tuple[dict, dict]:
    """What each CRDT reader sees, and the SDKs' JSON mirrors (`doc.root`; Python's may be an error)."""
    by_node = node("read", updates=updates)
    python_sdk_crdt, python_sdk_mirror = python_sdk_read(updates)
    read_by = {
        "pycrdt": pycrdt_read(updates),
        "python_sdk_pycrdt_doc": python_sdk_crdt,
        "yjs": by_node["yjs"],
    }
    return read_by, {"python_sdk": python_sdk_mirror, "typescript_sdk": by_node["typescript_sdk"]}


# --------------------------------------------------------------------------- yrs


def yrs_updates() -> dict:
    """The sync tails our SyncDocument sends for the fixture edits (see the Rust test)."""
    env = dict(os.environ, MESHAGENT_SYNC_FIXTURE_PRINT="1")
    run = subprocess.run(
        ["cargo", "test", "-q", "-p", "meshagent-room", "--test", "sync_doc",
         "local_edits_go_out_as_sync_chunks_that_the_sdks_read", "--", "--nocapture"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    for line in run.stdout.splitlines():
        if line.startswith("SYNC_FIXTURE_YRS="):
            return json.loads(line.removeprefix("SYNC_FIXTURE_YRS="))
    raise RuntimeError("the Rust test printed no SYNC_FIXTURE_YRS line:\n" + run.stdout + run.stderr)


# --------------------------------------------------------------------------- Python sync.open session


class SyncRoom(FakeRoom):
    """A fake room that serves one sync.open stream: open, start -> state, acks, close -> close."""

    def __init__(self, state: str) -> None:
        super().__init__(script=[])
        self.state = state.encode("ascii")
        self.events: asyncio.Queue[tuple[str, dict, bytes]] = asyncio.Queue()
        self.call_id: str | None = None
        self.ws = None

    async def _on_message(self, ws, raw) -> None:  # type: ignore[override]
        self.ws = ws
        header, tail = unpack(raw.data)
        self.frames.append(Frame(dir="send", id=raw.id, type=raw.type, header=header, tail=tail, packets=raw.packets))
        if raw.type in NO_REPLY_TYPES:
            return
        if raw.type == "room.invoke_tool" and (header.get("toolkit"), header.get("tool")) == ("sync", "open"):
            self.call_id = header["tool_call_id"]
            await self._send(ws, "__response__", {"type": "control", "method": "open"}, message_id=raw.id)
            return
        if raw.type == "room.tool_call_request_chunk" and header.get("tool_call_id") == self.call_id:
            chunk = header["chunk"]
            await self._send(ws, "__response__", {"type": "empty"}, message_id=raw.id)
            kind = chunk.get("headers", {}).get("kind") if chunk.get("type") == "binary" else chunk.get("method")
            self.events.put_nowait((kind, chunk, tail))
            if kind == "start":
                headers = {"kind": "state", "path": chunk["headers"]["path"], "schema": SCHEMA_JSON}
                await self.respond({"type": "binary", "headers": headers}, self.state)
            elif kind == "close":
                await self.respond(self.server_close(), b"")
            return
        self.errors.append(f"unexpected {raw.type}: {header}")
        await self._send(ws, "__response__", {"type": "error", "text": "unexpected", "code": 1002}, message_id=raw.id)

    @staticmethod
    def server_close() -> dict:
        return {"type": "control", "method": "close", "status_code": 1000}

    async def respond(self, chunk: dict, tail: bytes) -> None:
        await self._send(self.ws, "room.tool_call_response_chunk", {"tool_call_id": self.call_id, "chunk": chunk}, tail)

    async def next(self, kind: str) -> tuple[dict, bytes]:
        got, chunk, tail = await asyncio.wait_for(self.events.get(), TIMEOUT)
        if got != kind:
            raise RuntimeError(f"expected a {kind} chunk, got {got}: {chunk}")
        return chunk, tail

    async def all_syncs(self) -> list[str]:
        """Every sync chunk until the client is quiet for a moment."""
        tails = []
        while True:
            try:
                got, chunk, tail = await asyncio.wait_for(self.events.get(), 0.5)
            except TimeoutError:
                return tails
            if got != "sync":
                raise RuntimeError(f"expected sync chunks, got {got}: {chunk}")
            tails.append(tail.decode("ascii"))


async def python_session(state: str, remote: list[str]) -> dict:
    server = SyncRoom(state)
    port = await server.start()
    initial_json = {"thread": {"name": "x", "properties": []}}
    try:
        protocol = WebSocketClientProtocol(url=f"ws://127.0.0.1:{port}/rooms/{server.room_name}", token=TOKEN)
        room = RoomClient(protocol=protocol)
        async with room:
            with fixed_ids(client_id=2222, first_id=101):
                doc = await asyncio.wait_for(
                    room.sync.open(path=PATH, create=True, initial_json=initial_json, schema=SCHEMA), TIMEOUT
                )
                start, _ = await server.next("start")
                pydoc = crdt.Documents[doc.id].doc
                state_content = pycrdt_content(pydoc)
                _, echo = await server.next("sync")
                messages = doc.root.get_children_by_tag_name("messages")[0]
                messages.append_child("message", {"id": "m2", "author_name": "python", "final": True})
                local = await server.all_syncs()
            remote_chunk = {"type": "binary", "headers": {"kind": "sync", "path": "docs/a.thread"}}
            for u in remote:
                await server.respond(remote_chunk, u.encode("ascii"))
            remote_echo = await server.all_syncs()
            content_after = pycrdt_content(pydoc)
            await asyncio.wait_for(room.sync.close(path=PATH), TIMEOUT)
            client_close, _ = await server.next("close")
        await asyncio.wait_for(server.closed.wait(), TIMEOUT)
    finally:
        await server.stop()
    if server.errors:
        raise RuntimeError("; ".join(server.errors))
    if len(remote) != 1 or len(remote_echo) != 1:
        raise RuntimeError(f"expected one remote update and its echo, got {remote} / {remote_echo}")
    return {
        "sdk": "meshagent-api 0.35.8",
        "call": {"path": PATH, "create": True, "initial_json": initial_json, "schema": SCHEMA_JSON},
        "start": start,
        "state": {
            "chunk": {"type": "binary", "headers": {"kind": "state", "path": "docs/a.thread", "schema": SCHEMA_JSON}},
            "tail": state,
            "content": state_content,
        },
        "echo": echo.decode("ascii"),
        "local": local,
        "remote_sync": {"chunk": remote_chunk, "tail": remote[0]},
        "remote_echo": remote_echo[0],
        "content_after": content_after,
        "client_close": client_close,
        "server_close": SyncRoom.server_close(),
    }


# --------------------------------------------------------------------------- main


def write(name: str, value: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / name).write_text(json.dumps(value, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT / name}")


def main() -> int:
    for name in ("room_server_client", "protocol", "document_runtime", "schema_document"):
        logging.getLogger(name).setLevel(logging.CRITICAL)

    python = python_sdk_updates()
    python["read_by_yjs"] = node("read", updates=python["updates"])["yjs"]
    ts = node("ts_updates", message=MESSAGE, text=TEXT)
    typescript = {
        "sdk": "@meshagent/meshagent 0.35.8 (bundled Yjs)",
        "updates": ts["updates"],
        "content": ts["content"],
        "read_by_pycrdt": pycrdt_read(ts["updates"]),
    }
    for sdk, rec, other in (("python", python, "read_by_yjs"), ("typescript", typescript, "read_by_pycrdt")):
        if rec[other] != rec["content"]:
            raise RuntimeError(f"{sdk}: pycrdt and Yjs disagree on the SDK's updates")
    write("sdk_updates.json", {"python": python, "typescript": typescript})

    yrs = yrs_updates()
    read_by, mirrors = read_everywhere(yrs["updates"])
    accepted = all(v == yrs["content"] for v in read_by.values())
    # The same transactions made with Yjs: the bytes, and the SDK mirrors on them.
    yjs_updates = node("yjs_same_edits", client_id=yrs["client_id"], message=MESSAGE, text=TEXT)["updates"]
    _, yjs_mirrors = read_everywhere(yjs_updates)
    write(
        "yrs_readback.json",
        {
            "note": "updates: the sync tails SyncDocument sent for the fixture edits (yrs, fixed client id); "
            "read_by: what each CRDT reader makes of them (must equal content); yjs_same_edits: Yjs making "
            "the same transactions; sdk_mirrors: the SDKs' JSON views (doc.root), which mishandle remote "
            "text deletions the same way for Yjs's bytes",
            **yrs,
            "read_by": read_by,
            "accepted": accepted,
            "yjs_same_edits": {"updates": yjs_updates, "byte_identical": yjs_updates == yrs["updates"]},
            "sdk_mirrors": {"of_yrs_updates": mirrors, "of_yjs_same_edits": yjs_mirrors},
        },
    )

    remote = node("remote_update", updates=[ts["state"]])["updates"]
    write("python_open.json", asyncio.run(python_session(ts["state"], remote)))
    if not accepted:
        print("NOT ACCEPTED: some reader disagrees with yrs, see yrs_readback.json", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
