// Drives the official TypeScript SDK (@meshagent/meshagent 0.35.8 or 0.39.9) for ONE conformance
// scenario. Both SDK versions use this driver; the SDK is loaded from the folder named by the
// scenario's "sdk_dir" (ts/ holds 0.35.8, ts-0.39/ holds 0.39.9, each with its own node_modules).
// What 0.39.9 does differently (switched on V039 below): RoomClient takes a protocolFactory (it
// reconnects; reconnectTimeout 0 turns that off), start() waits for `connected` and no initial
// attributes are echoed, the secrets handlers are RoomClient options, the room-level status event
// is RoomClient's `room.status`, uuid v4 ids come from the global crypto.randomUUID, and
// fire-and-forget requests (invokeNowait) are waited for.
//
// Usage: node driver.mjs '<scenario JSON>'
//
// The scenario JSON is built by ../record_typescript.py:
//   {
//     "sdk_dir": "/…/conformance/recorder/ts-0.39",  // where the SDK's node_modules are
//     "url": "ws://127.0.0.1:PORT/rooms/test-room", "token": "...",
//     "result_path": "/tmp/.../result.json",        // where the outcome JSON is written
//     "call": ["storage.delete", ["docs/a.txt", {}]] // SDK method path under RoomClient + positional args
//           | null,                                  // no call (push-only scenario)
//     "listen": [["storage", "file.updated"], ...],  // events to register before connecting
//     "wait_participant": "p-remote" | null,         // wait until messaging knows this participant
//     "result_keys": "wire" | null,                  // also snake_case the keys of plain objects
//     "collect": null | "file" | "iterate" | "log_events" | "log_stream" | "exec",
//                                                    // streaming tools: how the outcome is read
//                                                    // from the call's return value (see collect())
//     "ops": [...],                                  // "exec": the operations, in order
//     "uuids": ["..."],                              // the SDK's next uuid v4 draws (request ids)
//     "events_setup": ["messaging", "developer", "status", "secrets"],
//                                                    // application callbacks to register before
//                                                    // connecting (see setupEvents())
//     "expect_events": N | null,                     // set: the outcome is the N events the callbacks
//                                                    // received (after the call, if any)
//     "expect_unhandled": ["..."],                   // messages of unhandled promise rejections the
//                                                    // SDK is expected to cause (any other one fails)
//     "pre_calls": [[path, args], ...] | null,       // 0.39.9: SDK calls made before the recorded one
//     "take": N | null                               // collect "iterate_n": how many items to read
//   }
//
// Special argument values (the rest is plain JSON):
//   {"$bytes": "<base64>"}        -> Uint8Array
//   {"$participant": "<id>"}      -> room.messaging.getParticipant(id) (a RemoteParticipant)
//   {"$file": {"name", "mime_type", "data_base64"}} -> FileContent
//   {"$datatype": <DataType JSON>} -> DataType.fromJson(...)
//   {"$async": [...]}             -> an async iterable of the (revived) items
//   {"$json": <JSON>}             -> JsonContent
//   {"$arrow_table": "<base64>"}  -> an apache-arrow Table (0.39.9), from an Arrow IPC stream
//   {"$arrow_schema": "<base64>"} -> that Table's Schema (0.39.9)
//
// "livekit.*" calls go to `new LivekitClient({room})` from dist/node/lk-client.js: RoomClient has no
// livekit member in 0.35.8 and the class is not exported from the package index.
//
// The SDK prints "GOT RESPONSE ..." to stdout for every response, so nothing here is written to
// stdout: the outcome goes to result_path as JSON, diagnostics go to stderr.
//   {"outcome": {"result": ...}} | {"outcome": {"error": {"code": ..., "text": ...}}}
//   | {"outcome": {"events": [...]}} | {"failure": "..."} (the recorder then fails the scenario)

import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const SDK_DIR = JSON.parse(process.argv[2]).sdk_dir;
const require = createRequire(join(SDK_DIR, "package.json"));
const SDK_VERSION = JSON.parse(
  readFileSync(join(SDK_DIR, "node_modules", "@meshagent", "meshagent", "package.json"), "utf-8"),
).version;
if (SDK_VERSION !== "0.35.8" && SDK_VERSION !== "0.39.9") throw new Error(`unsupported SDK ${SDK_VERSION}`);
const V039 = SDK_VERSION === "0.39.9";

// "seed_random": a deterministic crypto.getRandomValues, installed before the SDK loads (its bundled
// Yjs binds it at load time and draws document client ids from it).
if (JSON.parse(process.argv[2]).seed_random) {
  let seed = 7;
  const realCrypto = globalThis.crypto;
  Object.defineProperty(globalThis, "crypto", {
    configurable: true,
    value: {
      subtle: realCrypto.subtle,
      randomUUID: () => realCrypto.randomUUID(),
      getRandomValues: (arr) => {
        for (let i = 0; i < arr.length; i++) {
          seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
          arr[i] = seed;
        }
        return arr;
      },
    },
  });
}

const meshagent = require("@meshagent/meshagent");
const { LivekitClient } = require(join(dirname(require.resolve("@meshagent/meshagent")), "lk-client.js"));
const {
  RoomClient,
  WebSocketClientProtocol,
  RoomServerException,
  StorageEntry,
  Queue,
  JsonContent,
  TextContent,
  EmptyContent,
  BinaryContent,
  FileContent,
  LinkContent,
  ErrorContent,
  ControlContent,
  SecretsClient,
  splitMessageHeader,
  splitMessagePayload,
  DataType,
} = meshagent;

// Arrow values (dataset, 0.39.9): the SDK's own apache-arrow module.
const arrow = V039 ? require("apache-arrow") : null;

const TIMEOUT_MS = 15000;

function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function waitUntil(predicate, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timeout: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// ---------------------------------------------------------------------------- arguments

function reviveArg(value, room) {
  if (Array.isArray(value)) return value.map((v) => reviveArg(v, room));
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$bytes") {
      return new Uint8Array(Buffer.from(value.$bytes, "base64"));
    }
    if (keys.length === 1 && keys[0] === "$file") {
      const f = value.$file;
      return new FileContent({
        data: new Uint8Array(Buffer.from(f.data_base64, "base64")),
        name: f.name,
        mimeType: f.mime_type,
      });
    }
    if (keys.length === 1 && keys[0] === "$arrow_table") {
      return arrow.tableFromIPC(new Uint8Array(Buffer.from(value.$arrow_table, "base64")));
    }
    if (keys.length === 1 && keys[0] === "$arrow_schema") {
      return arrow.tableFromIPC(new Uint8Array(Buffer.from(value.$arrow_schema, "base64"))).schema;
    }
    if (keys.length === 1 && keys[0] === "$json") {
      return new JsonContent({ json: value.$json });
    }
    if (keys.length === 1 && keys[0] === "$datatype") {
      return DataType.fromJson(value.$datatype);
    }
    if (keys.length === 1 && keys[0] === "$async") {
      const items = value.$async.map((v) => reviveArg(v, room));
      return (async function* () {
        for (const item of items) yield item;
      })();
    }
    if (keys.length === 1 && keys[0] === "$participant") {
      const p = room.messaging.getParticipant(value.$participant);
      if (p === null) throw new Error(`no participant ${value.$participant}`);
      return p;
    }
    const out = {};
    for (const k of keys) out[k] = reviveArg(value[k], room);
    return out;
  }
  return value;
}

// ---------------------------------------------------------------------------- outcome conversion

function camelToSnake(name) {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function bytesToBase64(bytes) {
  return Buffer.from(bytes).toString("base64");
}

function contentToJson(content) {
  // A Content -> its wire header (as the SDK would pack it), plus `data`: the payload as base64 if
  // any (same convention as record_python.py).
  const packed = content.pack();
  const header = JSON.parse(splitMessageHeader(packed));
  const payload = splitMessagePayload(packed);
  if (payload.length > 0) header["data"] = bytesToBase64(payload);
  return header;
}

const CONTENT_CLASSES = [
  JsonContent,
  TextContent,
  EmptyContent,
  BinaryContent,
  FileContent,
  LinkContent,
  ErrorContent,
  ControlContent,
];

// Class instances -> plain objects with wire (snake_case) field names; plain objects (JSON the
// server sent and the SDK passed through) keep their keys as they are, unless opts.wireKeys is set
// (results the SDK builds as camelCase plain objects, e.g. memory/containers/services records).
// Content -> wire header (+ `data`), Date -> ISO string, Uint8Array -> base64, undefined -> null.
function toJsonable(value, opts = {}) {
  const rec = (v) => toJsonable(v, opts);
  if (value === undefined || value === null) return null;
  if (typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`non-finite number ${value}`);
    return value;
  }
  if (typeof value === "bigint") return Number(value);
  if (value instanceof Date) return value.toISOString();
  // apache-arrow: a Table as its rows, a Schema as [{name, type, nullable}] (type: the arrow-js
  // type's toString()).
  if (arrow?.isArrowTable(value)) return value.toArray().map((row) => rec(row.toJSON()));
  if (arrow?.isArrowSchema(value)) {
    return value.fields.map((f) => ({ name: f.name, type: String(f.type), nullable: f.nullable }));
  }
  if (value instanceof Uint8Array) return bytesToBase64(value); // bytes -> base64 text
  if (Array.isArray(value)) return value.map(rec);
  if (value instanceof Map) {
    const out = {};
    for (const [k, v] of value.entries()) out[String(k)] = rec(v);
    return out;
  }
  if (typeof value === "object") {
    if (CONTENT_CLASSES.some((cls) => value instanceof cls)) return contentToJson(value);
    const proto = Object.getPrototypeOf(value);
    const isPlain = proto === Object.prototype || proto === null;
    if (!isPlain && typeof value.toJson === "function") return rec(value.toJson());
    const out = {};
    for (const [k, v] of Object.entries(value)) {
      if (isPlain) {
        out[opts.wireKeys ? camelToSnake(k) : k] = rec(v);
      } else {
        if (k.startsWith("_") || typeof v === "function") continue;
        if (k === "client" || k === "room") continue; // back references to the RoomClient
        out[camelToSnake(k)] = rec(v);
      }
    }
    return out;
  }
  throw new Error(`cannot convert ${typeof value} to JSON`);
}

function errorOutcome(ex) {
  return { error: { code: ex.code === undefined ? null : ex.code, text: ex.message } };
}

// ---------------------------------------------------------------------------- streaming tools

function concatBytes(parts) {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
}

// The outcome of a streaming call, from the SDK method's return value (scenario.collect):
//   "file"       FileContent (storage.download)   -> {name, mime_type, size, data}
//   "iterate"    async iterable (sql/searchStream) -> one entry per item
//   "log_events" async iterable of RoomLogEvent   -> [{type, data}]
//   "log_stream" {stream, result} (containers)    -> one entry per string item; `result` awaited
//   "exec"       ExecSession: scenario.ops applied -> {stdout, stderr, exit_code}
async function collect(kind, value, scenario, opts) {
  if (kind === "file") {
    return { name: value.name, mime_type: value.mimeType, size: value.data.length, data: bytesToBase64(value.data) };
  }
  if (kind === "iterate") {
    const out = [];
    for await (const item of value) out.push(toJsonable(item, opts));
    return out;
  }
  if (kind === "iterate_n") {
    // An unbounded stream (dataset.watchTable): the first scenario.take items, then stop.
    const out = [];
    const iterator = value[Symbol.asyncIterator]();
    while (out.length < scenario.take) {
      const next = await iterator.next();
      if (next.done) break;
      out.push(toJsonable(next.value, opts));
    }
    await iterator.return?.();
    return out;
  }
  if (kind === "log_events") {
    const out = [];
    for await (const event of value) out.push({ type: event.type, data: toJsonable(event.data) });
    return out;
  }
  if (kind === "log_stream") {
    const out = [];
    for await (const line of value.stream) out.push(line);
    await value.result; // rejects with what the stream failed with
    return out;
  }
  if (kind === "sync") {
    // value: the opened MeshDocument. Apply scenario.ops, wait until the server's remote update
    // arrived (scenario.sync_children children under the root) and its echo was answered, close.
    const doc = value;
    for (const op of scenario.ops ?? []) {
      const [name, arg] = Object.entries(op)[0];
      if (name !== "append_child") throw new Error(`sync op ${name}`);
      doc.root.createChildElement(arg.tag, { ...arg.attributes });
    }
    await waitUntil(() => doc.root.getChildren().length >= scenario.sync_children, "the remote update");
    await new Promise((resolve) => setTimeout(resolve, 20));
    await waitUntil(() => scenario.room._pendingRequests.size === 0, "the echo of the remote update");
    const document = elementJson(doc.root);
    await scenario.room.sync.close(scenario.sync_path);
    return { document };
  }
  if (kind === "exec") {
    for (const op of scenario.ops ?? []) {
      const [name, arg] = Object.entries(op)[0];
      if (name === "stdin") await value.write(new Uint8Array(Buffer.from(arg, "base64")));
      else if (name === "resize") await value.resize({ width: arg.width, height: arg.height });
      else if (name === "kill") await value.kill();
      else throw new Error(`exec op ${name} is not available in the TypeScript SDK`);
    }
    const exitCode = await value.result;
    return {
      stdout: bytesToBase64(concatBytes(value.previousOutput)),
      stderr: bytesToBase64(concatBytes(value.previousError)),
      exit_code: exitCode ?? null,
    };
  }
  throw new Error(`unknown collect ${kind}`);
}

// The same JSON view as the Python SDK's Element.to_json(): {tag: {attributes but $id,
// <child property>: [children]}}.
function elementJson(element) {
  const props = {};
  for (const [k, v] of Object.entries(element.attributes)) if (k !== "$id") props[k] = v;
  const childName = element.elementType?.childPropertyName;
  if (childName) props[childName] = element.getChildren().map(elementJson);
  return { [element.tagName]: props };
}

// ---------------------------------------------------------------------------- push events

// The application callbacks of an events scenario, registered before the room connects. One
// entry per callback invocation, in the Python cases' shape: {type: <packet type>, fields}.
//   "messaging"  room.messaging.on(<callback>): every callback gets {message: RoomMessage} (a
//                RoomMessageEvent for "message"). fields: {event: <callback name>, message:
//                {from_participant_id, type, message, attachment (base64)}, remote_participants:
//                the list right after the callback}.
//   "developer"  room.developer.on("log"): a RoomLogEvent -> fields {type, data} (undefined -> null).
//   "status"     room.sync.on("status"): {type: "status", status} -> fields {status} (the `type` is
//                the emitter's tag, not packet data).
//   "secrets"    new SecretsClient({room, oauthTokenRequestHandler, secretRequestHandler}): RoomClient
//                passes no handlers to its own SecretsClient; a second one replaces its protocol
//                handlers. fields: the request object the handler got, keys snake_cased.
function participantJson(p) {
  return { id: p.id, role: p.role, attributes: toJsonable(p._attributes), online: p.online };
}

function setupEvents(room, kinds, events) {
  for (const kind of kinds) {
    if (kind === "messaging") {
      const m = room.messaging;
      const snapshot = () => m.remoteParticipants.map(participantJson);
      for (const name of [
        "messaging_enabled",
        "participant_added",
        "participant_attributes_updated",
        "participant_removed",
        "message",
      ]) {
        m.on(name, (ev) => {
          const msg = ev.message;
          events.push({
            type: "messaging.send",
            fields: {
              event: name,
              message: {
                from_participant_id: toJsonable(msg.fromParticipantId),
                type: toJsonable(msg.type),
                message: toJsonable(msg.message),
                attachment: bytesToBase64(msg.attachment ?? new Uint8Array()),
              },
              remote_participants: snapshot(),
            },
          });
        });
      }
    } else if (kind === "developer") {
      room.developer.on("log", (ev) => {
        events.push({ type: "developer.log", fields: { type: toJsonable(ev.type), data: toJsonable(ev.data) } });
      });
    } else if (kind === "status") {
      room.sync.on("status", (ev) => {
        const { type: _tag, ...fields } = ev;
        events.push({ type: "room.status", fields: toJsonable(fields) });
      });
    } else if (kind === "secrets") {
      // 0.39.9: registered through the RoomClient options (see run()).
      if (!V039) {
        new SecretsClient({
          room,
          oauthTokenRequestHandler: (request) => recordSecrets("secrets.request_oauth_token", request),
          secretRequestHandler: (request) => recordSecrets("secrets.request_secret", request),
        });
      }
    } else if (kind === "room_status") {
      listenStatus(room, events);
    } else {
      throw new Error(`unknown events_setup ${kind}`);
    }
  }
}

// How long an events scenario keeps listening after the expected events, to catch extra ones
// (as record_python.py's EVENT_SETTLE).
const EVENT_SETTLE_MS = 100;

// The SDK draws request ids with uuid v4 (node's crypto.randomUUID through the `uuid` package):
// the next draws return these fixed values, later ones are random again.
function fixUuids(values) {
  if (!values || values.length === 0) return;
  if (!V039) {
    // uuid (0.35.8's dependency) keeps its own reference to crypto.randomUUID in native.js.
    const native = require(join(dirname(require.resolve("uuid")), "native.js")).default;
    const realNative = native.randomUUID;
    const pending = [...values];
    native.randomUUID = (...args) => (pending.length > 0 ? pending.shift() : realNative(...args));
    return;
  }
  // uuid 14 (0.39.9's dependency) draws v4 ids from the global crypto.randomUUID at call time.
  const current = globalThis.crypto;
  const real = current.randomUUID.bind(current);
  const queue = [...values];
  Object.defineProperty(globalThis, "crypto", {
    configurable: true,
    value: new Proxy(current, {
      get(target, prop) {
        if (prop === "randomUUID") return () => (queue.length > 0 ? queue.shift() : real());
        const v = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    }),
  });
}

// "pre_calls": SDK calls made before the recorded one (e.g. messaging.enable before a send), in
// order; their values are not recorded.
async function preCalls(room, calls) {
  for (const [path, rawArgs] of calls ?? []) {
    const parts = path.split(".");
    let target = room;
    for (const p of parts.slice(0, -1)) target = target[p];
    await withTimeout(Promise.resolve(target[parts[parts.length - 1]](...reviveArg(rawArgs, room))), `room.${path}()`);
  }
}

// "room_status": RoomClient emits a RoomStatusEvent under the status' own name, so the driver
// reads them from room.listen().
function listenStatus(room, events) {
  (async () => {
    for await (const ev of room.listen()) {
      if (ev instanceof meshagent.RoomStatusEvent) events.push({ type: "room.status", fields: toJsonable(ev) });
    }
  })().catch(() => undefined);
}

// ---------------------------------------------------------------------------- main

const events = [];
function recordSecrets(packetType, request) {
  events.push({ type: packetType, fields: toJsonable(request, { wireKeys: true }) });
}

// 0.39.9: RoomClient takes a protocolFactory and would reconnect (reconnectTimeout 0: one
// connection); the secrets handlers are its options.
function roomClient039(scenario, protocol) {
  let factoryCalls = 0;
  const secretsOptions = {};
  if ((scenario.events_setup ?? []).includes("secrets")) {
    secretsOptions.oauthTokenRequestHandler = (request) => {
      recordSecrets("secrets.request_oauth_token", request);
    };
    secretsOptions.secretRequestHandler = (request) => {
      recordSecrets("secrets.request_secret", request);
    };
  }
  return new RoomClient({
    protocolFactory: () => {
      factoryCalls += 1;
      if (factoryCalls > 1) throw new Error("a second connection was attempted");
      return protocol;
    },
    reconnectTimeout: 0,
    ...secretsOptions,
  });
}

async function run(scenario) {
  const protocol = new WebSocketClientProtocol({ url: scenario.url, token: scenario.token });
  const room = V039 ? roomClient039(scenario, protocol) : new RoomClient({ protocol });

  // Every protocol.send (requests and set_attributes) is tracked so that nothing still queued is
  // lost when the socket is closed at the end. This does not change what goes on the wire.
  const pendingSends = new Set();
  const originalSend = protocol.send.bind(protocol);
  protocol.send = (...args) => {
    const p = originalSend(...args);
    pendingSends.add(p);
    p.finally(() => pendingSends.delete(p)).catch(() => undefined);
    return p;
  };

  // Streaming tools: note when the client's request-side control/close was answered.
  let closeAnswered = false;
  const originalSendRequest = room.sendRequest.bind(room);
  room.sendRequest = async (type, request, data) => {
    const response = await originalSendRequest(type, request, data);
    if (type === "room.tool_call_request_chunk" && request?.chunk?.type === "control" && request.chunk.method === "close") {
      closeAnswered = true;
    }
    return response;
  };

  const listen = scenario.listen ?? [];
  for (const [clientName, eventName] of listen) {
    room[clientName].on(eventName, (ev) => {
      events.push({ type: `${clientName}.${eventName}`, fields: toJsonable(ev) });
    });
  }

  setupEvents(room, scenario.events_setup ?? [], events);

  let outcome;
  try {
    await withTimeout(room.start(), "room.start()");
    // 0.35.8: start() resolves on room_ready; the LocalParticipant (and the set_attributes echo of
    // the initial attributes) only exists once "connected" has been handled. Wait for it so that
    // the echo always comes first and always takes message id 0. 0.39.9: start() also waits for
    // "connected"; nothing is echoed.
    await waitUntil(() => room.localParticipant !== null, "connected/init");
    await preCalls(room, scenario.pre_calls);
    if (scenario.wait_participant) {
      await waitUntil(
        () => room.messaging.getParticipant(scenario.wait_participant) !== null,
        `participant ${scenario.wait_participant}`,
      );
    }

    if (scenario.expect_events !== null && scenario.expect_events !== undefined) {
      // Events outcome: make the call first, if any (its value is not recorded), then wait for the
      // expected events and a little longer, to catch extra ones.
      if (scenario.call) {
        const [path, rawArgs] = scenario.call;
        const parts = path.split(".");
        let target = room;
        for (const p of parts.slice(0, -1)) target = target[p];
        await withTimeout(target[parts[parts.length - 1]](...reviveArg(rawArgs, room)), `room.${path}()`);
      }
      await waitUntil(() => events.length >= scenario.expect_events, `${scenario.expect_events} events`).catch((ex) => {
        throw new Error(`${ex.message}, got ${events.length}: ${JSON.stringify(events)}`);
      });
      await new Promise((resolve) => setTimeout(resolve, EVENT_SETTLE_MS));
      if (events.length !== scenario.expect_events) {
        throw new Error(`expected ${scenario.expect_events} events, got ${events.length}: ${JSON.stringify(events)}`);
      }
      outcome = { events };
    } else if (scenario.call) {
      const [path, rawArgs] = scenario.call;
      if (path.startsWith("livekit.")) room.livekit = new LivekitClient({ room });
      const parts = path.split(".");
      let target = room;
      for (const p of parts.slice(0, -1)) target = target[p];
      const fn = target[parts[parts.length - 1]];
      if (typeof fn !== "function") throw new Error(`no SDK method room.${path}`);
      const args = reviveArg(rawArgs, room);
      const opts = { wireKeys: scenario.result_keys === "wire" };
      scenario.room = room;
      fixUuids(scenario.uuids);
      try {
        if (scenario.collect === "sync") {
          args[1] = { ...args[1], schema: meshagent.MeshSchema.fromJson(args[1].schema) };
        }
        if (scenario.collect) {
          const value = await withTimeout(Promise.resolve(fn.apply(target, args)), `room.${path}()`);
          const result = await withTimeout(collect(scenario.collect, value, scenario, opts), `collect ${path}`);
          outcome = { result };
        } else {
          const result = await withTimeout(fn.apply(target, args), `room.${path}()`);
          outcome = { result: toJsonable(result, opts) };
        }
      } catch (ex) {
        if (ex instanceof RoomServerException) {
          outcome = errorOutcome(ex);
        } else if (scenario.collect && !String(ex?.message).startsWith("timeout:")) {
          // A streaming call that fails with a plain Error (developer.logs throws `new Error(text)`
          // for an error chunk): recorded as an error outcome with code null.
          outcome = errorOutcome(ex);
        } else {
          throw ex;
        }
      }
    } else {
      await waitUntil(() => events.length >= listen.length, "events");
      outcome = { events };
    }
    await withTimeout(Promise.allSettled([...pendingSends]), "pending sends");
    if (V039) {
      // Fire-and-forget requests (invokeNowait): wait until their (ignored) replies arrived.
      await waitUntil(() => room._ignoredResponseLabels.size === 0, "replies to fire-and-forget requests");
    }
    if (scenario.wait_requests) {
      // Streaming tools: the closing request chunk may be sent after the call returned; wait until
      // every request was answered.
      // "close": until the request-side control/close was answered; "pending": the SDK sends no
      // close in this case, until every request sent so far was answered.
      const needClose = scenario.wait_requests === "close";
      await waitUntil(() => (closeAnswered || !needClose) && room._pendingRequests.size === 0, "the closing request chunk");
      await withTimeout(Promise.allSettled([...pendingSends]), "pending sends");
    }
  } finally {
    const ws = protocol.channel.webSocket;
    room.dispose();
    if (ws) {
      await withTimeout(
        new Promise((resolve) => {
          if (ws.readyState === ws.CLOSED) resolve();
          else ws.addEventListener("close", () => resolve());
        }),
        "websocket close",
      ).catch(() => undefined);
    }
  }
  return outcome;
}

const scenario = JSON.parse(process.argv[2]);

// The SDK calls its protocol handlers without awaiting them: a handler that throws (the secrets
// handlers when no callback was given) becomes an unhandled promise rejection, which would end
// this process. Record them instead; the scenario lists the ones it expects.
const unhandled = [];
process.on("unhandledRejection", (reason) => {
  unhandled.push(reason?.message ?? String(reason));
});

let report;
try {
  report = { outcome: await run(scenario) };
  const expected = scenario.expect_unhandled ?? [];
  if (JSON.stringify(unhandled) !== JSON.stringify(expected)) {
    report = { failure: `unhandled rejections ${JSON.stringify(unhandled)}, expected ${JSON.stringify(expected)}` };
  }
} catch (ex) {
  report = { failure: `${ex?.name ?? "Error"}: ${ex?.message ?? String(ex)}` };
}
writeFileSync(scenario.result_path, JSON.stringify(report));
// Exit explicitly: the SDK may keep timers or sockets alive after dispose().
process.exit(0);
