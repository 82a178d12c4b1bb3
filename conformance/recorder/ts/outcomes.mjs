// Outcome collection of the TypeScript conformance driver (driver.mjs): the timeouts, how a
// streaming call's return value is read (collect()), and the application callbacks of the push
// events cases (setupEvents()). SDK classes come in as parameters of makeOutcomes(): the SDK is
// loaded by driver.mjs from the scenario's sdk_dir.

import { bytesToBase64 } from "./values.mjs";

export const TIMEOUT_MS = 15000;

export function withTimeout(promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout: ${what}`)), TIMEOUT_MS);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function waitUntil(predicate, what) {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timeout: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

// How long an events scenario keeps listening after the expected events, to catch extra ones
// (as record_python.py's EVENT_SETTLE).
export const EVENT_SETTLE_MS = 100;

function concatBytes(parts) {
  return Buffer.concat(parts.map((p) => Buffer.from(p)));
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

export function makeOutcomes({ meshagent, v039, toJsonable }) {
  const { SecretsClient } = meshagent;

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

  // -------------------------------------------------------------------------- push events

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
        // 0.39.9: registered through the RoomClient options (see driver.mjs, roomClient039()).
        if (!v039) {
          new SecretsClient({
            room,
            oauthTokenRequestHandler: (request) => recordSecrets(events, "secrets.request_oauth_token", request),
            secretRequestHandler: (request) => recordSecrets(events, "secrets.request_secret", request),
          });
        }
      } else if (kind === "room_status") {
        listenStatus(room, events);
      } else {
        throw new Error(`unknown events_setup ${kind}`);
      }
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

  // A secrets handler's request, as an event.
  function recordSecrets(events, packetType, request) {
    events.push({ type: packetType, fields: toJsonable(request, { wireKeys: true }) });
  }

  return { collect, setupEvents, recordSecrets };
}
